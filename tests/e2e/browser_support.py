"""Browser-test helpers: console watching, screenshots, viewport sizes."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page

from support import REPO

SCREENSHOTS = REPO / "test-results" / "e2e"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


class ConsoleLog:
    """Console errors and uncaught page errors seen during a test."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
