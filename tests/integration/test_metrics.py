"""`GET /metrics` on a real server, read as this machine reads it (loopback): the series parse, and they move
with what happens — requests by route template (never a raw path), sockets open, live rooms and their updates,
task outcomes, waits and queue lengths, the data folder's disk."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import websockets
from yclient import YClient, ws_url

from kinds_for_tests import ENV as TEST_KINDS
from metrics_text import Family, parse
from support import ApiClient, RunningServer, run_async, set_up_admin, start_server, wait_for_task, wait_until

ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("metrics"), env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def scrape(server: RunningServer) -> dict[str, Family]:
    answer = httpx.get(f"{server.url}/metrics")
    assert answer.status_code == 200, answer.text
    return parse(answer.text)


def requests(families: dict[str, Family], route: str, status: str = "2xx", method: str = "GET") -> float:
    found = [v for (name, labels), v in families["mediastudio_http_requests_total"].samples.items()
             if dict(labels) == {"method": method, "route": route, "status": status}]
    return found[0] if found else 0.0


def test_requests_are_counted_by_route_template(server: RunningServer, admin: ApiClient) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Counted"}).json()
    before = scrape(server)
    for _ in range(3):
        assert httpx.get(f"{server.url}/api/v1/health").status_code == 200
        assert admin.get(f"/api/v1/projects/{project['id']}").status_code == 200
    assert admin.get("/api/v1/projects/p_nothing_here").status_code == 404
    text = httpx.get(f"{server.url}/metrics").text
    after = parse(text)
    template = "/api/v1/projects/{project_id}"
    assert requests(after, template) - requests(before, template) == 3
    assert requests(after, template, "4xx") - requests(before, template, "4xx") == 1
    assert requests(after, "/api/v1/health") - requests(before, "/api/v1/health") == 3
    assert project["id"] not in text and "p_nothing_here" not in text  # no raw path becomes a label
    routes = after["mediastudio_http_requests_total"].label_values("route")
    assert all(route.startswith("/") or route == "unrouted" for route in routes), routes
    seconds = after["mediastudio_http_request_duration_seconds"]
    assert seconds.value("_count", method="GET", route=template, status="2xx") >= 3
    assert after["mediastudio_data_disk_free_bytes"].value() > 0
    assert after["process_resident_memory_bytes"].value() > 10_000_000
    assert not any(name.startswith("mediastudio_gpu_") for name in after)  # no GPU: no GPU series


def test_open_sockets_rooms_and_updates(server: RunningServer, admin: ApiClient) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Live", "template": "text-to-image"}).json()
    scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    applied_before = scrape(server)["mediastudio_collab_updates_applied_total"].value()
    feed = server.url.replace("http://", "ws://") + "/api/v1/events"
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in admin.cookies.items())}

    async def scenario() -> None:
        async with websockets.connect(feed, additional_headers=cookie), \
                YClient(ws_url(server.url, project["id"], scene["id"]), cookies=dict(admin.cookies)) as editor:
            families = await asyncio.to_thread(scrape, server)
            open_now = families["mediastudio_websockets_open"]
            assert open_now.value(endpoint="/api/v1/events") == 1
            assert open_now.value(endpoint="/api/v1/projects/{project_id}/scenes/{scene_id}/sync") == 1
            assert families["mediastudio_collab_rooms_open"].value(kind="scene") == 1
            assert families["mediastudio_collab_members"].value() == 1
            for steps in (31, 32):
                graph = editor.graph()
                graph["nodes"]["generate"]["params"]["steps"] = steps
                await editor.edit(graph)

    run_async(scenario())
    after = wait_until(lambda: scrape(server), until=lambda f: f["mediastudio_websockets_open"].value(
        endpoint="/api/v1/events") == 0, message="the sockets to be counted closed")
    assert after["mediastudio_collab_updates_applied_total"].value() >= applied_before + 2
    assert after["mediastudio_websocket_connections_total"].value(endpoint="/api/v1/events") >= 1


def test_tasks_are_counted_by_kind_and_outcome(server: RunningServer, admin: ApiClient) -> None:
    def start(**params: object) -> str:
        made = admin.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": 2, "step_seconds": 0.01,
                                                                                 **params}})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    wait_for_task(admin, start())
    wait_for_task(admin, start(fail_at=1), ("failed",))

    def counted(families: dict[str, Family]) -> bool:
        ended = families.get("mediastudio_tasks_finished_total")
        return ended is not None and ended.label_values("outcome") >= {"succeeded", "failed"}

    families = wait_until(lambda: scrape(server), until=counted, message="both endings to be counted")
    ended = families["mediastudio_tasks_finished_total"]
    assert ended.value(kind="test.sleep", outcome="succeeded") == 1
    assert ended.value(kind="test.sleep", outcome="failed") == 1
    assert families["mediastudio_task_duration_seconds"].value("_count", kind="test.sleep", outcome="succeeded") == 1
    waits = families["mediastudio_task_queue_wait_seconds"]
    assert sum(waits.value("_count", lane=lane) for lane in waits.label_values("lane")) == 2
    queue = families["mediastudio_queue_tasks"]
    assert queue.label_values("lane") == {"gpu", "cpu"} and queue.label_values("state") == {"queued", "running"}
    assert families["mediastudio_queue_workers"].value(lane="cpu") >= 1


def test_doctor_reports_the_same_health(server: RunningServer, admin: ApiClient) -> None:
    from mediastudio.cli.doctor import check_database, check_queue, check_running_server
    from mediastudio.settings import Settings

    port = int(server.url.rsplit(":", 1)[1])
    settings = Settings(data_dir=server.data_dir, host="127.0.0.1", port=port, probe_gpu=False)
    running = check_running_server(settings)
    assert running is not None and running.status == "ok", running
    assert f"answers at {server.url}: " in running.label and " requests served, " in running.label
    assert "sockets open" in running.label and "tasks waiting or running" in running.label
    database = check_database(settings.database_path)
    assert (database.status, database.label) == ("ok", "Database mediastudio.sqlite is readable and whole")
    queue = check_queue(settings.database_path)
    assert queue.status == "ok" and queue.label.startswith("Queue: cpu ") and "gpu 0 waiting, 0 running" in queue.label
    assert check_running_server(Settings(data_dir=server.data_dir, port=1, probe_gpu=False)) is None


def test_the_cycle_collector_no_longer_walks_what_the_start_made(server: RunningServer, admin: ApiClient) -> None:
    """Once started, the studio froze the objects its start made (system/heap.py): ~180,000 that every full
    collection walked, 110 ms without any thread running on a small CPU. Its pauses are a histogram."""
    after = scrape(server)
    assert after["mediastudio_gc_frozen_objects"].value() > 50_000
    assert after["mediastudio_gc_pause_seconds"].type == "histogram"
