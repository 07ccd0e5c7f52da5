"""A task's own log in real Chromium: the task list's row opens it (its lines, warnings marked, the end), markup a
task wrote into it shows as text, and Download saves the same lines as a file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_support import ADMIN, ConsoleLog, csrf_headers, new_account, skip_tour
from playwright.sync_api import Browser, expect

from kinds_for_tests import ENV as TEST_KINDS
from support import start_server, wait_until

SHOTS = Path("/tmp/shots-task-log")
MARKUP = "<img src=x onerror=\"window.__pwned = 1\"> shown as text"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_server(tmp_path_factory.mktemp("task-log-ui"), env={**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0"})
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    yield server.url
    server.stop()


def test_a_tasks_log_opens_from_its_row_and_downloads(browser: Browser, url: str, console: ConsoleLog,
                                                      tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.set_default_timeout(15_000)
    try:
        answer = context.request.post(f"{url}/api/v1/auth/register", data=new_account("logs").credentials())
        assert answer.status == 201, answer.text()
        skip_tour(context, url)
        page = context.new_page()
        console.watch(page)
        page.goto(f"{url}/")
        started = context.request.post(f"{url}/api/v1/tasks", headers=csrf_headers(context), data={
            "kind": "test.sleep", "params": {"steps": 8, "step_seconds": 0.25, "label": "Logged task",
                                             "say": ["Reading the inputs", MARKUP],
                                             "library_warning": "a library complains"}})
        assert started.status == 201, started.text()
        task_id = started.json()["id"]
        page.get_by_test_id("task-tray-button").click()
        row = page.locator(f'[data-testid="task-row"][data-task-id="{task_id}"]')
        wait_until(lambda: context.request.get(f"{url}/api/v1/tasks/{task_id}").json()["status"],
                   until=lambda status: status == "succeeded", timeout=30, message="the task to end")
        expect(row).to_have_attribute("data-status", "succeeded")
        row.get_by_test_id("task-log-toggle").click()
        log = row.get_by_test_id("task-log")
        lines = log.get_by_test_id("task-log-line")
        expect(lines.first).to_contain_text("Started: test.sleep")
        expect(lines.last).to_contain_text("Succeeded in")
        expect(log.get_by_text("Reading the inputs")).to_be_visible()
        expect(log.get_by_text(MARKUP)).to_be_visible()  # the markup is text, never an element
        assert log.locator("img").count() == 0 and page.evaluate("window.__pwned") is None
        warning = lines.filter(has_text="a library complains (step 0)").first
        expect(warning).to_have_attribute("data-level", "warning")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.get_by_test_id("task-tray-panel").screenshot(path=str(SHOTS / "task-log.png"))

        with page.expect_download() as download:
            log.get_by_test_id("task-log-download").click()
        saved = tmp_path / "task.log"
        download.value.save_as(saved)
        assert download.value.suggested_filename == f"task-{task_id}.log"
        text = saved.read_text()
        assert "Reading the inputs" in text and MARKUP in text and "Succeeded in" in text

        row.get_by_test_id("task-log-toggle").click()
        expect(log).to_have_count(0)
    finally:
        context.close()
    assert console.unexpected() == []
