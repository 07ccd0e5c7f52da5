"""Who the studio is for, in real Chromium: the setup page's three cards ("Just me" picked first), the choice
carried into Server settings, custom switches, and a mode picked again by keyboard."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from browser_support import ADMIN, ConsoleLog, screenshot
from playwright.sync_api import BrowserContext, Page, expect

from support import RunningServer

# The studio's own defaults: no MEDIASTUDIO_* switches (the test harness opens them otherwise).
STUDIO_DEFAULTS = {"MEDIASTUDIO_REGISTRATION_OPEN": "", "MEDIASTUDIO_GUESTS_ENABLED": ""}


def _radio(page: Page, title: str) -> object:
    return page.get_by_role("radio", name=title)


def test_setup_for_my_team_then_server_settings_show_it_and_change_it(
        server_factory: Callable[..., RunningServer], anonymous: BrowserContext, console: ConsoleLog) -> None:
    url = server_factory(env=STUDIO_DEFAULTS).url
    page = anonymous.new_page()
    console.watch(page)
    page.goto(url)
    expect(page).to_have_url(f"{url}/setup")
    choice = page.get_by_role("group", name="Who is this studio for?")
    expect(choice.get_by_role("radio")).to_have_count(3)
    expect(page.get_by_role("radio", name="Just me on this machine")).to_be_checked()
    expect(page.get_by_test_id("reach-note")).to_have_count(0)  # just me, on 127.0.0.1: all is as it should be

    page.get_by_label("Username").fill(ADMIN.username)
    page.get_by_label("Display name").fill(ADMIN.display_name)
    page.get_by_label("Password", exact=True).fill(ADMIN.password)
    page.get_by_label("Repeat the password").fill(ADMIN.password)
    page.get_by_test_id("mode-team").click()
    expect(page.get_by_role("radio", name="My team on our network")).to_be_checked()
    expect(page.get_by_test_id("reach-note")).to_contain_text("--host 0.0.0.0")  # it listens on 127.0.0.1 only
    screenshot(page, "setup-modes-desktop")
    page.get_by_role("button", name="Create administrator account").click()
    expect(page.get_by_test_id("project-gallery")).to_be_visible()
    config = httpx.get(f"{url}/api/v1/auth/config").json()
    assert (config["mode"], config["registration_open"], config["guests_enabled"]) == ("team", False, False)

    page.goto(f"{url}/admin")
    card = page.get_by_test_id("mode-card")
    expect(card.get_by_role("heading", name="Who is this studio for")).to_be_visible()
    expect(card.get_by_role("radio", name="My team on our network")).to_be_checked()
    expect(card.get_by_test_id("reach-note")).to_contain_text("Others cannot reach this studio yet")
    expect(page.get_by_test_id("switch-registration")).to_have_attribute("aria-checked", "false")
    expect(page.get_by_test_id("switch-guests")).to_have_attribute("aria-checked", "false")
    expect(card.get_by_test_id("mode-custom")).to_have_count(0)

    page.get_by_test_id("switch-guests").click()  # one switch on its own: the mode is now "custom"
    expect(card.get_by_test_id("mode-custom")).to_be_visible()
    expect(card.get_by_test_id("mode-state")).to_contain_text("no longer exactly “My team on our network”")
    screenshot(page, "admin-mode-custom-desktop")
    card.get_by_role("button", name="Back to its defaults").click()
    expect(page.get_by_test_id("switch-guests")).to_have_attribute("aria-checked", "false")
    expect(card.get_by_test_id("mode-custom")).to_have_count(0)

    # By keyboard: arrows move through the cards, and each card picked applies at once.
    card.get_by_role("radio", name="My team on our network").focus()
    page.keyboard.press("ArrowDown")
    expect(card.get_by_role("radio", name="A class or open studio")).to_be_checked()
    expect(card.get_by_role("status").first).to_contain_text("registration open, guests on")
    expect(page.get_by_test_id("switch-registration")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("switch-guests")).to_have_attribute("aria-checked", "true")
    config = httpx.get(f"{url}/api/v1/auth/config").json()
    assert (config["mode"], config["custom"], config["registration_open"]) == ("class", False, True)
    assert console.errors == []
