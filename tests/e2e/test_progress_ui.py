"""What the studio shows of a run is true, in real Chromium: the canvas's run overlay and the Progress panel read
one task (a batch shows its running run, not its newest waiting one), a reload during a run brings the overlay
and its Cancel back, a failed run leaves no node "Waiting", and on a phone the task pill covers no button.

Two servers of its own: one with a tiny Stable Diffusion model (random weights, made here) for runs that take a
while, and a copy of it with broken weights that fails when a run loads it; one with no model.
Both offer the test task kinds.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import ADMIN, DESKTOP, PHONE, ConsoleLog, create_project, csrf_headers, new_account, skip_tour
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kinds_for_tests import ENV as TEST_KINDS
from support import RunningServer, add_model, start_server, wait_until

ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}
SHOTS = Path("/tmp/shots-progress")
RUN_TIMEOUT_MS = 60_000


def _server(folder: Path, *models: Path) -> RunningServer:
    for model in models:
        add_model(model, folder / "data")
    server = start_server(folder, env=ENV)
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    assert httpx.get(f"{server.url}/api/v1/health").json()["ui"], "web_dist/ is not built"
    return server


@pytest.fixture(scope="module")
def model_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tiny_models import build_tiny_sd

    model = build_tiny_sd(tmp_path_factory.mktemp("progress-models") / "tiny-sd")
    # A copy whose denoiser weights are garbage (named to sort after tiny-sd, the default model): it passes
    # every check before a run and fails when it is loaded.
    broken = shutil.copytree(model, model.parent / "zz-broken-sd")
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"not weights" * 100)
    server = _server(tmp_path_factory.mktemp("progress-ui"), model, broken)
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def bare_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = _server(tmp_path_factory.mktemp("progress-ui-bare"))
    yield server.url
    server.stop()


def _context(browser: Browser, url: str, prefix: str, **options: object) -> BrowserContext:
    context = browser.new_context(**({"viewport": DESKTOP} | options))  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    answer = context.request.post(f"{url}/api/v1/auth/register", data=new_account(prefix).credentials())
    assert answer.status == 201, answer.text()
    skip_tour(context, url)
    return context


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _scene_graph(context: BrowserContext, url: str, project: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    detail = context.request.get(f"{url}/api/v1/projects/{project['id']}").json()
    scene_id = str(detail["scenes"][0]["id"])
    graph = context.request.get(f"{url}/api/v1/projects/{project['id']}/scenes/{scene_id}/graph").json()
    return scene_id, graph


def _put_graph(context: BrowserContext, url: str, project_id: str, scene_id: str, graph: dict[str, Any]) -> None:
    answer = context.request.put(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/graph", data=graph,
                                 headers=csrf_headers(context))
    assert answer.ok, answer.text()


def _batch(context: BrowserContext, url: str, project_id: str, scene_id: str, repeat: int) -> list[dict[str, Any]]:
    answer = context.request.post(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/runs",
                                  data={"repeat": repeat}, headers=csrf_headers(context))
    assert answer.ok, answer.text()
    return answer.json()["items"]  # type: ignore[no-any-return]


def _task(context: BrowserContext, url: str, task_id: str) -> dict[str, Any]:
    return context.request.get(f"{url}/api/v1/tasks/{task_id}").json()  # type: ignore[no-any-return]


def _open(page: Page, url: str, project_id: str) -> None:
    page.goto(f"{url}/projects/{project_id}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")


def _node(page: Page, node_id: str) -> Any:
    return page.locator(f'[data-testid="graph-node"][data-node-id="{node_id}"]')


def test_the_overlay_follows_the_running_run_and_comes_back_after_a_reload(
        browser: Browser, model_url: str, console: ConsoleLog) -> None:
    context = _context(browser, model_url, "reload")
    try:
        project = create_project(context, model_url, "Long runs", "text-to-image")
        scene_id, graph = _scene_graph(context, model_url, project)
        graph["nodes"]["generate"]["params"].update({"width": 128, "height": 128, "steps": 150})
        _put_graph(context, model_url, project["id"], scene_id, graph)
        page = context.new_page()
        console.watch(page)
        _open(page, model_url, project["id"])
        first, second = _batch(context, model_url, project["id"], scene_id, 2)
        expect(_node(page, "generate")).to_have_attribute("data-state", "running", timeout=RUN_TIMEOUT_MS)
        overlay = page.get_by_test_id("run-progress")
        # The batch's newest run waits; the overlay shows the one that runs, as the Progress panel does.
        expect(overlay).to_have_attribute("data-status", "running")
        expect(overlay).to_contain_text("Running")
        expect(page.get_by_test_id("run-waiting")).to_have_text("+1 waiting")
        row = page.locator(f'[data-testid="task-row"][data-task-id="{first["id"]}"]')
        expect(row).to_have_attribute("data-status", "running")
        page.reload()
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        expect(overlay).to_be_visible()
        expect(overlay).to_have_attribute("data-status", "running")
        expect(page.get_by_test_id("run-cancel")).to_be_enabled()
        expect(_node(page, "generate")).to_have_attribute("data-state", "running")
        _shot(page, "run-after-reload-desktop")
        page.get_by_test_id("run-cancel").click()
        wait_until(lambda: _task(context, model_url, first["id"]), until=lambda t: t["status"] == "cancelled",
                   timeout=30, message="the running run to stop")
        # The batch's next run takes over the overlay; cancelling it leaves none. The run says "running" from its
        # start, while its nodes are still being set up: the generator is cancelled (rather than never reached,
        # "Not run") only once it runs itself.
        expect(overlay).to_have_attribute("data-status", "running", timeout=RUN_TIMEOUT_MS)
        expect(_node(page, "generate")).to_have_attribute("data-state", "running", timeout=RUN_TIMEOUT_MS)
        page.get_by_test_id("run-cancel").click()
        wait_until(lambda: _task(context, model_url, second["id"]), until=lambda t: t["status"] == "cancelled",
                   timeout=30, message="the second run to stop")
        expect(overlay).to_have_count(0)
        expect(_node(page, "generate")).to_have_attribute("data-state", "cancelled")
        expect(page.locator('[data-testid="graph-node"][data-state="waiting"]')).to_have_count(0)
    finally:
        context.close()
    assert console.unexpected() == []


def test_a_failed_run_leaves_no_node_waiting(browser: Browser, model_url: str, console: ConsoleLog) -> None:
    context = _context(browser, model_url, "failing")
    try:
        project = create_project(context, model_url, "Broken weights", "text-to-image")
        scene_id, graph = _scene_graph(context, model_url, project)
        # The model node picks the model whose weights cannot be loaded: the generation fails when it starts.
        graph["nodes"]["model"]["params"]["model"] = "zz-broken-sd"
        _put_graph(context, model_url, project["id"], scene_id, graph)
        page = context.new_page()
        console.watch(page)
        _open(page, model_url, project["id"])
        page.get_by_test_id("run-scene").click()
        expect(_node(page, "generate")).to_have_attribute("data-state", "error", timeout=RUN_TIMEOUT_MS)
        expect(page.get_by_test_id("run-progress")).to_have_count(0)
        expect(page.locator('[data-testid="graph-node"][data-state="waiting"]')).to_have_count(0)
        skipped = page.locator('[data-testid="graph-node"][data-state="skipped"]')
        expect(skipped.first).to_be_visible()
        expect(skipped.first.get_by_test_id("node-state")).to_have_text("Not run")
        _shot(page, "failed-run-desktop")
    finally:
        context.close()
    assert console.unexpected() == []


def _cancel(context: BrowserContext, url: str, *task_ids: str) -> None:
    """Leave the lane free for the next test (on a connection of its own: the page's may be closing)."""
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    with httpx.Client(base_url=url, cookies=cookies, headers=csrf_headers(context), timeout=10) as client:
        for task_id in task_ids:
            assert client.post(f"/api/v1/tasks/{task_id}/cancel").status_code == 200


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_on_a_phone_the_task_pill_covers_no_button(browser: Browser, bare_url: str, console: ConsoleLog) -> None:
    context = _context(browser, bare_url, "pocket", viewport=PHONE, device_scale_factor=2, is_mobile=True,
                       has_touch=True)
    task_id = None
    try:
        project = create_project(context, bare_url, "Pocket", "text-to-image")
        started = context.request.post(f"{bare_url}/api/v1/tasks", headers=csrf_headers(context),
                                       data={"kind": "test.sleep", "params": {"steps": 200, "step_seconds": 0.2}})
        assert started.status == 201, started.text()
        task_id = started.json()["id"]
        page = context.new_page()
        console.watch(page)
        page.goto(f"{bare_url}/projects/{project['id']}")
        page.get_by_test_id("tab-canvas").click()
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        pill = page.get_by_test_id("task-tray-button")
        expect(pill).to_be_visible()
        expect(page.get_by_test_id("run-scene")).to_be_visible()
        _shot(page, "task-pill-phone")
        box = pill.bounding_box()
        assert box is not None
        for name in ("run-scene", "save-version", "canvas-toolbar"):
            other = page.get_by_test_id(name).bounding_box()
            assert other is not None, name
            assert not _overlap(box, other), (name, box, other)
        for tab in page.locator('[data-testid^="tab-"]').all():
            other = tab.bounding_box()
            if other is not None:
                assert not _overlap(box, other), ("tab", box, other)
        # The Properties tab holds the inspector and, folded to a bar that counts what runs, the Progress panel;
        # opened, it lists the task (of no project).
        page.get_by_test_id("tab-properties").click()
        expect(page.get_by_test_id("progress-count")).to_have_text("· 1 running")
        page.get_by_test_id("progress-toggle").click()
        expect(page.get_by_test_id("progress-panel").get_by_test_id("task-row")).to_have_count(1)
        _shot(page, "progress-phone")
    finally:
        if task_id:  # even when an assertion failed: a 40 s task left running keeps the next tests queued
            _cancel(context, bare_url, task_id)
        context.close()
    assert console.unexpected() == []


def _project_task(context: BrowserContext, url: str, project_id: str) -> dict[str, Any]:
    answer = context.request.post(f"{url}/api/v1/tasks", headers=csrf_headers(context),
                                  data={"kind": "test.project_sleep", "project_id": project_id,
                                        "params": {"steps": 300, "step_seconds": 0.2}})
    assert answer.status == 201, answer.text()
    return answer.json()  # type: ignore[no-any-return]


def test_the_progress_panel_shows_this_project_names_projects_and_folds(
        browser: Browser, bare_url: str, console: ConsoleLog) -> None:
    context = _context(browser, bare_url, "scoped")
    try:
        here = create_project(context, bare_url, "Harbour film")
        there = create_project(context, bare_url, "Desert film")
        mine = _project_task(context, bare_url, str(here["id"]))
        other = _project_task(context, bare_url, str(there["id"]))
        assert mine["project_name"] == "Harbour film"  # the API names the project of each task
        page = context.new_page()
        console.watch(page)
        _open(page, bare_url, str(here["id"]))
        panel = page.get_by_test_id("progress-panel")
        rows = panel.get_by_test_id("task-row")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-task-id", mine["id"])
        expect(rows.first.get_by_test_id("task-project")).to_have_text("· Harbour film")
        page.get_by_test_id("progress-scope-all").click()
        expect(rows).to_have_count(2)
        expect(panel.locator(f'[data-task-id="{other["id"]}"]').get_by_test_id("task-project")).to_have_text(
            "· Desert film")
        _shot(page, "progress-all-desktop")
        page.get_by_test_id("progress-scope-project").click()
        expect(rows).to_have_count(1)
        # Folded, the panel is its header: the inspector above it takes the height.
        inspector = page.get_by_role("region", name="Properties Inspector")
        before = inspector.bounding_box()
        page.get_by_test_id("progress-toggle").click()
        expect(page.get_by_test_id("progress-section")).to_have_attribute("data-collapsed", "true")
        expect(panel).to_have_count(0)
        expect(page.get_by_test_id("progress-count")).to_have_text("· 1 running")
        expect(page.get_by_test_id("task-tray")).to_have_count(0)  # the folded panel still tells: no pill on it
        after = inspector.bounding_box()
        assert before is not None and after is not None and after["height"] > before["height"] + 100, (before, after)
        _shot(page, "progress-folded-desktop")
        page.reload()  # the choice is kept
        expect(page.get_by_test_id("progress-section")).to_have_attribute("data-collapsed", "true")
        _cancel(context, bare_url, mine["id"], other["id"])
    finally:
        context.close()
    assert console.unexpected() == []


def test_an_admin_force_stops_a_task_stuck_in_its_step(browser: Browser, bare_url: str, console: ConsoleLog) -> None:
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    try:
        answer = context.request.post(f"{bare_url}/api/v1/auth/login",
                                      data={"username": ADMIN.username, "password": ADMIN.password})
        assert answer.status == 200, answer.text()
        skip_tour(context, bare_url)
        project = create_project(context, bare_url, "Stuck render")
        stuck = context.request.post(f"{bare_url}/api/v1/tasks", headers=csrf_headers(context), data={
            "kind": "test.sleep", "params": {"steps": 3, "step_seconds": 20, "deaf": True, "label": "Stuck render"}})
        assert stuck.status == 201, stuck.text()
        task_id = stuck.json()["id"]
        page = context.new_page()
        console.watch(page)
        _open(page, bare_url, str(project["id"]))
        row = page.get_by_test_id("progress-panel").locator(f'[data-task-id="{task_id}"]')
        expect(row).to_have_attribute("data-status", "running")
        row.get_by_role("button", name="Cancel Stuck render").click()
        expect(row.get_by_test_id("task-line")).to_contain_text("stopping after this step")
        expect(row).to_have_attribute("data-status", "running")  # a step is never cut in half
        _shot(page, "force-stop-desktop")
        row.get_by_test_id("task-force-stop").click()
        expect(row).to_have_attribute("data-status", "cancelled")
        expect(row.get_by_test_id("task-line")).to_have_text("Force-stopped by an administrator")
        assert _task(context, bare_url, task_id)["status"] == "cancelled"
    finally:
        context.close()
    assert console.unexpected() == []


def test_someone_elses_shared_run_is_listed_by_their_name_without_cancel(
        browser: Browser, model_url: str, console: ConsoleLog) -> None:
    from browser_support import join_project

    context = _context(browser, model_url, "sharer")
    ben = None
    try:
        workspace = context.request.post(f"{model_url}/api/v1/workspaces", data={"name": "Shared runs"},
                                         headers=csrf_headers(context)).json()
        project = create_project(context, model_url, "Long runs together", "text-to-image",
                                 workspace_id=workspace["id"])
        scene_id, graph = _scene_graph(context, model_url, project)
        graph["nodes"]["generate"]["params"].update({"width": 128, "height": 128, "steps": 150})
        _put_graph(context, model_url, project["id"], scene_id, graph)
        _, ben, _ = join_project(browser, context, model_url, workspace["id"], project["id"], "editor", "ben")
        page = context.new_page()
        console.watch(page)
        _open(page, model_url, project["id"])
        panel = page.get_by_test_id("progress-panel")
        expect(panel.get_by_test_id("task-list")).to_contain_text("No tasks in this project")

        # Ben runs the scene: the owner's Progress panel lists it, by Ben's name, with no Cancel of theirs.
        (run,) = _batch(ben, model_url, project["id"], scene_id, 1)
        others = panel.get_by_test_id("tasks-others")
        row = others.locator(f'[data-task-id="{run["id"]}"]')
        expect(row).to_be_visible(timeout=RUN_TIMEOUT_MS)
        expect(row.get_by_test_id("task-owner")).to_contain_text("· by Ben")  # their display name
        expect(row).to_have_attribute("data-status", "running", timeout=RUN_TIMEOUT_MS)
        expect(row.get_by_role("button", name=f"Cancel {run['title']}")).to_have_count(0)
        expect(panel.get_by_test_id("task-list")).not_to_contain_text("No tasks in this project")
        page.get_by_test_id("progress-scope-all").click()  # not one of the owner's tasks
        expect(others).to_have_count(0)
        page.get_by_test_id("progress-scope-project").click()
        _shot(page, "progress-others-run-desktop")
        answer = ben.request.post(f"{model_url}/api/v1/tasks/{run['id']}/cancel", headers=csrf_headers(ben))
        assert answer.ok, answer.text()
        expect(others).to_have_count(0, timeout=30_000)  # ended: it leaves the list
    finally:
        if ben is not None:
            ben.close()
        context.close()
    assert console.unexpected() == []
