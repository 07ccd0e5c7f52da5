"""Browser tests: Python Playwright driving Debian's Chromium against a real server on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
from browser_support import DESKTOP, PHONE, ConsoleLog
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from support import RunningServer

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install -y chromium "
                    "(scripts/test installs it).")
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def studio_url(shared_server: RunningServer) -> str:
    health = httpx.get(f"{shared_server.url}/api/v1/health").json()
    assert health["ui"], "web_dist/ is not built: cd web && npm install && npm run build"
    return shared_server.url


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


def _context(browser: Browser, **options: object) -> Iterator[BrowserContext]:
    context = browser.new_context(**options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh desktop browser profile (empty storage, no service worker yet)."""
    yield from _context(browser, viewport=DESKTOP)


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh phone-sized touch profile."""
    yield from _context(browser, viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)


@pytest.fixture
def page(desktop: BrowserContext, console: ConsoleLog) -> Page:
    page = desktop.new_page()
    console.watch(page)
    return page
