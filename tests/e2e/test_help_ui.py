"""The sheet of keyboard shortcuts, in real Chromium: `?` opens it from any page (not while typing), Escape closes
it, and the account menu's "Keyboard shortcuts" opens it too, on a phone as well."""

from __future__ import annotations

from pathlib import Path

from browser_support import ConsoleLog, create_project
from playwright.sync_api import BrowserContext, Page, expect

SHOTS = Path("/tmp/shots-help")


def test_question_mark_opens_the_shortcut_sheet_but_not_while_typing(page: Page, studio_url: str,
                                                                     console: ConsoleLog) -> None:
    page.goto(f"{studio_url}/")
    search = page.get_by_role("searchbox").first
    expect(search).to_be_visible()
    search.click()
    page.keyboard.type("what?")
    sheet = page.get_by_test_id("shortcut-sheet")
    expect(search).to_have_value("what?")
    expect(sheet).to_be_hidden()
    search.blur()
    page.keyboard.press("Shift+Slash")  # "?" on most layouts
    expect(sheet).to_be_visible()
    expect(sheet).to_contain_text("Undo your last change")
    expect(sheet).to_contain_text("Show or hide the Inspector panel")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "sheet-desktop.png"))
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    assert console.unexpected() == []


def test_the_account_menu_opens_it_in_the_studio_on_a_phone(phone: BrowserContext, studio_url: str,
                                                           console: ConsoleLog) -> None:
    project = create_project(phone, studio_url, "Help on a phone", "text-to-image")
    page = phone.new_page()
    console.watch(page)
    page.goto(f"{studio_url}/projects/{project['id']}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    page.get_by_test_id("account-menu").click()
    page.get_by_test_id("menu-shortcuts").click()
    sheet = page.get_by_test_id("shortcut-sheet")
    expect(sheet).to_be_visible()
    box = sheet.bounding_box()
    assert box is not None and box["width"] <= 390
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "sheet-phone.png"))
    sheet.get_by_role("button", name="Close").click()
    expect(sheet).to_be_hidden()
    assert console.unexpected() == []
