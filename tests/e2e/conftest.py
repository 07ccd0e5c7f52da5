"""Browser tests: Python Playwright driving Debian's Chromium against a real server on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import httpx
import pytest
from browser_support import (
    ADMIN,
    CHROMIUM_FLAGS,
    DESKTOP,
    PHONE,
    Account,
    ConsoleLog,
    new_account,
    skip_tour,
    trust_flags,
)
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from support import TEST_HTTPS, RunningServer, shared_test_tls

# Assertions wait up to 10 s (Playwright's default is 5 s): CI runs the browser beside the whole suite on
# two cores. Tests that measure a latency time it themselves.
expect.set_options(timeout=10_000)

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
    flags = [*CHROMIUM_FLAGS, *(trust_flags(shared_test_tls() / "cert.pem") if TEST_HTTPS else [])]
    browser = playwright.chromium.launch(executable_path=executable, args=flags)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def studio_url(shared_server: RunningServer) -> str:
    """The shared server, set up with its administrator (it starts with no account)."""
    health = httpx.get(f"{shared_server.url}/api/v1/health").json()
    assert health["ui"], "web_dist/ is not built: cd web && npm install && npm run build"
    if httpx.get(f"{shared_server.url}/api/v1/auth/config").json()["setup_required"]:
        setup = httpx.post(f"{shared_server.url}/api/v1/auth/setup", json=ADMIN.credentials())
        assert setup.status_code == 201, setup.text
        seen = httpx.patch(f"{shared_server.url}/api/v1/auth/me/preferences", json={"tour_status": "done"},
                           cookies=setup.cookies, headers={"X-CSRF-Token": setup.json()["csrf_token"]})
        assert seen.status_code == 200, seen.text
    return shared_server.url


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def watched(console: ConsoleLog) -> Callable[[BrowserContext], Page]:
    """Opens a new page of a profile with its console watched."""

    def open_page(context: BrowserContext) -> Page:
        page = context.new_page()
        console.watch(page)
        return page

    return open_page


PHONE_OPTIONS: dict[str, object] = {"viewport": PHONE, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def _context(browser: Browser, login: tuple[str, Account] | None = None,
             **options: object) -> Iterator[BrowserContext]:
    """A fresh browser profile; with `login=(url, account)`, that account is registered and logged in."""
    context = browser.new_context(**options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    if login is not None:
        url, account = login
        # The context's request client shares its cookies: the pages start logged in.
        answer = context.request.post(f"{url}/api/v1/auth/register", data=account.credentials())
        assert answer.status == 201, answer.text()
        skip_tour(context, url)
    yield context
    context.close()


@pytest.fixture
def account() -> Account:
    """The user the `desktop` profile (and `page`) is logged in as, fresh for each test."""
    return new_account("user")


@pytest.fixture
def phone_account() -> Account:
    """The user the `phone` profile is logged in as, fresh for each test."""
    return new_account("phone")


@pytest.fixture
def desktop(browser: Browser, studio_url: str, account: Account) -> Iterator[BrowserContext]:
    """A fresh desktop browser profile (empty storage, no service worker yet), logged in as `account`."""
    yield from _context(browser, (studio_url, account), viewport=DESKTOP)


@pytest.fixture
def phone(browser: Browser, studio_url: str, phone_account: Account) -> Iterator[BrowserContext]:
    """A fresh phone-sized touch profile, logged in as `phone_account`."""
    yield from _context(browser, (studio_url, phone_account), **PHONE_OPTIONS)


@pytest.fixture
def anonymous(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh desktop profile that nobody is logged in to."""
    yield from _context(browser, viewport=DESKTOP)


@pytest.fixture
def anonymous_phone(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh phone profile that nobody is logged in to."""
    yield from _context(browser, **PHONE_OPTIONS)


@pytest.fixture
def page(desktop: BrowserContext, console: ConsoleLog) -> Page:
    page = desktop.new_page()
    console.watch(page)
    return page
