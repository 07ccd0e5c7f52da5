"""The audit log in real Chromium: an administrator changes a setting in Server settings, someone fails to log in,
and the administrator opens the audit log from Server settings, sees both, narrows the list to failed logins and
downloads it as CSV; the page reads well on a desktop and on a phone."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_support import ADMIN, DESKTOP, PHONE, ConsoleLog, screenshot, skip_tour
from playwright.sync_api import Browser, BrowserContext, expect

from support import RunningServer, start_server

SHOTS = Path("/tmp/shots-audit")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("audit-ui"))
    assert httpx.get(f"{server.url}/api/v1/health").json()["ui"], "web_dist/ is not built: cd web && npm run build"
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    yield server
    server.stop()


def admin_context(browser: Browser, url: str, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(viewport=viewport, accept_downloads=True)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    answer = context.request.post(f"{url}/api/v1/auth/login", data={"username": ADMIN.username,
                                                                     "password": ADMIN.password})
    assert answer.ok, answer.text()
    skip_tour(context, url)
    return context


def test_an_administrator_finds_a_failed_login_and_a_settings_change(browser: Browser, server: RunningServer,
                                                                     console: ConsoleLog, tmp_path: Path) -> None:
    url = server.url
    refused = httpx.post(f"{url}/api/v1/auth/login", json={"username": "mallory-guess", "password": "hunter2!!"},
                         headers={"User-Agent": "guessing-script/0.1"}, timeout=30)
    assert refused.status_code == 401
    context = admin_context(browser, url, DESKTOP)
    try:
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/admin")
        guests = page.get_by_test_id("switch-guests")
        was = guests.get_attribute("aria-checked")
        guests.click()
        expect(guests).not_to_have_attribute("aria-checked", was or "")
        page.get_by_test_id("open-audit").click()
        expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
        rows = page.get_by_test_id("audit-entry")
        failed = rows.filter(has=page.get_by_text("mallory-guess"))
        expect(failed.first).to_have_attribute("data-action", "auth.login_failed")
        expect(failed.first).to_contain_text("Failed login")
        expect(failed.first).to_contain_text("guessing-script/0.1")
        changed = rows.and_(page.locator('[data-action="settings.access"]'))
        expect(changed.first).to_contain_text("guests enabled")
        screenshot(page, "audit-desktop")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "audit-desktop.png"), full_page=True)

        page.get_by_test_id("audit-action").select_option("auth.login_failed")
        expect(rows.and_(page.locator('[data-action="settings.access"]'))).to_have_count(0)
        expect(rows.first).to_have_attribute("data-action", "auth.login_failed")
        with page.expect_download() as download_info:
            page.get_by_test_id("audit-download-csv").click()
        saved = tmp_path / "audit.csv"
        download_info.value.save_as(saved)
        cells = list(csv.DictReader(io.StringIO(saved.read_text())))
        assert {row["action"] for row in cells} == {"auth.login_failed"}
        assert "mallory-guess" in {row["actor_name"] for row in cells}

        page.get_by_test_id("audit-clear").click()
        expect(rows.and_(page.locator('[data-action="settings.access"]')).first).to_be_visible()
        assert console.unexpected() == []
    finally:
        context.close()


def test_the_audit_log_reads_on_a_phone(browser: Browser, server: RunningServer, console: ConsoleLog) -> None:
    context = admin_context(browser, server.url, PHONE)
    try:
        page = context.new_page()
        console.watch(page)
        page.goto(f"{server.url}/admin/audit")
        entry = page.get_by_test_id("audit-entry").first
        expect(entry).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
        who = page.get_by_test_id("audit-by")
        expect(who).to_be_hidden()  # a phone shows the first two filters until asked for the rest
        page.get_by_role("button", name="More filters").click()
        expect(who).to_be_visible()
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "audit-phone-filters.png"))
        entry.scroll_into_view_if_needed()
        screenshot(page, "audit-phone")
        page.screenshot(path=str(SHOTS / "audit-phone.png"))
        assert console.unexpected() == []
    finally:
        context.close()
