"""`WS /api/v1/events`: project and asset events reach the members of the workspace, no one else."""

import asyncio
import contextlib
import json
from collections.abc import Iterator

import pytest
import websockets

from support import ApiClient, RunningServer, run_async, set_up_admin, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("events"))
    yield server
    server.stop()


def _url(server: RunningServer) -> str:
    return server.url.replace("http://", "ws://") + "/api/v1/events"


def _cookie(client: ApiClient) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}


def test_members_hear_of_changes_and_outsiders_do_not(server: RunningServer) -> None:
    ana = set_up_admin(server.url, "ana")
    bob, eve = ApiClient(server.url), ApiClient(server.url)
    bob.register("bob")
    eve.register("eve")
    team = ana.post("/api/v1/workspaces", json={"name": "Crew"}).json()
    ana.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": "bob"})
    project = ana.post("/api/v1/projects", json={"name": "Shared", "workspace_id": team["id"]}).json()
    scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]

    async def scenario() -> tuple[list[dict], list[dict]]:
        async with websockets.connect(_url(server), additional_headers=_cookie(bob)) as bob_ws, \
                websockets.connect(_url(server), additional_headers=_cookie(eve)) as eve_ws:
            assert json.loads(await bob_ws.recv())["type"] == "hello"
            assert json.loads(await eve_ws.recv())["type"] == "hello"
            await asyncio.to_thread(ana.patch, f"/api/v1/projects/{project['id']}/scenes/{scene['id']}",
                                    json={"name": "Opening night"})
            await asyncio.to_thread(ana.post, f"/api/v1/projects/{project['id']}/scenes", json={"name": "Finale"})
            bob_events = [json.loads(await asyncio.wait_for(bob_ws.recv(), 5)) for _ in range(2)]
            eve_events = []
            with contextlib.suppress(TimeoutError):
                eve_events.append(json.loads(await asyncio.wait_for(eve_ws.recv(), 0.5)))
            return bob_events, eve_events

    bob_events, eve_events = run_async(scenario())
    assert [e["type"] for e in bob_events] == ["project.changed", "project.changed"]
    assert bob_events[0]["project_id"] == project["id"] and bob_events[0]["version"] == 1
    assert bob_events[0]["summary"] == "Renamed scene 'Scene 1' to 'Opening night'"
    assert bob_events[1]["summary"] == "Added scene 'Finale'"
    assert eve_events == []


def test_anonymous_callers_are_refused(server: RunningServer) -> None:
    async def attempt() -> int | None:
        try:
            async with websockets.connect(_url(server)) as socket:
                await socket.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None

    assert run_async(attempt()) == 4401
