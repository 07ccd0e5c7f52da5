"""Time and stopping: the ETA of a running task against the time it really took, the words of a cancel, and an
administrator's force-stop of a task stuck in one step.

A studio process offers the test kinds (tests/kinds_for_tests.py): `test.sleep` with a slow start
(`load_seconds`, like a model load) before steps of a known length, and steps deaf to the cancel token
(`deaf`, like a long CPU step).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from kinds_for_tests import ENV as TEST_KINDS
from support import ApiClient, RunningServer, run_async, set_up_admin, start_server, wait_until
from support import wait_for_task as wait_for

TEST_ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0",
            "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000", "MEDIASTUDIO_RATE_LIMIT_IP_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("task-time"), env=TEST_ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def new_user(server: RunningServer, name: str) -> ApiClient:
    client = ApiClient(server.url)
    client.register(name)
    return client


def start(client: ApiClient, kind: str = "test.sleep", **params: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tasks", json={"kind": kind, "params": params})
    assert response.status_code == 201, response.text
    return response.json()


def progress_events(server: RunningServer, client: ApiClient, **params: Any) -> list[dict[str, Any]]:
    """Start a task and hear its events until it ends, each stamped with the moment it arrived."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
    url = server.url.replace("http://", "ws://") + "/api/v1/events"

    async def listen() -> list[dict[str, Any]]:
        async with websockets.connect(url, additional_headers=headers) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            task = await asyncio.to_thread(start, client, **params)
            heard: list[dict[str, Any]] = []
            while not heard or heard[-1]["type"] not in ("task.succeeded", "task.failed", "task.cancelled"):
                event = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if event["type"].startswith("task.") and event["task"]["id"] == task["id"]:
                    event["received"] = time.monotonic()
                    heard.append(event)
            return heard

    return run_async(listen())


# -- the ETA --------------------------------------------------------------------------------------
@pytest.mark.timing
def test_eta_of_a_run_with_a_slow_start_matches_the_time_its_steps_really_took(
        server: RunningServer, admin: ApiClient) -> None:
    # A 2 s "model load", then 12 steps of 0.4 s: counting the load as stepping (elapsed / steps) says three
    # times too much at 25 %.
    events = progress_events(server, admin, steps=12, step_seconds=0.4, load_seconds=2.0)
    assert events[-1]["type"] == "task.succeeded"
    steps = [e for e in events if e["type"] == "task.progress" and e["task"]["total"] == 12]
    before_a_step = [e for e in steps if e["task"]["step"] == 0]
    assert before_a_step and all(e["task"]["eta_seconds"] is None for e in before_a_step)  # not "0 s left"
    ended = next(e["received"] for e in steps if e["task"]["step"] == 12)
    for share in (0.25, 0.5, 0.75):
        at = next(e for e in steps if e["task"]["progress"] >= share)
        told, measured = at["task"]["eta_seconds"], ended - at["received"]
        print(f"\nat {share:.0%}: said {told:.2f} s left, took {measured:.2f} s")
        assert told is not None and abs(told - measured) <= 0.25 * measured, (share, told, measured)


# -- stopping -------------------------------------------------------------------------------------
def test_a_cancel_says_it_waits_for_the_step_and_about_how_long(server: RunningServer, admin: ApiClient) -> None:
    eve = new_user(server, "eve")
    task = start(eve, steps=6, step_seconds=1.5, deaf=True)  # steps that cannot be cut short
    wait_until(lambda: eve.get(f"/api/v1/tasks/{task['id']}").json(), until=lambda t: t["step_seconds"] is not None,
               timeout=15, message="the step time was never measured")
    asked = eve.post(f"/api/v1/tasks/{task['id']}/cancel").json()
    assert asked["outcome"] == "stopping" and asked["task"]["status"] == "running"
    assert asked["task"]["message"] == "Stopping after this step, about 2 s"  # 1.5 s measured, rounded up
    cancelled = wait_for(eve, task["id"], ("cancelled",), timeout=5)
    assert cancelled["step"] < 6 and cancelled["result"] is None


def test_an_admin_force_stops_a_task_stuck_in_a_step_and_its_lane_takes_the_next(
        server: RunningServer, admin: ApiClient) -> None:
    fay = new_user(server, "fay")
    stuck = start(fay, steps=2, step_seconds=12, deaf=True)
    wait_for(fay, stuck["id"], ("running",))
    behind = start(fay, steps=1, step_seconds=0.05)
    assert fay.get(f"/api/v1/tasks/{behind['id']}").json()["status"] == "queued"  # the lane's one worker is held
    assert fay.post(f"/api/v1/tasks/{stuck['id']}/cancel").json()["outcome"] == "stopping"
    refused = fay.post(f"/api/v1/tasks/{stuck['id']}/force-stop")
    assert refused.status_code == 403  # only administrators
    asked = time.monotonic()
    stopped = admin.post(f"/api/v1/tasks/{stuck['id']}/force-stop")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "cancelled" and stopped.json()["message"] == "Force-stopped by an administrator"
    assert fay.get(f"/api/v1/tasks/{stuck['id']}").json()["status"] == "cancelled"
    done = wait_for(fay, behind["id"], ("succeeded",), timeout=8)
    print(f"\nthe next task finished {time.monotonic() - asked:.2f} s after the force-stop (the step takes 12 s)")
    assert time.monotonic() - asked < 8 and done["status"] == "succeeded"
    again = admin.post(f"/api/v1/tasks/{stuck['id']}/force-stop")
    assert again.status_code == 409 and "not running" in again.json()["detail"]
    assert admin.post("/api/v1/tasks/t_nope/force-stop").status_code == 404
    # When the stuck step returns, its worker leaves (its scratch folder goes) and changes nothing.
    record = fay.get(f"/api/v1/tasks/{stuck['id']}").json()
    wait_until(lambda: not (server.data_dir / "tasks" / stuck["id"]).exists(), timeout=20,
               message="the stuck worker never came back from its step")
    after = fay.get(f"/api/v1/tasks/{stuck['id']}").json()
    assert after["status"] == "cancelled" and after["revision"] == record["revision"] and after["result"] is None
