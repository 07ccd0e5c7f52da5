"""Scale-out: the queue on a real Redis server, consumed by a separate `mediastudio worker` process.

Needs Debian's redis-server (scripts/test installs it); the server and the worker share the data folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from kinds_for_tests import ENV as TEST_KINDS
from support import ApiClient, RunningServer, free_port, run_async, set_up_admin, start_server, wait_until
from support import wait_for_task as wait_for

ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0",
       "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("Debian's redis-server is needed for the scale-out test: apt-get install -y redis-server "
                    "(scripts/test installs it).")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    import redis

    try:
        wait_until(redis.Redis(port=port).ping, ignoring=(redis.ConnectionError,),
                   message=f"redis-server on port {port}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def start_worker(data_dir: Path, redis_url: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "mediastudio", "worker", "--queue", redis_url, "--data-dir",
                             str(data_dir), "--gpu-workers", "1", "--cpu-workers", "1"],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, env={**os.environ, **ENV})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[RunningServer]:
    # The studio only enqueues: no lane consumers of its own; the worker runs everything.
    server = start_server(tmp_path_factory.mktemp("redis-studio"), env=ENV,
                          args=["--queue", redis_url, "--gpu-workers", "0", "--cpu-workers", "0"])
    yield server
    server.stop()


def test_a_separate_worker_runs_tasks_and_events_reach_the_studio(server: RunningServer, redis_url: str,
                                                                   tmp_path: Path) -> None:
    admin = set_up_admin(server.url)
    worker = start_worker(server.data_dir, redis_url, tmp_path / "worker.log")
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in admin.cookies.items())}
    url = server.url.replace("http://", "ws://") + "/api/v1/events"
    try:
        async def scenario() -> tuple[dict, list[dict]]:
            async with websockets.connect(url, additional_headers=cookie) as ws:
                assert json.loads(await ws.recv())["type"] == "hello"
                created = await asyncio.to_thread(
                    admin.post, "/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": 5,
                                                                                          "step_seconds": 0.05}})
                task = created.json()
                seen: list[dict] = []
                while not seen or seen[-1]["type"] != "task.succeeded":
                    event = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if event["type"].startswith("task.") and event["task"]["id"] == task["id"]:
                        seen.append(event)
                return task, seen

        task, seen = run_async(scenario())
        types = [e["type"] for e in seen]
        assert types[0] == "task.queued" and types[1] == "task.started" and "task.progress" in types
        done = admin.get(f"/api/v1/tasks/{task['id']}").json()
        assert done["status"] == "succeeded" and done["result"]["steps"] == 5

        # Cancel crosses processes: the worker sees the request at its next step.
        long = admin.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": 100,
                                                                                   "step_seconds": 0.1}}).json()
        wait_for(admin, long["id"], ("running",))
        asked = time.monotonic()
        assert admin.post(f"/api/v1/tasks/{long['id']}/cancel").json()["outcome"] == "stopping"
        wait_for(admin, long["id"], ("cancelled",))
        print(f"\ncancel through Redis took {1000 * (time.monotonic() - asked):.0f} ms")

        # Priorities hold on Redis too (PriorityRedisHuey): with the lane paused, B's one task comes second.
        bob = ApiClient(server.url)
        bob.register("bob")
        admin.post("/api/v1/queue/pause", json={"lanes": ["gpu"]})
        # A window, not a wait for something one can see: the worker process caches the pause flag for up to
        # 0.25 s (PAUSE_CACHE_SECONDS) and says nothing when it reads it; past twice that, it has.
        time.sleep(0.5)
        mine = [admin.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": 1, "step_seconds": 0.01}}
                           ).json() for _ in range(4)]
        theirs = bob.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": 1}}).json()
        queue = admin.get("/api/v1/queue").json()
        assert [t["owner_name"] for t in queue["tasks"] if t["lane"] == "gpu"] == ["admin", "bob", "admin", "admin",
                                                                                   "admin"]
        admin.post("/api/v1/queue/resume", json={"lanes": ["gpu"]})
        for task in [*mine, theirs]:
            wait_for(admin, task["id"], ("succeeded",))
        order = sorted([admin.get(f"/api/v1/tasks/{t['id']}").json() for t in [*mine, theirs]],
                       key=lambda t: t["started_at"])
        assert [t["owner_name"] for t in order][:2] == ["admin", "bob"]

        # kill -9 of the worker mid-task: a new worker on this host runs it again.
        crash = admin.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": 30,
                                                                                    "step_seconds": 0.1}}).json()
        wait_for(admin, crash["id"], ("running",))
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        worker = start_worker(server.data_dir, redis_url, tmp_path / "worker2.log")
        again = wait_for(admin, crash["id"], ("succeeded",), timeout=30)
        assert again["attempts"] == 2
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert worker.returncode == 0, (tmp_path / "worker2.log").read_text()
