"""Accounts in real Chromium: first-run setup, registration, login, guests and their claim, API tokens,
workspace members, server settings, menus by keyboard and on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from browser_support import ADMIN, PHONE, Account, ConsoleLog, new_account, screenshot
from playwright.sync_api import BrowserContext, Locator, Page, Route, expect

from support import RunningServer

GUEST_NOTICE = "You are trying Mediastudio as a guest. Guest work is removed after 7 days without a visit."


def _watched(context: BrowserContext, console: ConsoleLog) -> Page:
    page = context.new_page()
    console.watch(page)
    return page


def _register_by_api(url: str, account: Account) -> None:
    answer = httpx.post(f"{url}/api/v1/auth/register", json=account.credentials())
    assert answer.status_code == 201, answer.text


def _fill_new_account(page: Page, account: Account) -> None:
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Display name").fill(account.display_name)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_label("Repeat the password").fill(account.password)


def _log_in(page: Page, account: Account) -> None:
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()


def _expect_home(page: Page, url: str) -> None:
    """The studio's home: the project gallery of the current workspace, at "/"."""
    expect(page.get_by_test_id("project-gallery")).to_be_visible()
    expect(page).to_have_url(f"{url}/")


def _account_menu(page: Page) -> Locator:
    page.get_by_test_id("account-menu").click()
    menu = page.get_by_role("menu", name="Account")
    expect(menu).to_be_visible()
    return menu


def _workspaces(page: Page, url: str) -> list[dict[str, object]]:
    return page.request.get(f"{url}/api/v1/workspaces").json()["items"]  # type: ignore[no-any-return]


def test_a_fresh_server_opens_at_setup_and_the_admin_lands_in_the_gallery(
        server_factory: Callable[..., RunningServer], anonymous: BrowserContext, console: ConsoleLog) -> None:
    url = server_factory().url
    page = _watched(anonymous, console)
    page.goto(url)
    expect(page).to_have_url(f"{url}/setup")
    expect(page.get_by_role("heading", name="Create the administrator account")).to_be_visible()
    _fill_new_account(page, ADMIN)
    expect(page.get_by_test_id("password-strength")).to_have_text("Strong password.")
    screenshot(page, "setup-desktop")

    page.get_by_role("button", name="Create administrator account").click()
    _expect_home(page, url)
    _account_menu(page)
    expect(page.get_by_test_id("account-name")).to_have_text(ADMIN.display_name)
    expect(page.get_by_role("menuitem", name="Server settings")).to_be_visible()
    assert page.request.get(f"{url}/api/v1/auth/me").json()["user"]["is_admin"] is True
    page.goto(f"{url}/setup")  # set up once only
    _expect_home(page, url)
    assert console.errors == []


