"""Browser notifications, in real Chromium: turned on from the account page (the browser's permission granted to
the profile), a long task that ends while the tab is in the background makes one, which brings the tab back on
the task's project when clicked; a short one, or one that ends while the person looks, makes none; turned off,
none at all.

A "long" task here runs a second and is recorded as asked for `LONG_TASK_S + 1` seconds before it started (the
test kind's `asked_seconds_ago`: as if it had waited in the queue so long): the rule reads the task's own times,
so it meets it as a task that took that long, without the test waiting for it.

The page's `document.hidden` is steered by the test (headless Chromium keeps every tab visible), and the browser's
own `Notification` is wrapped to record what the studio shows; both are the browser's, not the studio's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import ADMIN, ConsoleLog, create_project, csrf_headers, new_account, skip_tour
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kinds_for_tests import ENV as TEST_KINDS
from support import start_server, wait_until

SHOTS = Path("/tmp/shots-notices")
# The studio's own line (web/src/lib/notices.ts): a task this long after it was asked for is "long".
LONG_TASK_S = 15

RECORD = """
window.__notices = [];
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) {
    super(title, options);
    window.__notices.push({ title, ...options });
    window.__last = this;
  }
};
let hidden = false;
Object.defineProperty(Document.prototype, 'hidden', { get: () => hidden, configurable: true });
Object.defineProperty(Document.prototype, 'visibilityState', {
  get: () => (hidden ? 'hidden' : 'visible'), configurable: true });
window.__hide = (value) => { hidden = value; document.dispatchEvent(new Event('visibilitychange')); };
"""


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_server(tmp_path_factory.mktemp("notices-ui"), env={**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0"})
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    yield server.url
    server.stop()


def _context(browser: Browser, url: str) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    context.grant_permissions(["notifications"], origin=url)
    context.add_init_script(RECORD)
    answer = context.request.post(f"{url}/api/v1/auth/register", data=new_account("notices").credentials())
    assert answer.status == 201, answer.text()
    skip_tour(context, url)
    return context


def _sleep(context: BrowserContext, url: str, project_id: str, seconds: float, label: str, *,
           long: bool = False) -> dict[str, Any]:
    """A task of `seconds`; `long`: recorded as asked for `LONG_TASK_S + 1` seconds before it started."""
    steps = max(1, round(seconds / 0.25))
    answer = context.request.post(f"{url}/api/v1/tasks", headers=csrf_headers(context), data={
        "kind": "test.project_sleep", "project_id": project_id,
        "params": {"steps": steps, "step_seconds": seconds / steps, "label": label,
                   "asked_seconds_ago": LONG_TASK_S + 1 if long else 0}})
    assert answer.status == 201, answer.text()
    return answer.json()  # type: ignore[no-any-return]


def _ended(context: BrowserContext, url: str, task: dict[str, Any]) -> None:
    wait_until(lambda: context.request.get(f"{url}/api/v1/tasks/{task['id']}").json(),
               until=lambda t: t["status"] == "succeeded", timeout=30, message=f"{task['title']} to end")


def _notices(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.__notices")  # type: ignore[no-any-return]


def test_a_long_task_ending_in_the_background_makes_a_notification(browser: Browser, url: str,
                                                                  console: ConsoleLog) -> None:
    context = _context(browser, url)
    try:
        project = create_project(context, url, "Night render")
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/account")
        toggle = page.get_by_test_id("notices-toggle")
        expect(toggle).not_to_be_checked()
        toggle.check()
        expect(toggle).to_be_checked()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.get_by_test_id("notices-card").screenshot(path=str(SHOTS / "account-notices.png"))
        page.goto(f"{url}/")  # the gallery: every page of the studio hears the person's tasks

        page.evaluate("window.__hide(true)")  # the person went to another tab
        short = _sleep(context, url, str(project["id"]), 0.5, "short")
        _ended(context, url, short)
        expect(page.get_by_text(f"{short['title']} finished").first).to_be_visible()  # its toast, and no more
        long = _sleep(context, url, str(project["id"]), 1, "long", long=True)
        _ended(context, url, long)
        wait_until(lambda: _notices(page), until=lambda found: len(found) >= 1, timeout=10,
                   message="the notification of the long task")
        page.wait_for_timeout(500)  # one for the short task would have come before it
        shown = _notices(page)
        assert [n["title"] for n in shown] == [f"{long['title']} finished"], shown
        assert shown[0]["tag"] == f"mediastudio-task-{long['id']}"

        # Clicking it brings the tab back where the task's work is.
        page.evaluate("window.__hide(false); window.__last.onclick()")
        expect(page).to_have_url(f"{url}/projects/{project['id']}")

        # While the person looks at the tab, the toast is enough.
        looked = _sleep(context, url, str(project["id"]), 1, "watched", long=True)
        _ended(context, url, looked)
        expect(page.get_by_text(f"{looked['title']} finished").first).to_be_visible()
        assert len(_notices(page)) == 1
    finally:
        context.close()
    assert console.unexpected() == []


def test_turned_off_there_is_none(browser: Browser, url: str, console: ConsoleLog) -> None:
    context = _context(browser, url)
    try:
        project = create_project(context, url, "Quiet")
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/account")
        expect(page.get_by_test_id("notices-toggle")).not_to_be_checked()  # off until the person turns them on
        page.goto(f"{url}/projects/{project['id']}")
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        expect(page.get_by_test_id("notices-bell")).to_have_attribute("aria-pressed", "false")
        task = _sleep(context, url, str(project["id"]), 1, "unheard", long=True)
        page.evaluate("window.__hide(true)")
        _ended(context, url, task)
        expect(page.locator(f'[data-testid="task-row"][data-task-id="{task["id"]}"]')).to_have_attribute(
            "data-status", "succeeded")
        assert _notices(page) == []
        # The bell in the Progress panel turns them on in one click.
        page.evaluate("window.__hide(false)")
        page.get_by_test_id("notices-bell").click()
        expect(page.get_by_test_id("notices-bell")).to_have_attribute("aria-pressed", "true")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "progress-bell.png"))
    finally:
        context.close()
    assert console.unexpected() == []
