"""The server settings' People card, in real Chromium: an administrator adds a person, resets their password (the
new one shown once, and it works), disables and enables them, makes them administrator, and deletes another
person handing their projects to someone; on a phone too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_support import ADMIN, DESKTOP, PHONE, ConsoleLog, skip_tour
from playwright.sync_api import Browser, BrowserContext, Page, expect

from support import ApiClient, start_server

SHOTS = Path("/tmp/shots-people")
PASSWORD = "amber kettle orbit"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_server(tmp_path_factory.mktemp("people-ui"), env={"MEDIASTUDIO_PROBE_GPU": "0"})
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    yield server.url
    server.stop()


def _admin(browser: Browser, url: str, **options: object) -> BrowserContext:
    context = browser.new_context(**({"viewport": DESKTOP} | options))  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    answer = context.request.post(f"{url}/api/v1/auth/login",
                                  data={"username": ADMIN.username, "password": ADMIN.password})
    assert answer.ok, answer.text()
    skip_tour(context, url)
    return context


def _act(page: Page, username: str, action: str) -> None:
    row = page.locator(f'[data-testid="person-row"][data-username="{username}"]')
    row.get_by_test_id("person-menu").click()
    page.get_by_test_id(action).click()


def _logs_in(url: str, username: str, password: str) -> bool:
    with ApiClient(url) as client:
        return client.post("/api/v1/auth/login", json={"username": username, "password": password}).is_success


def test_an_administrator_manages_people_from_the_server_settings(browser: Browser, url: str,
                                                                  console: ConsoleLog) -> None:
    with ApiClient(url) as leaver:
        leaver.register("leaving-lou", PASSWORD)
        film = leaver.post("/api/v1/projects", json={"name": "Lou's film"}).json()
    context = _admin(browser, url)
    try:
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/admin")
        card = page.get_by_test_id("people-card")
        expect(card.locator('[data-testid="person-row"][data-username="admin"]')).to_contain_text("(you)")

        page.get_by_test_id("people-add").click()
        form = page.get_by_test_id("people-add-form")
        form.get_by_label("Username").fill("new-nia")
        form.get_by_label("Display name").fill("Nia New")
        form.get_by_label("Password").fill(PASSWORD)
        form.get_by_role("button", name="Create the account").click()
        row = page.locator('[data-testid="person-row"][data-username="new-nia"]')
        expect(row).to_contain_text("Nia New")
        assert _logs_in(url, "new-nia", PASSWORD)

        _act(page, "new-nia", "person-reset")
        made = page.get_by_test_id("person-password")
        expect(made).to_be_visible()
        password = made.input_value()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "password-desktop.png"))
        page.keyboard.press("Escape")
        assert _logs_in(url, "new-nia", password) and not _logs_in(url, "new-nia", PASSWORD)

        _act(page, "new-nia", "person-disable-toggle")
        expect(row.get_by_test_id("person-disabled")).to_be_visible()
        assert not _logs_in(url, "new-nia", password)
        _act(page, "new-nia", "person-disable-toggle")
        expect(row.get_by_test_id("person-disabled")).to_have_count(0)
        _act(page, "new-nia", "person-admin-toggle")
        expect(row.get_by_test_id("person-admin")).to_be_visible()

        # Lou leaves; their film goes to Nia.
        _act(page, "leaving-lou", "person-delete")
        dialog = page.get_by_test_id("person-delete-dialog")
        dialog.get_by_test_id("projects-heir").select_option(label="Nia New (@new-nia)")
        page.screenshot(path=str(SHOTS / "delete-desktop.png"))
        dialog.get_by_test_id("person-delete-confirm").click()
        expect(page.locator('[data-testid="person-row"][data-username="leaving-lou"]')).to_have_count(0)
        expect(card).to_contain_text("their projects went to Nia New")
        with ApiClient(url) as nia:
            assert nia.post("/api/v1/auth/login", json={"username": "new-nia", "password": password}).is_success
            assert nia.get(f"/api/v1/projects/{film['id']}").json()["name"] == "Lou's film"

        # The administrator's own row offers nothing that would lock them out.
        page.locator('[data-testid="person-row"][data-username="admin"]').get_by_test_id("person-menu").click()
        expect(page.get_by_test_id("person-delete")).to_have_count(0)
        page.keyboard.press("Escape")
        page.get_by_test_id("people-search").fill("nia")
        expect(page.get_by_test_id("person-row")).to_have_count(1)
    finally:
        context.close()
    assert console.unexpected() == []


def test_the_people_card_fits_a_phone(browser: Browser, url: str, console: ConsoleLog) -> None:
    context = _admin(browser, url, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/admin")
        rows = page.get_by_test_id("person-row")
        expect(rows.first).to_be_visible()
        card = page.get_by_test_id("people-card")
        card.scroll_into_view_if_needed()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways ({width} px)"
        menu = rows.first.get_by_test_id("person-menu").bounding_box()
        assert menu is not None and menu["width"] >= 44 and menu["x"] + menu["width"] <= PHONE["width"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        card.screenshot(path=str(SHOTS / "people-phone.png"))
    finally:
        context.close()
    assert console.unexpected() == []


def test_an_invitation_link_opens_registration_while_it_is_closed(browser: Browser, url: str,
                                                                 console: ConsoleLog) -> None:
    context = _admin(browser, url)
    newcomer = browser.new_context(viewport=DESKTOP)
    try:
        closed = context.request.patch(f"{url}/api/v1/auth/config", data={"registration_open": False},
                                       headers={"X-CSRF-Token": next(c["value"] for c in context.cookies()
                                                                     if c["name"] == "ms_csrf")})
        assert closed.ok, closed.text()
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/admin")
        form = page.get_by_test_id("invite-form")
        form.get_by_label("Note").fill("for Ines")
        form.get_by_test_id("invite-make").click()
        link = page.get_by_test_id("invite-link")
        expect(link).to_be_visible()
        address = link.input_value()
        assert address.startswith(f"{url}/register?invite=")
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("invite-row")).to_contain_text("for Ines")

        visitor = newcomer.new_page()
        console.watch(visitor)
        visitor.goto(f"{url}/register")
        expect(visitor.get_by_role("alert")).to_contain_text("Registration is closed")
        visitor.goto(address)
        expect(visitor.get_by_test_id("invite-valid")).to_be_visible()
        visitor.get_by_label("Username").fill("invited-ines")
        visitor.get_by_label("Password", exact=True).fill(PASSWORD)
        visitor.get_by_label("Repeat the password").fill(PASSWORD)
        visitor.get_by_role("button", name="Create account").click()
        expect(visitor).to_have_url(f"{url}/")
        SHOTS.mkdir(parents=True, exist_ok=True)
        latecomer = browser.new_context(viewport=DESKTOP)
        try:  # someone else with the same link (a profile of their own): it is used up, and says so
            late = latecomer.new_page()
            console.watch(late)
            late.goto(address)
            expect(late.get_by_test_id("invite-invalid")).to_be_visible()
            late.screenshot(path=str(SHOTS / "invite-used.png"))
        finally:
            latecomer.close()
    finally:
        context.request.patch(f"{url}/api/v1/auth/config", data={"registration_open": True},
                              headers={"X-CSRF-Token": next(c["value"] for c in context.cookies()
                                                            if c["name"] == "ms_csrf")})
        newcomer.close()
        context.close()
    assert console.unexpected(404) == []  # the used link's check answers 404, as it should
