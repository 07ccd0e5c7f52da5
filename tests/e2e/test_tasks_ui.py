"""Tasks in real Chromium: progress bars and time left, places in the queue, Cancel, toasts when a task
ends, the state after a reload, the admin queue page, and the tray on a phone. A server of its own
runs the test task kinds (`test.sleep` on the GPU lane, `test.sleep_cpu` on the CPU lane)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from browser_support import (
    ADMIN,
    DESKTOP,
    PHONE,
    Account,
    ConsoleLog,
    csrf_headers,
    new_account,
    screenshot,
    skip_tour,
)
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from kinds_for_tests import ENV as TEST_KINDS
from support import RunningServer, start_server, wait_until

# Marks each "hello" of the page's event stream in window.__eventsHellos (the page shows nothing for it).
COUNT_HELLOS = """(() => {
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
        constructor(url, protocols) {
            super(url, protocols);
            if (!String(url).endsWith('/api/v1/events')) return;
            this.addEventListener('message', (message) => {
                let type = null;
                try { type = JSON.parse(message.data).type; } catch {}
                if (type === 'hello') window.__eventsHellos = (window.__eventsHellos || 0) + 1;
            });
        }
    };
})();"""

TIME_LEFT = re.compile(r"(about \d+ (s|min)|a few seconds) left")


@pytest.fixture(scope="module")
def tasks_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with the test task kinds, set up with its administrator."""
    server = start_server(tmp_path_factory.mktemp("tasks-ui"),
                          env={**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0"})
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    yield server
    server.stop()


@pytest.fixture
def url(tasks_server: RunningServer) -> Iterator[str]:
    """The server's address; after each test its lanes run again and nothing is left waiting or running."""
    yield tasks_server.url
    with httpx.Client(base_url=tasks_server.url, timeout=10) as admin:
        _log_in(admin, ADMIN)
        headers = {"X-CSRF-Token": admin.cookies.get("ms_csrf") or ""}
        admin.post("/api/v1/queue/resume", json={}, headers=headers)
        left = admin.get("/api/v1/tasks", params={"all": True, "status": "queued,running,interrupted"}).json()
        for task in left["items"]:
            admin.post(f"/api/v1/tasks/{task['id']}/cancel", headers=headers)
        wait_until(lambda: not admin.get("/api/v1/tasks", params={"all": True, "status": "running"}).json()["items"],
                   timeout=15, interval=0.1, message="the running tasks to stop")


def _log_in(client: httpx.Client, account: Account) -> None:
    answer = client.post("/api/v1/auth/login", json={"username": account.username, "password": account.password})
    assert answer.status_code == 200, answer.text


def _context(browser: Browser, url: str, account: Account | None = None, **options: object) -> BrowserContext:
    """A fresh profile logged in as `account` (registered here), or as the administrator."""
    context = browser.new_context(**options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    if account is None:
        answer = context.request.post(f"{url}/api/v1/auth/login",
                                      data={"username": ADMIN.username, "password": ADMIN.password})
        assert answer.status == 200, answer.text()
    else:
        answer = context.request.post(f"{url}/api/v1/auth/register", data=account.credentials())
        assert answer.status == 201, answer.text()
    skip_tour(context, url)
    return context


@pytest.fixture
def user(browser: Browser, url: str) -> Iterator[BrowserContext]:
    """A new user's desktop profile."""
    context = _context(browser, url, new_account("tasks"), viewport=DESKTOP)
    yield context
    context.close()


@pytest.fixture
def admin(browser: Browser, url: str) -> Iterator[BrowserContext]:
    """The administrator's desktop profile."""
    context = _context(browser, url, viewport=DESKTOP)
    yield context
    context.close()


def _start(context: BrowserContext, url: str, kind: str, **params: object) -> dict:
    answer = context.request.post(f"{url}/api/v1/tasks", data={"kind": kind, "params": params},
                                  headers=csrf_headers(context))
    assert answer.status == 201, answer.text()
    return answer.json()  # type: ignore[no-any-return]


def _task(context: BrowserContext, url: str, task_id: str) -> dict:
    answer = context.request.get(f"{url}/api/v1/tasks/{task_id}")
    assert answer.ok, answer.text()
    return answer.json()  # type: ignore[no-any-return]


def _set_paused(context: BrowserContext, url: str, paused: bool, lane: str = "gpu") -> None:
    answer = context.request.post(f"{url}/api/v1/queue/{'pause' if paused else 'resume'}", data={"lanes": [lane]},
                                  headers=csrf_headers(context))
    assert answer.ok, answer.text()


def _row(scope: Page | Locator, task: dict) -> Locator:
    return scope.locator(f'[data-testid="task-row"][data-task-id="{task["id"]}"]')


def _percent(bar: Locator) -> int:
    return int(bar.get_attribute("aria-valuenow") or 0)


def _open_tray(page: Page) -> Locator:
    page.get_by_test_id("task-tray-button").click()
    panel = page.get_by_test_id("task-tray-panel")
    expect(panel).to_be_visible()
    return panel


def test_a_running_task_shows_a_moving_bar_and_the_time_left_and_cancels(
        user: BrowserContext, url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    page = watched(user)
    page.goto(url)
    expect(page.get_by_test_id("project-gallery")).to_be_visible()
    task = _start(user, url, "test.sleep_cpu", steps=60, step_seconds=0.25, label="Render the opening")
    expect(page.get_by_test_id("task-tray-label")).to_contain_text("1 task")
    panel = _open_tray(page)
    row = _row(panel, task)
    bar = row.get_by_role("progressbar", name="Render the opening progress")
    expect(bar).to_be_visible()
    first = wait_until(lambda: _percent(bar), until=lambda percent: percent >= 5, timeout=15, interval=0.1,
                       message="the bar to fill")
    wait_until(lambda: _percent(bar), until=lambda percent: percent >= first + 5, timeout=15, interval=0.1,
               message="the bar to move on")
    expect(row.get_by_test_id("task-eta")).to_have_text(TIME_LEFT)
    expect(row.get_by_test_id("task-line")).to_contain_text(re.compile(r"Step \d+ of 60"))
    screenshot(page, "tasks-running-desktop")

    row.get_by_role("button", name="Cancel Render the opening").click()
    expect(row).to_have_attribute("data-status", "cancelled", timeout=10_000)
    expect(row.get_by_test_id("task-line")).to_have_text("Cancelled")
    assert _task(user, url, task["id"])["status"] == "cancelled"
    expect(page.get_by_test_id("toast")).to_have_count(0)  # cancelling is not news
    assert console.unexpected() == []


def test_a_waiting_task_shows_its_place_in_the_queue_and_cancels(
        user: BrowserContext, admin: BrowserContext, url: str, watched: Callable[[BrowserContext], Page],
        console: ConsoleLog) -> None:
    _set_paused(admin, url, True)  # nothing starts on the GPU lane: the places stay put
    project = user.request.post(f"{url}/api/v1/projects", data={"name": "Queue test"},
                                headers=csrf_headers(user)).json()
    first = _start(user, url, "test.sleep", steps=5, step_seconds=0.1, label="First in line")
    second = _start(user, url, "test.sleep", steps=5, step_seconds=0.1, label="Second in line")
    page = watched(user)
    page.goto(f"{url}/projects/{project['id']}")
    panel = page.get_by_test_id("progress-panel")
    expect(_row(panel, first).get_by_test_id("task-line")).to_contain_text("1st in queue")
    expect(_row(panel, second).get_by_test_id("task-line")).to_contain_text("2nd in queue")
    expect(_row(panel, second).get_by_test_id("task-line")).to_contain_text("the queue is paused")
    expect(page.get_by_test_id("task-tray")).to_have_count(0)  # the panel shows the tasks: no tray besides
    screenshot(page, "tasks-queued-studio")

    _row(panel, first).get_by_role("button", name="Cancel First in line").click()
    expect(_row(panel, first)).to_have_attribute("data-status", "cancelled")
    assert _task(user, url, first["id"])["status"] == "cancelled"
    expect(_row(panel, second).get_by_test_id("task-line")).to_contain_text("1st in queue")

    # The lane runs again: the waiting one starts and finishes, with a toast.
    _set_paused(admin, url, False)
    expect(_row(panel, second)).to_have_attribute("data-status", "succeeded", timeout=15_000)
    expect(page.get_by_test_id("toast").filter(has_text="Second in line")).to_be_visible()
    assert console.unexpected() == []


def test_finished_and_failed_tasks_make_toasts_but_earlier_ones_do_not(
        user: BrowserContext, url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    before = _start(user, url, "test.sleep_cpu", steps=1, step_seconds=0, label="Finished before")
    wait_until(lambda: _task(user, url, before["id"])["status"], until=lambda status: status == "succeeded",
               timeout=15, interval=0.1, message="the early task to finish")
    page = watched(user)
    page.add_init_script(COUNT_HELLOS)
    page.goto(url)
    expect(page.get_by_test_id("project-gallery")).to_be_visible()
    page.wait_for_function("() => window.__eventsHellos > 0")  # the event stream is up: the next tasks are heard
    expect(page.get_by_test_id("toast")).to_have_count(0)
    expect(page.get_by_test_id("task-tray")).to_have_count(0)

    _start(user, url, "test.sleep_cpu", steps=3, step_seconds=0.1, label="Quick job")
    done = page.get_by_test_id("toast").filter(has_text="Quick job")
    expect(done).to_have_attribute("data-tone", "success")
    expect(done).to_contain_text("Quick job finished")
    _start(user, url, "test.sleep_cpu", steps=5, step_seconds=0.1, fail_at=2, label="Doomed job")
    failed = page.get_by_test_id("toast").filter(has_text="Doomed job")
    expect(failed).to_have_attribute("data-tone", "error")
    expect(failed).to_contain_text("Doomed job failed")
    expect(failed).to_contain_text("Asked to fail at step 2.")
    expect(failed).to_contain_text("It is a test task.")
    expect(page.get_by_role("region", name="Notifications")).to_have_attribute("aria-live", "polite")
    screenshot(page, "tasks-toasts-desktop")

    failed.get_by_role("button", name="Dismiss").click()
    expect(failed).to_have_count(0)
    expect(done).to_have_count(0, timeout=10_000)  # gone by itself after about 6 s

    # The tray keeps what finished: the error with its hint, and "Run again".
    panel = _open_tray(page)
    row = panel.locator('[data-testid="task-row"][data-status="failed"]')
    expect(row).to_contain_text("Asked to fail at step 2.")
    row.get_by_role("button", name="Run Doomed job again").click()
    expect(panel.locator('[data-testid="task-row"][data-status="failed"]')).to_have_count(2, timeout=10_000)
    assert console.unexpected() == []


def test_a_reloaded_page_shows_the_running_task_with_its_progress(
        user: BrowserContext, url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    task = _start(user, url, "test.sleep_cpu", steps=80, step_seconds=0.2, label="Long render")
    page = watched(user)
    page.goto(url)
    bar = _row(_open_tray(page), task).get_by_role("progressbar")
    wait_until(lambda: _percent(bar), until=lambda percent: percent >= 10, timeout=15, interval=0.1,
               message="some progress")
    page.reload()
    expect(page.get_by_test_id("project-gallery")).to_be_visible()
    expect(page.get_by_test_id("task-tray-label")).to_contain_text("1 task")
    bar = _row(_open_tray(page), task).get_by_role("progressbar")
    expect(bar).to_be_visible()
    wait_until(lambda: _percent(bar), until=lambda percent: percent >= 10, timeout=3, interval=0.1,
               message="the progress from before the reload")
    expect(page.get_by_test_id("toast")).to_have_count(0)
    screenshot(page, "tasks-after-reload")
    assert console.unexpected() == []


def test_the_admin_queue_page_pauses_resumes_and_cancels_everyones_tasks(
        admin: BrowserContext, user: BrowserContext, url: str, watched: Callable[[BrowserContext], Page],
        console: ConsoleLog) -> None:
    page = watched(admin)
    page.goto(f"{url}/admin")
    page.get_by_role("link", name="Open the task queue").click()
    expect(page).to_have_url(f"{url}/admin/queue")
    gpu = page.get_by_test_id("lane-gpu")
    expect(gpu.get_by_test_id("lane-state")).to_have_text("Running")
    gpu.get_by_role("button", name="Pause the GPU lane").click()
    expect(gpu.get_by_test_id("lane-state")).to_have_text("Paused")
    lanes = {lane["name"]: lane for lane in admin.request.get(f"{url}/api/v1/queue").json()["lanes"]}
    assert lanes["gpu"]["paused"] and not lanes["cpu"]["paused"]

    # Someone else's tasks appear in run order, with their owner.
    waiting = _start(user, url, "test.sleep", steps=5, step_seconds=0.1, label="Their render")
    running = _start(user, url, "test.sleep_cpu", steps=200, step_seconds=0.1, label="Their export")
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(2)
    row = page.locator(f'[data-testid="queue-row"][data-task-id="{waiting["id"]}"]')
    expect(row.get_by_test_id("queue-owner")).to_have_text(re.compile(r"Tasks "))
    expect(row.get_by_test_id("queue-status")).to_have_text("1st in line")
    other = page.locator(f'[data-testid="queue-row"][data-task-id="{running["id"]}"]')
    expect(other.get_by_role("progressbar")).to_be_visible()
    expect(other.get_by_test_id("queue-owner")).to_have_text(re.compile(r"Tasks "))
    expect(gpu.get_by_test_id("lane-waiting")).to_have_text("1")
    screenshot(page, "tasks-admin-queue")

    other.get_by_role("button", name="Cancel Their export").click()
    expect(other).to_have_count(0, timeout=10_000)
    wait_until(lambda: _task(user, url, running["id"])["status"], until=lambda status: status == "cancelled",
               timeout=15, interval=0.1, message="the cancel")

    gpu.get_by_role("button", name="Resume the GPU lane").click()
    expect(gpu.get_by_test_id("lane-state")).to_have_text("Running")
    expect(row).to_have_count(0, timeout=10_000)  # it ran
    wait_until(lambda: _task(user, url, waiting["id"])["status"], until=lambda status: status == "succeeded",
               timeout=15, interval=0.1, message="the resumed task")
    assert console.unexpected() == []


def test_a_project_exported_in_the_background_offers_its_download(
        user: BrowserContext, url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog,
        tmp_path: Path) -> None:
    user.request.post(f"{url}/api/v1/projects", data={"name": "Big film"}, headers=csrf_headers(user))
    page = watched(user)
    page.goto(url)
    page.get_by_role("button", name="Actions for Big film").click()
    page.get_by_role("menuitem", name="Export in background").click()
    toast = page.get_by_test_id("toast").filter(has_text="Export 'Big film' finished")
    expect(toast).to_be_visible(timeout=15_000)
    with page.expect_download() as download_info:
        toast.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".msproj")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"  # a zip
    row = _open_tray(page).locator('[data-testid="task-row"][data-status="succeeded"]')
    expect(row.get_by_role("link", name="Download")).to_be_visible()
    assert console.unexpected() == []


def test_someone_who_is_not_an_administrator_cannot_see_the_queue_page(
        user: BrowserContext, url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    page = watched(user)
    page.goto(f"{url}/admin/queue")
    expect(page).to_have_url(f"{url}/")
    expect(page.get_by_test_id("project-gallery")).to_be_visible()
    refused = user.request.post(f"{url}/api/v1/queue/pause", data={"lanes": ["gpu"]}, headers=csrf_headers(user))
    assert refused.status == 403
    assert console.unexpected() == []


def test_the_task_tray_on_a_phone(browser: Browser, url: str, watched: Callable[[BrowserContext], Page],
                                  console: ConsoleLog, tmp_path: Path) -> None:
    phone = _context(browser, url, new_account("phone"), viewport=PHONE, device_scale_factor=3, is_mobile=True,
                     has_touch=True)
    try:
        task = _start(phone, url, "test.sleep_cpu", steps=100, step_seconds=0.2, label="Phone render")
        page = watched(phone)
        page.goto(url)
        button = page.get_by_test_id("task-tray-button")
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box and box["x"] + box["width"] <= PHONE["width"] and box["y"] + box["height"] <= PHONE["height"]
        button.tap()
        panel = page.get_by_test_id("task-tray-panel")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        cancel = _row(panel, task).get_by_role("button", name="Cancel Phone render")
        size = cancel.bounding_box()
        assert size and size["width"] >= 44 and size["height"] >= 44  # a finger's size
        expect(_row(panel, task).get_by_test_id("task-eta")).to_have_text(TIME_LEFT)
        screenshot(page, "tasks-tray-phone")
        cancel.tap()
        expect(_row(panel, task)).to_have_attribute("data-status", "cancelled", timeout=10_000)
        assert console.unexpected() == []
    finally:
        phone.close()