def test_register_log_out_and_log_in_again(anonymous: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    account = new_account("reg", "Rosa Register")
    page = _watched(anonymous, console)
    page.goto(studio_url)
    expect(page).to_have_url(f"{studio_url}/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login-desktop")

    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    _fill_new_account(page, account)
    page.get_by_role("button", name="Create account").click()
    _expect_home(page, studio_url)
    expect(page.get_by_test_id("workspace-name")).to_have_text("Rosa Register's workspace")

    _account_menu(page).get_by_role("menuitem", name="Log out").click()
    expect(page).to_have_url(f"{studio_url}/login")
    _log_in(page, account)
    _expect_home(page, studio_url)
    _account_menu(page)
    expect(page.get_by_test_id("account-name")).to_have_text("Rosa Register")
    expect(page.get_by_role("menuitem", name="Server settings")).to_have_count(0)
    assert console.errors == []


def test_a_visitor_logs_in_and_goes_on_where_they_were_going(
        anonymous: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    account = new_account("next")
    _register_by_api(studio_url, account)
    page = _watched(anonymous, console)
    page.goto(f"{studio_url}/account")
    expect(page).to_have_url(f"{studio_url}/login?next=%2Faccount")
    _log_in(page, account)
    expect(page).to_have_url(f"{studio_url}/account")
    expect(page.get_by_role("heading", name="Profile & API tokens")).to_be_visible()
    assert console.errors == []


def test_a_guest_tries_the_studio_then_keeps_the_work_by_registering(
        anonymous: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    page = _watched(anonymous, console)
    page.goto(f"{studio_url}/login")
    page.get_by_role("button", name="Try without an account").click()
    _expect_home(page, studio_url)
    banner = page.get_by_role("region", name="Guest mode")
    expect(banner).to_contain_text(GUEST_NOTICE)
    expect(page.get_by_test_id("workspace-name")).to_have_text("Guest sandbox")
    (sandbox,) = _workspaces(page, studio_url)
    screenshot(page, "studio-guest-desktop")

    banner.get_by_role("link", name="Create account").click()
    expect(page.get_by_role("heading", name="Keep your work — create your account")).to_be_visible()
    account = new_account("claim", "Gil Guest")
    _fill_new_account(page, account)
    page.get_by_role("button", name="Create account").click()
    _expect_home(page, studio_url)
    expect(page.get_by_test_id("guest-banner")).to_have_count(0)
    expect(page.get_by_test_id("workspace-name")).to_have_text("Gil Guest's workspace")
    (kept,) = _workspaces(page, studio_url)
    assert kept["id"] == sandbox["id"] and kept["kind"] == "personal"
    me = page.request.get(f"{studio_url}/api/v1/auth/me").json()["user"]
    assert me["is_guest"] is False and me["username"] == account.username
    assert console.errors == []


def test_an_api_token_is_shown_once_works_and_is_revoked(
        desktop: BrowserContext, page: Page, studio_url: str, account: Account, console: ConsoleLog) -> None:
    desktop.grant_permissions(["clipboard-read", "clipboard-write"], origin=studio_url)
    page.goto(f"{studio_url}/account")
    expect(page.get_by_role("heading", name="Profile & API tokens")).to_be_visible()
    page.get_by_label("Token name").fill("render farm")
    page.get_by_label("Expires after").select_option(label="30 days")
    page.get_by_role("button", name="Create token").click()

    dialog = page.get_by_role("dialog", name="Copy your new API token")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("only time the token is shown")
    secret = dialog.get_by_test_id("token-secret").input_value()
    assert secret
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "account-token-desktop")
    dialog.get_by_role("button", name="I have stored it").click()
    expect(dialog).to_be_hidden()

    row = page.get_by_test_id("token-row").filter(has_text="render farm")
    expect(row).to_contain_text(secret[:10])
    assert secret not in page.content(), "the secret is shown once only"
    me = httpx.get(f"{studio_url}/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["user"]["username"] == account.username
    page.reload()
    expect(row).to_contain_text("just now")  # last used: by the request above
    assert secret not in page.content()
    page.get_by_test_id("tokens-card").scroll_into_view_if_needed()
    screenshot(page, "account-desktop")

    row.get_by_role("button", name="Revoke render farm").click()
    confirm = page.get_by_role("dialog", name="Revoke “render farm”?")
    confirm.get_by_role("button", name="Revoke token").click()
    expect(confirm).to_be_hidden()
    expect(row).to_have_count(0)
    gone = httpx.get(f"{studio_url}/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert gone.status_code == 401
    assert console.errors == []


def test_a_wrong_password_shows_the_servers_message(
        anonymous: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    account = new_account("wrong")
    _register_by_api(studio_url, account)
    page = _watched(anonymous, console)
    page.goto(f"{studio_url}/login")
    _log_in(page, Account(account.username, "not the password", account.display_name))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Wrong username or password.")
    expect(alert).to_contain_text("usernames are not case-sensitive")
    expect(page).to_have_url(f"{studio_url}/login")
    expect(page.get_by_label("Password")).to_have_value("not the password")
    assert console.unexpected(401) == []


def test_an_owner_invites_a_member_and_changes_their_role(
        page: Page, studio_url: str, console: ConsoleLog) -> None:
    bea = new_account("bea", "Bea Member")
    _register_by_api(studio_url, bea)
    page.goto(studio_url)
    expect(page.get_by_test_id("project-gallery")).to_be_visible()
    page.get_by_test_id("workspace-switcher").click()
    page.get_by_role("menuitem", name="New team workspace…").click()
    dialog = page.get_by_role("dialog", name="New team workspace")
    dialog.get_by_label("Workspace name").fill("Film crew")
    dialog.get_by_role("button", name="Create workspace").click()

    expect(page).to_have_url(re.compile(r"/workspaces/[^/]+/members$"))
    expect(page.get_by_role("heading", name="Film crew", exact=True)).to_be_visible()
    expect(page.get_by_test_id("workspace-name")).to_have_text("Film crew")
    workspace_id = page.url.split("/")[-2]
    assert page.evaluate("localStorage.getItem('mediastudio.workspace.v1')") == workspace_id

    members = page.get_by_test_id("members-card")
    members.get_by_label("Username").fill(bea.username)
    members.get_by_label("Role", exact=True).select_option("member")
    members.get_by_role("button", name="Invite").click()
    row = page.locator(f'[data-testid="member-row"][data-username="{bea.username}"]')
    expect(row).to_contain_text("Bea Member")
    expect(row).to_contain_text(f"@{bea.username}")

    with page.expect_response(lambda r: r.request.method == "PATCH" and "/members/" in r.url) as answer:
        row.get_by_label("Role of Bea Member").select_option("admin")
    assert answer.value.status == 200
    listed = page.request.get(f"{studio_url}/api/v1/workspaces/{workspace_id}/members").json()["items"]
    assert {m["user"]["username"]: m["role"] for m in listed}[bea.username] == "admin"

    # The server's refusals are shown as they are: the only owner cannot step down.
    me = page.locator('[data-testid="member-row"]').first
    me.get_by_role("combobox").select_option("member")
    expect(page.get_by_test_id("members-problem")).to_contain_text("A workspace needs at least one owner.")
    expect(me.get_by_role("combobox")).to_have_value("owner")
    screenshot(page, "members-desktop")

    settings = page.get_by_test_id("workspace-settings")
    settings.get_by_label("Name").fill("Film crew west")
    settings.get_by_role("button", name="Save settings").click()
    expect(settings.get_by_role("status")).to_have_text("Workspace saved.")
    expect(page.get_by_test_id("workspace-name")).to_have_text("Film crew west")
    assert console.unexpected(409) == []


def test_an_admin_turns_guest_access_off(
        server_factory: Callable[..., RunningServer], anonymous: BrowserContext, console: ConsoleLog) -> None:
    url = server_factory().url
    assert anonymous.request.post(f"{url}/api/v1/auth/setup", data=ADMIN.credentials()).status == 201
    page = _watched(anonymous, console)
    page.goto(url)
    _account_menu(page).get_by_role("menuitem", name="Server settings").click()
    expect(page).to_have_url(f"{url}/admin")
    guests = page.get_by_role("switch", name="Guest access")
    expect(guests).to_have_attribute("aria-checked", "true")
    guests.click()
    expect(guests).to_have_attribute("aria-checked", "false")
    expect(page.get_by_role("status").filter(has_text="Guest access is off: guests were signed out.")).to_be_visible()
    assert httpx.get(f"{url}/api/v1/auth/config").json()["guests_enabled"] is False
    screenshot(page, "admin-desktop")

    _account_menu(page).get_by_role("menuitem", name="Log out").click()
    expect(page).to_have_url(f"{url}/login")
    expect(page.get_by_role("link", name="Create an account")).to_be_visible()
    expect(page.get_by_role("button", name="Try without an account")).to_have_count(0)
    assert console.errors == []


def test_a_menu_works_with_the_keyboard_and_closes_on_a_click_outside(page: Page, studio_url: str) -> None:
    page.goto(studio_url)
    button = page.get_by_test_id("account-menu")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(button).to_have_attribute("aria-haspopup", "menu")
    expect(page.get_by_role("menuitem", name="Profile & API tokens")).to_be_focused()
    for name in ("Keyboard shortcuts", "Take the tour", "API documentation", "Log out",
                 "Profile & API tokens"):  # then round
        page.keyboard.press("ArrowDown")
        expect(page.get_by_role("menuitem", name=name)).to_be_focused()
    page.keyboard.press("End")
    expect(page.get_by_role("menuitem", name="Log out")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_have_count(0)
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    # Back along the header: the inbox (beside the account menu), then the workspace switcher.
    switcher = page.get_by_test_id("workspace-switcher")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_test_id("inbox-button")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(switcher).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitemradio", checked=True)).to_be_focused()
    page.get_by_role("heading", name="Projects", exact=True).click()
    expect(page.get_by_role("menu")).to_have_count(0)


def _inside_the_screen(locator: Locator) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] + box["height"] <= PHONE["height"], box


def test_the_login_page_and_the_menus_fit_a_phone(
        anonymous_phone: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    page = _watched(anonymous_phone, console)
    page.goto(f"{studio_url}/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for control in (page.get_by_label("Username"), page.get_by_label("Password"),
                    page.get_by_role("button", name="Log in"),
                    page.get_by_role("button", name="Try without an account")):
        box = control.bounding_box()
        assert box is not None and box["height"] >= 44, "too small to tap"

    page.get_by_role("button", name="Try without an account").tap()
    expect(page.get_by_test_id("guest-banner")).to_be_visible()
    page.get_by_test_id("workspace-switcher").tap()
    menu = page.get_by_role("menu", name="Workspaces")
    expect(menu).to_be_visible()
    _inside_the_screen(menu)
    expect(page.get_by_role("menuitem", name="New team workspace…")).to_have_count(0)  # not for guests
    page.get_by_test_id("account-menu").tap()
    expect(menu).to_have_count(0)
    account = page.get_by_role("menu", name="Account")
    expect(account).to_be_visible()
    _inside_the_screen(account)
    item = page.get_by_role("menuitem", name="Profile & API tokens").bounding_box()
    assert item is not None and item["height"] >= 44
    screenshot(page, "studio-phone-account-menu")
    page.get_by_role("menuitem", name="Profile & API tokens").tap()
    expect(page.get_by_test_id("tokens-guest-note")).to_contain_text("API tokens need an account")
    expect(page.get_by_test_id("password-card")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "account-phone-guest")
    assert console.errors == []


# Every card's top while the page loads and once it has: what arrives late (quotas, tokens, webhooks) must not push
# the cards below it under a click.
_CARD_TOPS = """() => new Promise((resolve) => {
  const look = () => {
    const cards = [...document.querySelectorAll('[data-testid$="-card"]')];
    if (cards.length < 6) return requestAnimationFrame(look);
    const top = (card) => Math.round(card.getBoundingClientRect().top);
    resolve(Object.fromEntries(cards.map((card) => [card.dataset.testid, top(card)])));
  };
  look();
})"""


def _holder(held: list[Route]) -> Callable[[Route], None]:
    """A route handler that keeps each request unanswered in `held`."""
    def hold(route: Route) -> None:
        held.append(route)
    return hold


def test_the_account_page_does_not_move_while_its_parts_load(
        desktop: BrowserContext, phone: BrowserContext, studio_url: str) -> None:
    """The account page's quotas, tokens and webhooks load after the page is drawn: each card keeps the shape it
    will have (for a member with no token nor webhook), so a click aimed while they load lands where it was aimed
    (a test's click on the notifications switch once hit the page beside it, 20 px higher)."""
    for context in (desktop, phone):
        page = context.new_page()
        held: list[Route] = []  # answered once the page's first shape is read
        for path in ("**/api/v1/auth/me/quotas", "**/api/v1/auth/tokens", "**/api/v1/webhooks"):
            page.route(path, _holder(held))
        page.goto(f"{studio_url}/account")
        expect(page.get_by_test_id("my-quotas-loading")).to_be_visible()
        expect(page.get_by_test_id("tokens-loading")).to_be_visible()
        expect(page.get_by_test_id("webhooks-loading")).to_be_visible()
        loading = page.evaluate(_CARD_TOPS)
        for route in held:
            route.continue_()
        expect(page.get_by_test_id("my-quotas")).to_be_visible()
        expect(page.get_by_test_id("token-empty")).to_be_visible()
        expect(page.get_by_test_id("webhook-empty")).to_be_visible()
        assert page.evaluate(_CARD_TOPS) == loading
        page.close()
