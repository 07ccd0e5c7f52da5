"""The task system end to end: a real server, real Huey lanes on SQLite, real task records.

Test kinds (`test.sleep` on the GPU lane, `test.sleep_cpu` on the CPU lane) sleep in steps, report
progress, and can fail or crash at a chosen step; they live in tests/kinds_for_tests.py and exist only in a
studio started with its ENV.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import websockets

from kinds_for_tests import ENV as TEST_KINDS
from support import ApiClient, RunningServer, png_bytes, run_async, set_up_admin, start_server, wait_until
from support import wait_for_task as wait_for

# Tests poll tasks quickly: lift the per-user request limit (its own tests are elsewhere).
TEST_ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0",
            "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000", "MEDIASTUDIO_RATE_LIMIT_IP_PER_MINUTE": "100000"}


def sleep_task(client: ApiClient, steps: int = 5, step_seconds: float = 0.05, kind: str = "test.sleep",
               **params: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tasks", json={"kind": kind, "params": {"steps": steps,
                                                                             "step_seconds": step_seconds, **params}})
    assert response.status_code == 201, response.text
    return response.json()


def cookie(client: ApiClient) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}


def events_url(server: RunningServer) -> str:
    return server.url.replace("http://", "ws://") + "/api/v1/events"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("tasks"), env=TEST_ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def new_user(server: RunningServer, name: str) -> ApiClient:
    client = ApiClient(server.url)
    client.register(name)
    return client


# -- each status ---------------------------------------------------------------------------------
def test_a_task_runs_from_queued_to_succeeded_with_progress(server: RunningServer, admin: ApiClient) -> None:
    ana = new_user(server, "ana")
    created = sleep_task(ana, steps=8, step_seconds=0.05, label="Render the hero shot")
    assert created["status"] == "queued" and created["title"] == "Render the hero shot"
    assert created["owner_name"] == "ana" and created["attempts"] == 0
    running = wait_for(ana, created["id"], ("running",))
    assert running["started_at"] and running["finished_at"] is None
    done = wait_for(ana, created["id"], ("succeeded",))
    assert done["progress"] == 1.0 and done["step"] == done["total"] == 8 and done["finished_at"]
    assert done["result"] == {"steps": 8, "label": "Render the hero shot"} and done["error"] is None
    mine = ana.get("/api/v1/tasks").json()["items"]
    assert [t["id"] for t in mine] == [created["id"]]
    assert ana.get("/api/v1/tasks", params={"status": "failed"}).json()["items"] == []


def test_failures_carry_an_actionable_error_and_discard_outputs(server: RunningServer, admin: ApiClient) -> None:
    failed = wait_for(admin, sleep_task(admin, steps=5, fail_at=2, write_output=True)["id"], ("failed",))
    assert failed["error"] == {"code": "test_failure", "message": "Asked to fail at step 2.",
                               "hint": "It is a test task."}
    assert not (server.data_dir / "tasks" / failed["id"]).exists()  # partial output gone
    crashed = wait_for(admin, sleep_task(admin, steps=5, crash_at=1)["id"], ("failed",))
    assert crashed["error"]["code"] == "internal" and "crash at step 1" in crashed["error"]["message"]
    assert "server log" in crashed["error"]["hint"]


def test_bad_requests_are_refused_with_reasons(server: RunningServer, admin: ApiClient) -> None:
    bob = new_user(server, "bob")
    # Kinds and their parameters are not in the OpenAPI document's TaskCreate: refused as 422, not 400.
    unknown = bob.post("/api/v1/tasks", json={"kind": "mine.bitcoin"})
    assert unknown.status_code == 422 and "test.sleep" in unknown.json()["hint"]
    bad = bob.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": -1}})
    assert bad.status_code == 422 and "steps" in bad.json()["detail"]
    assert bob.post("/api/v1/tasks", json={"kind": "blobs.verify"}).status_code == 403
    needs_project = bob.post("/api/v1/tasks", json={"kind": "project.export"})
    assert needs_project.status_code == 422 and "project_id" in needs_project.json()["detail"]
    assert bob.get("/api/v1/tasks", params={"status": "done"}).status_code == 400
    assert bob.post("/api/v1/queue/pause", json={}).status_code == 403
    anonymous = ApiClient(server.url)
    assert anonymous.post("/api/v1/tasks", json={"kind": "test.sleep"}).status_code == 401


def test_cancel_a_waiting_task_and_a_running_one_within_a_step(server: RunningServer, admin: ApiClient) -> None:
    cara = new_user(server, "cara")
    long = sleep_task(cara, steps=4, step_seconds=5.0, write_output=True)
    waiting = sleep_task(cara, steps=1)
    wait_for(cara, long["id"], ("running",))
    assert cara.get(f"/api/v1/tasks/{waiting['id']}").json()["status"] == "queued"  # the lane's one slot is taken
    revoked = cara.post(f"/api/v1/tasks/{waiting['id']}/cancel").json()
    assert revoked["outcome"] == "revoked" and revoked["task"]["status"] == "cancelled"
    asked = time.monotonic()
    stopping = cara.post(f"/api/v1/tasks/{long['id']}/cancel").json()
    assert stopping["outcome"] == "stopping"
    cancelled = wait_for(cara, long["id"], ("cancelled",), timeout=5)
    latency = time.monotonic() - asked
    print(f"\ncancel of a running task (5 s steps) took effect in {latency * 1000:.0f} ms")
    assert latency < 1.0  # it stopped mid-step: the cancel token wakes the wait at once
    assert cancelled["result"] is None and not (server.data_dir / "tasks" / long["id"]).exists()
    # A window, not a wait: the lane is free now, and a revoked task that still ran would have started within
    # it (nothing shows when the worker skips a revoked task, so there is no event to wait for instead).
    time.sleep(0.3)
    assert wait_for(cara, waiting["id"], ("cancelled",))["started_at"] is None  # never ran
    again = cara.post(f"/api/v1/tasks/{long['id']}/cancel").json()
    assert again["outcome"] == "finished"
    # Only the owner (or an admin) may cancel: to anyone else the task does not exist.
    dan = new_user(server, "dan")
    other = sleep_task(cara, steps=20, step_seconds=0.05)
    assert dan.post(f"/api/v1/tasks/{other['id']}/cancel").status_code == 404
    assert dan.get(f"/api/v1/tasks/{other['id']}").status_code == 404
    assert admin.post(f"/api/v1/tasks/{other['id']}/cancel").json()["task"]["cancel_requested"]
    wait_for(cara, other["id"], ("cancelled",))


def test_fair_lanes_and_quotas(server: RunningServer, admin: ApiClient) -> None:
    eli, fay = new_user(server, "eli"), new_user(server, "fay")
    # eli's first task runs for 2 s, the other 19 are short; fay queues while the first one runs, so the
    # slot it frees is the "next slot" (queueing during a hand-over between two tasks would be a race).
    eli_tasks = [sleep_task(eli, steps=2, step_seconds=1.0 if i == 0 else 0.05) for i in range(20)]
    wait_for(eli, eli_tasks[0]["id"], ("running",))
    fay_task = sleep_task(fay, steps=1, step_seconds=0.05)
    wait_for(fay, fay_task["id"], ("succeeded",), timeout=30)
    for task in eli_tasks:
        wait_for(eli, task["id"], ("succeeded",), timeout=30)
    started = sorted([*(eli.get(f"/api/v1/tasks/{t['id']}").json() for t in eli_tasks),
                      fay.get(f"/api/v1/tasks/{fay_task['id']}").json()], key=lambda t: t["started_at"])
    order = [t["owner_name"] for t in started]
    print(f"\nstart order: {order}")
    # The first slot that opened after fay queued went to fay, although eli still had many waiting.
    after = [t for t in started if t["started_at"] > fay_task["created_at"]]
    assert order[0] == "eli" and after[0]["owner_name"] == "fay", order
    assert order.count("eli") - order.index("fay") >= 15

    # A guest may keep 5 tasks waiting; the 6th is refused with what to do.
    guest = ApiClient(server.url)
    assert guest.post("/api/v1/auth/guest").status_code in (200, 201)
    for _ in range(5):
        sleep_task(guest, steps=50, step_seconds=0.2)
    refused = guest.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": 1}})
    assert refused.status_code == 429 and "at most 5" in refused.json()["detail"]
    assert "Register" in refused.json()["hint"]
    for task in guest.get("/api/v1/tasks").json()["items"]:
        guest.post(f"/api/v1/tasks/{task['id']}/cancel")


# `timing`: the ETA extrapolates the steps it measured, so it is only as true as the machine is steady. In one CI
# run the other test process loaded both cores during steps 1-5 (0.274 s each) and not during 6-10 (0.2 s):
# at step 5 it said 1.37 s (5 × 0.274, the rate it had seen) and 1.04 s remained.
@pytest.mark.timing
def test_pause_positions_and_eta_within_20_percent(server: RunningServer, admin: ApiClient) -> None:
    gus = new_user(server, "gus")
    # History: one run of the kind of known duration (10 steps × 0.2 s).
    first = wait_for(gus, sleep_task(gus, steps=10, step_seconds=0.2, kind="test.sleep_cpu")["id"], ("succeeded",))
    assert first["result"]["steps"] == 10
    paused = admin.post("/api/v1/queue/pause", json={"lanes": ["cpu"]}).json()
    assert {lane["name"]: lane["paused"] for lane in paused["lanes"]} == {"gpu": False, "cpu": True}
    try:
        a = sleep_task(gus, steps=10, step_seconds=0.2, kind="test.sleep_cpu")
        b = sleep_task(gus, steps=5, step_seconds=0.2, kind="test.sleep_cpu")
        time.sleep(0.8)  # a window, not a wait: the lane is paused, so nothing may start within it
        queue = gus.get("/api/v1/queue").json()
        mine = {t["id"]: t for t in queue["tasks"]}
        assert mine[a["id"]]["status"] == "queued" and mine[a["id"]]["position"] == 1
        assert mine[b["id"]]["position"] == 2
        estimate_a = mine[a["id"]]["eta_seconds"]
        print(f"\nqueued ETA from history: {estimate_a:.2f} s for a 2.0 s task; "
              f"second waits {mine[b['id']]['starts_in_seconds']:.2f} s")
        assert estimate_a == pytest.approx(2.0, rel=0.2)
        assert mine[b["id"]]["starts_in_seconds"] == pytest.approx(0.0, abs=0.01)  # two CPU workers
    finally:
        admin.post("/api/v1/queue/resume", json={"lanes": ["cpu"]})
    wait_for(gus, a["id"], ("running",))
    running = wait_until(lambda: gus.get(f"/api/v1/tasks/{a['id']}").json(), until=lambda t: t["step"] >= 5,
                         message="step 5 of 10")  # halfway: the live rate has 5 steps to go on
    done = wait_for(gus, a["id"], ("succeeded",))
    predicted = running["eta_seconds"]  # as written with step `running["step"]`, at `updated_at`
    actual = (datetime.fromisoformat(done["finished_at"]) - datetime.fromisoformat(running["updated_at"])
              ).total_seconds()
    print(f"running ETA at step {running['step']}/10: {predicted:.2f} s; it took {actual:.2f} s more")
    assert predicted == pytest.approx(actual, rel=0.2)
    assert done["eta_seconds"] == 0.0


def test_export_and_previews_run_as_tasks(server: RunningServer, admin: ApiClient) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Night shoot", "template": "storyboard"}).json()
    upload = admin.post(f"/api/v1/projects/{project['id']}/assets", files={"file": ("frame.png", png_bytes())})
    assert upload.status_code == 201
    previews = [t for t in admin.get("/api/v1/tasks", params={"project": project["id"]}).json()["items"]
                if t["kind"] == "media.previews"]
    assert len(previews) == 1 and previews[0]["lane"] == "cpu"
    drawn = wait_for(admin, previews[0]["id"], ("succeeded",))
    assert drawn["result"]["drawn"] == 1
    created = admin.post("/api/v1/tasks", json={"kind": "project.export", "project_id": project["id"]})
    assert created.status_code == 201, created.text
    exported = wait_for(admin, created.json()["id"], ("succeeded",))
    assert exported["result"]["download"] == f"/api/v1/tasks/{exported['id']}/result"
    download = admin.get(exported["result"]["download"])
    assert download.status_code == 200 and "Night shoot.msproj" in download.headers["content-disposition"]
    with zipfile.ZipFile(BytesIO(download.content)) as archive:
        assert "manifest.json" in archive.namelist()
    imported = admin.post("/api/v1/projects/import", files={"file": ("Night shoot.msproj", download.content)})
    assert imported.status_code == 201, imported.text
    # The same file imported in the background: a task whose result names the new project.
    queued = admin.post("/api/v1/projects/import/background", files={"file": ("Night shoot.msproj",
                                                                              download.content)})
    assert queued.status_code == 202 and queued.json()["kind"] == "project.import"
    again = wait_for(admin, queued.json()["id"], ("succeeded",))
    assert admin.get(f"/api/v1/projects/{again['result']['project_id']}").json()["name"] == "Night shoot"
    assert not list((server.data_dir / "tmp" / "imports").iterdir())  # the upload is not kept
    broken = admin.post("/api/v1/projects/import/background", files={"file": ("bad.msproj", b"PK not a zip")})
    failed = wait_for(admin, broken.json()["id"], ("failed",))
    assert failed["error"]["code"] == "refused" and failed["error"]["message"]
    verify = admin.post("/api/v1/tasks", json={"kind": "blobs.verify"})
    assert wait_for(admin, verify.json()["id"], ("succeeded",))["result"]["checked"] >= 1


# -- events ---------------------------------------------------------------------------------------
def test_events_in_order_throttled_private_and_resent_on_reconnect(server: RunningServer, admin: ApiClient) -> None:
    hal, ivy = new_user(server, "hal"), new_user(server, "ivy")

    async def scenario() -> tuple[list[dict], list[dict], dict]:
        async with websockets.connect(events_url(server), additional_headers=cookie(hal)) as hal_ws, \
                websockets.connect(events_url(server), additional_headers=cookie(ivy)) as ivy_ws:
            assert json.loads(await hal_ws.recv())["type"] == "hello"
            assert json.loads(await ivy_ws.recv())["type"] == "hello"
            task = await asyncio.to_thread(sleep_task, hal, 60, 0.02)
            hal_events: list[dict] = []
            while not hal_events or hal_events[-1].get("type") != "task.succeeded":
                event = json.loads(await asyncio.wait_for(hal_ws.recv(), 10))
                event["received"] = time.monotonic()
                if (event["type"].startswith("task.") and event["task"]["id"] == task["id"]) or \
                        event["type"] == "queue.changed":
                    hal_events.append(event)
            ivy_events = []
            try:
                while True:
                    ivy_events.append(json.loads(await asyncio.wait_for(ivy_ws.recv(), 0.5)))
            except TimeoutError:
                pass
        async with websockets.connect(events_url(server), additional_headers=cookie(hal)) as again:
            hello = json.loads(await again.recv())
        return hal_events, ivy_events, hello

    hal_events, ivy_events, hello = run_async(scenario())
    task_events = [e for e in hal_events if e["type"].startswith("task.")]
    types = [e["type"] for e in task_events]
    assert types[0] == "task.queued" and types[1] == "task.started" and types[-1] == "task.succeeded"
    assert set(types[2:-1]) == {"task.progress"}
    revisions = [e["task"]["revision"] for e in task_events]
    assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions)
    assert all(e["version"] == 1 for e in hal_events)
    progress = [e for e in task_events if e["type"] == "task.progress"]
    span = progress[-1]["received"] - progress[0]["received"]
    rate = (len(progress) - 1) / span if span else 0
    print(f"\n{len(progress)} progress events for 60 steps over {span:.2f} s ({rate:.1f}/s)")
    assert rate <= 12
    queue_events = [e for e in hal_events if e["type"] == "queue.changed"]
    hal_id = task_events[0]["task"]["owner_id"]
    assert queue_events and all(t["owner_id"] == hal_id for e in queue_events for t in e["tasks"])
    # ivy sees the queue move (counts), never hal's task.
    assert not [e for e in ivy_events if e["type"].startswith("task.")]
    assert all(e["tasks"] == [] for e in ivy_events if e["type"] == "queue.changed")
    # Reconnecting: the hello carries the task's current state at once.
    assert hello["type"] == "hello"
    assert any(t["id"] == task_events[0]["task"]["id"] and t["status"] == "succeeded" for t in hello["tasks"])
    assert {lane["name"] for lane in hello["queue"]["lanes"]} == {"gpu", "cpu"}


# -- restarts -------------------------------------------------------------------------------------
def test_kill_9_while_running_requeues_once_then_fails_clearly(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=TEST_ENV)
    client = set_up_admin(server.url)
    try:
        client.post("/api/v1/queue/pause", json={"lanes": ["cpu"]})  # the pause survives restarts too
        # long enough to be still running at the second kill however slowly the machine restarts (it is killed)
        task = sleep_task(client, steps=3000, step_seconds=0.1)
        waiting = [sleep_task(client, steps=2, step_seconds=0.05, kind="test.sleep_cpu") for _ in range(3)]
        wait_for(client, task["id"], ("running",))
        server.stop(signal.SIGKILL)
        server = start_server(tmp_path, env=TEST_ENV)
        client = ApiClient(server.url)
        assert client.post("/api/v1/auth/login", json={"username": "admin",
                                                       "password": "copper lantern ninety"}).status_code == 200
        again = wait_for(client, task["id"], ("running",))
        assert again["attempts"] == 2
        client.post("/api/v1/queue/resume", json={"lanes": ["cpu"]})
        for other in waiting:  # queued tasks survived the crash and ran
            assert wait_for(client, other["id"], ("succeeded",))["attempts"] == 1
        assert client.get(f"/api/v1/tasks/{task['id']}").json()["status"] == "running"  # killed while it runs
        server.stop(signal.SIGKILL)
        server = start_server(tmp_path, env=TEST_ENV)
        client = ApiClient(server.url)
        client.post("/api/v1/auth/login", json={"username": "admin", "password": "copper lantern ninety"})
        failed = wait_for(client, task["id"], ("failed",))
        assert failed["error"]["code"] == "interrupted"
        assert "stopped while this task ran, 2 times" in failed["error"]["message"]
        assert not client.get("/api/v1/tasks", params={"status": "running"}).json()["items"]
    finally:
        server.stop()


def test_kill_9_with_tasks_waiting_on_the_lane_runs_each_once_in_their_order(tmp_path: Path) -> None:
    """A lane's messages live in the server's memory only (the rows are the truth): a killed server loses them,
    and the next start puts every waiting task back, so each runs exactly once, in the order it was queued."""
    server = start_server(tmp_path, env=TEST_ENV)
    client = set_up_admin(server.url)
    try:
        first = sleep_task(client, steps=400, step_seconds=0.1)
        waiting = [sleep_task(client, steps=1, step_seconds=0.01) for _ in range(4)]
        wait_for(client, first["id"], ("running",))
        assert [t["status"] for t in waiting] == ["queued"] * 4
        server.stop(signal.SIGKILL)
        server = start_server(tmp_path, env=TEST_ENV)
        client = ApiClient(server.url)
        client.post("/api/v1/auth/login", json={"username": "admin", "password": "copper lantern ninety"})
        client.post(f"/api/v1/tasks/{first['id']}/cancel")  # the interrupted one, put back first, is let go
        done = [wait_for(client, t["id"], ("succeeded",)) for t in waiting]
        assert [t["attempts"] for t in done] == [1, 1, 1, 1]  # none lost, none taken twice
        starts = [datetime.fromisoformat(t["started_at"]) for t in done]
        assert starts == sorted(starts)  # in the order they were queued
        assert not client.get("/api/v1/tasks", params={"status": "queued"}).json()["items"]
    finally:
        server.stop()


def test_a_clean_stop_interrupts_and_the_next_start_runs_it_again(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=TEST_ENV)
    client = set_up_admin(server.url)
    try:
        task = sleep_task(client, steps=20, step_seconds=0.5)
        wait_for(client, task["id"], ("running",))
        seconds = server.stop(signal.SIGTERM)
        assert seconds < 5  # the running task stopped at once instead of holding the shutdown
        server = start_server(tmp_path, env=TEST_ENV)
        client = ApiClient(server.url)
        client.post("/api/v1/auth/login", json={"username": "admin", "password": "copper lantern ninety"})
        assert wait_for(client, task["id"], ("running",))["attempts"] == 2
        client.post(f"/api/v1/tasks/{task['id']}/cancel")
        assert wait_for(client, task["id"], ("cancelled",))["status"] == "cancelled"
    finally:
        server.stop()
