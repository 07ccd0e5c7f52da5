"""The Account page's privacy cards, in real Chromium: a person exports their data (the task's progress, then a
download that is a zip with their README and projects), then deletes their account, giving one project to a
workspace mate and deleting the other, and lands on the login page signed out; an administrator deletes someone
with a choice for each of their projects; the administrator's Retention card saves the spans."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import httpx
import pytest
from browser_support import ADMIN, DESKTOP, ConsoleLog, csrf_headers, new_account, skip_tour
from playwright.sync_api import Browser, BrowserContext, expect

from support import ApiClient, start_server


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_server(tmp_path_factory.mktemp("privacy-ui"), env={"MEDIASTUDIO_PROBE_GPU": "0"})
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    yield server.url
    server.stop()


def _signed_in(browser: Browser, url: str, credentials: dict[str, str], register: bool) -> BrowserContext:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(20_000)
    path = "/api/v1/auth/register" if register else "/api/v1/auth/login"
    answer = context.request.post(f"{url}{path}", data=credentials)
    assert answer.ok, answer.text()
    skip_tour(context, url)
    return context


def test_export_my_data_then_delete_my_account(browser: Browser, url: str, console: ConsoleLog) -> None:
    rita, mate = new_account("rita"), new_account("mate", "Mo Mate")
    context = _signed_in(browser, url, rita.credentials(), register=True)
    with ApiClient(url) as helper:
        helper.register(mate.username, mate.password, display_name=mate.display_name)
    headers = csrf_headers(context)
    kept = context.request.post(f"{url}/api/v1/projects", data={"name": "Kept film"}, headers=headers).json()
    context.request.post(f"{url}/api/v1/projects", data={"name": "Scrap reel"}, headers=headers)
    team = context.request.post(f"{url}/api/v1/workspaces", data={"name": "Rita's crew"}, headers=headers).json()
    added = context.request.post(f"{url}/api/v1/workspaces/{team['id']}/members", data={"username": mate.username},
                                 headers=headers)
    assert added.ok, added.text()
    try:
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/account")
        card = page.get_by_test_id("my-data-card")
        card.get_by_test_id("export-my-data").click()
        download_link = card.get_by_test_id("my-export-download")
        expect(download_link).to_be_visible(timeout=60_000)
        with page.expect_download() as waiting:
            download_link.click()
        archive = zipfile.ZipFile(io.BytesIO(open(waiting.value.path(), "rb").read()))  # noqa: SIM115
        assert "README.md" in archive.namelist()
        assert sorted(n for n in archive.namelist() if n.startswith("projects/")) == [
            "projects/Kept film.msproj", "projects/Scrap reel.msproj"]

        deleting = page.get_by_test_id("delete-account-card")
        deleting.get_by_test_id("delete-account-start").click()
        form = deleting.get_by_test_id("delete-account-form")
        expect(form.get_by_test_id("delete-project-choice")).to_have_count(2)
        form.locator('[data-testid="delete-project-choice"][data-name="Kept film"] select').select_option(
            label=f"Give it to Mo Mate (@{mate.username})")
        expect(form).to_contain_text("Rita's crew")  # the shared workspace stays with its members
        form.get_by_test_id("delete-account-password").fill("not my password")
        form.get_by_test_id("delete-account-confirm").click()
        expect(form).to_contain_text("The password is wrong")
        form.get_by_test_id("delete-account-password").fill(rita.password)
        form.get_by_test_id("delete-account-confirm").click()
        expect(page).to_have_url(f"{url}/login")
        expect(page.get_by_test_id("account-deleted")).to_be_visible()
        assert context.request.get(f"{url}/api/v1/auth/me").status == 401
        with ApiClient(url) as mo:
            assert mo.post("/api/v1/auth/login", json={"username": mate.username, "password": mate.password}
                           ).is_success
            assert mo.get(f"/api/v1/projects/{kept['id']}").json()["name"] == "Kept film"
    finally:
        context.close()
    assert console.unexpected(403, 401) == []


def test_the_administrator_edits_retention_on_server_settings(browser: Browser, url: str,
                                                              console: ConsoleLog) -> None:
    context = _signed_in(browser, url, {"username": ADMIN.username, "password": ADMIN.password}, register=False)
    try:
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/admin")
        card = page.get_by_test_id("retention-card")
        expect(card.get_by_test_id("retention-trash_days")).to_have_value("30")
        card.get_by_test_id("retention-trash_days").fill("14")
        card.get_by_test_id("retention-save").click()
        expect(card).to_contain_text("Retention saved")
        assert context.request.get(f"{url}/api/v1/admin/retention").json()["trash_days"] == 14
    finally:
        context.close()
    assert console.unexpected() == []


def test_the_administrator_deletes_someone_choosing_for_each_project(browser: Browser, url: str,
                                                                    console: ConsoleLog) -> None:
    ivan, nia = new_account("ivan"), new_account("nia", "Nia Next")
    with ApiClient(url) as leaving, ApiClient(url) as heir:
        leaving.register(ivan.username, ivan.password, display_name=ivan.display_name)
        heir.register(nia.username, nia.password, display_name=nia.display_name)
        kept = leaving.post("/api/v1/projects", json={"name": "Keep me"}).json()
        binned = leaving.post("/api/v1/projects", json={"name": "Bin me"}).json()
    context = _signed_in(browser, url, {"username": ADMIN.username, "password": ADMIN.password}, register=False)
    try:
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/admin")
        row = page.locator(f'[data-testid="person-row"][data-username="{ivan.username}"]')
        row.get_by_test_id("person-menu").click()
        page.get_by_test_id("person-delete").click()
        dialog = page.get_by_test_id("person-delete-dialog")
        dialog.get_by_test_id("person-delete-each").locator("summary").click()
        dialog.locator('[data-testid="person-delete-project"][data-name="Keep me"] select').select_option(
            label=f"Give it to Nia Next (@{nia.username})")
        dialog.locator('[data-testid="person-delete-project"][data-name="Bin me"] select').select_option(
            label="Delete it")
        dialog.get_by_test_id("person-delete-confirm").click()
        expect(row).to_have_count(0)
        assert context.request.get(f"{url}/api/v1/projects/{binned['id']}").status == 404
    finally:
        context.close()
    with ApiClient(url) as heir:
        assert heir.post("/api/v1/auth/login", json={"username": nia.username, "password": nia.password}).is_success
        assert heir.get(f"/api/v1/projects/{kept['id']}").json()["name"] == "Keep me"
    assert console.unexpected() == []


def test_a_row_menu_stays_open_for_the_scroll_that_brought_it_into_view_and_closes_on_a_later_one(
        browser: Browser, url: str, console: ConsoleLog) -> None:
    context = _signed_in(browser, url, {"username": ADMIN.username, "password": ADMIN.password}, register=False)
    try:
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/admin")
        button = page.get_by_test_id("person-menu").first
        button.click()
        expect(button).to_have_attribute("aria-expanded", "true")
        main = page.locator("main")
        # A scroll event comes a frame after its scroll: the one of the scroll before the click may come now.
        main.evaluate("m => m.dispatchEvent(new Event('scroll'))")
        page.wait_for_timeout(200)
        expect(button).to_have_attribute("aria-expanded", "true")
        expect(page.get_by_test_id("person-reset")).to_be_visible()
        main.evaluate("m => { m.scrollTop = m.scrollTop >= 100 ? m.scrollTop - 100 : m.scrollTop + 100; }")
        expect(button).to_have_attribute("aria-expanded", "false")  # the button moved: the menu would drift
    finally:
        context.close()
    assert console.unexpected() == []
