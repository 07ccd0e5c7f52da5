"""Real events from a running studio read back as their published models, unchanged: one scenario makes
every type a client can receive (tasks that succeed, fail and are cancelled, a paused lane, project,
asset and live-edit changes) and two sockets, an administrator's and a member's, record them all."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from yclient import YClient, ws_url

from kinds_for_tests import ENV as TEST_KINDS
from mediastudio.api_docs.events import STUDIO_EVENT
from mediastudio.events.schema import message_types
from support import ApiClient, RunningServer, make_team, png_bytes, run_async, set_up_admin, start_server
from support import wait_for_task as wait_for

TEST_ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0",
            "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000", "MEDIASTUDIO_RATE_LIMIT_IP_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("event-capture"), env=TEST_ENV)
    yield server
    server.stop()


def _socket(server: RunningServer, client: ApiClient) -> Any:
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return websockets.connect(server.url.replace("http://", "ws://") + "/api/v1/events",
                              additional_headers={"Cookie": cookie}, max_size=None)


def _task(client: ApiClient, **params: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": 3, "step_seconds": 0.05,
                                                                                   **params}})
    assert response.status_code == 201, response.text
    return response.json()


def _make_changes(ana: ApiClient, team: dict[str, Any]) -> None:
    """Through the REST API, at least one event of each type a client can receive but project.activity
    (live edits, below) and hello (on connect)."""
    project, scene = team["project"], team["scene"]
    wait_for(ana, _task(ana)["id"])  # task.queued, started, progress, succeeded; queue.changed
    wait_for(ana, _task(ana, fail_at=1)["id"], ("failed",))  # task.failed
    assert ana.post("/api/v1/queue/pause", json={"lanes": ["gpu"]}).status_code == 200  # queue.paused
    waiting = _task(ana)
    assert ana.post(f"/api/v1/tasks/{waiting['id']}/cancel").status_code == 200  # task.cancelled
    assert ana.post("/api/v1/queue/resume", json={"lanes": ["gpu"]}).status_code == 200
    # project.changed: with a commit, then without one (trash, restore)
    assert ana.patch(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}", json={"name": "Dawn"}).status_code == 200
    assert ana.delete(f"/api/v1/projects/{project['id']}").status_code == 204
    assert ana.post(f"/api/v1/projects/{project['id']}/restore").status_code == 200
    uploaded = ana.post(f"/api/v1/projects/{project['id']}/assets",
                        files={"file": ("frame.png", png_bytes(), "image/png")})  # asset.created
    assert uploaded.status_code == 201, uploaded.text
    asset = uploaded.json()[0]
    assert ana.patch(f"/api/v1/projects/{project['id']}/assets/{asset['id']}",
                     json={"name": "Hero frame"}).status_code == 200  # asset.updated
    # comment.*: Bob's thread on the take names Ana (notification.created, hers), edited, resolved, reopened,
    # answered and the answer deleted
    comments, bob = f"/api/v1/projects/{project['id']}/comments", team["bob"]
    thread = bob.post(comments, json={"target": {"kind": "asset", "id": asset["id"]}, "body": "@ana the horizon tilts"})
    assert thread.status_code == 201, thread.text
    url = f"{comments}/{thread.json()['id']}"
    first = thread.json()["comments"][0]["id"]
    assert bob.patch(f"{url}/comments/{first}", json={"body": "@ana the horizon tilts left"}).status_code == 200
    assert ana.patch(url, json={"resolved": True}).status_code == 200
    assert ana.patch(url, json={"resolved": False}).status_code == 200
    answer = ana.post(f"{url}/replies", json={"body": "fixed"}).json()["comments"][1]["id"]
    assert ana.delete(f"{url}/comments/{answer}").status_code == 204
    # shot.changed: Ana sends the scene's shot to review on the board
    status = ana.patch(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/shots/shot", json={"status": "review"})
    assert status.status_code == 200, status.text


async def _edit_live(server: RunningServer, team: dict[str, Any]) -> None:
    """Bob edits the scene live: project.activity once the edit has settled (and project.changed)."""
    url = ws_url(server.url, team["project"]["id"], team["scene"]["id"])
    async with YClient(url, cookies=dict(team["bob"].cookies)) as bob:
        graph = bob.graph()
        graph["nodes"]["generate"]["params"]["steps"] = 21
        await bob.edit(graph)
        await asyncio.sleep(2.0)


def test_every_event_a_client_receives_is_its_published_model(server: RunningServer) -> None:
    ana = set_up_admin(server.url, "ana")
    team = make_team(server, ana, 1)
    wanted = {name for name, cls in message_types().items() if not cls.internal}

    async def record() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with _socket(server, ana) as ana_ws, _socket(server, team["bob"]) as bob_ws:
            heard: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
            for socket, into in ((ana_ws, heard[0]), (bob_ws, heard[1])):
                into.append(json.loads(await asyncio.wait_for(socket.recv(), 10)))
            async def listen(socket: Any, into: list[dict[str, Any]]) -> None:
                with contextlib.suppress(TimeoutError):
                    while True:
                        into.append(json.loads(await asyncio.wait_for(socket.recv(), 60)))

            listeners = [asyncio.create_task(listen(s, into)) for s, into in ((ana_ws, heard[0]), (bob_ws, heard[1]))]
            await asyncio.to_thread(_make_changes, ana, team)
            await _edit_live(server, team)
            deadline = time.monotonic() + 15
            while {e["type"] for e in heard[0]} < wanted and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # what is still on its way
            for listener in listeners:
                listener.cancel()
            return heard

    ana_heard, bob_heard = run_async(record())
    assert {e["type"] for e in ana_heard} == wanted  # the administrator hears every type once at least
    assert ana_heard[0]["type"] == "hello" and bob_heard[0]["type"] == "hello"
    for event in [*ana_heard, *bob_heard]:
        model = STUDIO_EVENT.validate_python(event)
        assert type(model) is message_types()[event["type"]]
        assert STUDIO_EVENT.dump_python(model, mode="json") == event, event["type"]  # nothing lost, nothing added
    # A member hears the workspace's project and asset events, and no one's tasks but their own.
    bob_types = {e["type"] for e in bob_heard}
    assert {"project.changed", "project.activity", "asset.created", "asset.updated", "queue.changed"} <= bob_types
    assert not any(t.startswith("task.") for t in bob_types)
    assert all(e["tasks"] == [] for e in bob_heard if e["type"] == "queue.changed")
    changes = [e for e in ana_heard if e["type"] == "project.changed"]
    assert any("commit" in e for e in changes) and any("commit" not in e for e in changes)
