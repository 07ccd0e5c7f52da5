"""Live sockets against hostile or outdated callers: corrupt and oversized updates are refused before they
are logged (and a damaged log is quarantined, not fatal), sync step 1 is rate-limited like updates, handler
errors are logged once, and open sockets follow their caller's rights as they change."""

import asyncio
import json
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from pycrdt import Array, Doc, Map, create_sync_message, create_update_message, get_state, write_message

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from yclient import YClient, ws_url

from support import (
    ApiClient,
    RunningServer,
    make_team,
    project_folder,
    run_async,
    set_up_admin,
    start_server,
    wait_until,
    wait_until_async,
)

CLOSE_WAIT_S = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # The periodic re-check is left at its default (30 s): what closes a socket here is the access signal.
    server = start_server(tmp_path_factory.mktemp("sockets"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ana(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url, "ana")


@pytest.fixture
def team(server: RunningServer, ana: ApiClient, request: pytest.FixtureRequest) -> dict:
    """A team project: Ana owns it, Bob edits (the workspace default), Vic views."""
    return make_team(server, ana, abs(hash(request.node.name)) % 10**6)


def _headers(api: ApiClient | None = None, token: str | None = None) -> dict[str, str]:
    if token:
        return {"Authorization": f"Bearer {token}"}
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in api.cookies.items())} if api else {}


def _sync(server: RunningServer, team: dict, api: ApiClient | None = None, token: str | None = None) -> YClient:
    return YClient(ws_url(server.url, team["project"]["id"], team["scene"]["id"]), headers=_headers(api, token))


def _graph_url(team: dict) -> str:
    return f"/api/v1/projects/{team['project']['id']}/scenes/{team['scene']['id']}/graph"


async def _closed(client: YClient, timeout: float = CLOSE_WAIT_S) -> int | None:
    assert client._reader is not None
    await asyncio.wait_for(asyncio.shield(client._reader), timeout)
    return client.closed_with


def _log_rows(server: RunningServer, project: dict) -> list[bytes]:
    path = project_folder(server, project) / ".mediastudio" / "collab.sqlite"
    with sqlite3.connect(path) as db:
        return [bytes(row[0]) for row in db.execute("SELECT data FROM updates")]


def _log_since(server: RunningServer, start: int) -> str:
    """The server's log from `start`, for checks that something was NOT logged."""
    # A window, not a wait: log records are written by a thread of the server, and what must be absent
    # has no line of its own to wait for.
    time.sleep(0.3)
    return server.log()[start:]


def _decodes(update: bytes) -> bool:
    try:
        get_state(update)
        return True
    except ValueError:
        return False


# -- what one update may do --------------------------------------------------------------------------------
def test_a_corrupt_update_is_refused_before_it_is_logged(server: RunningServer, ana: ApiClient, team: dict) -> None:
    async def scenario() -> int | None:
        async with _sync(server, team, ana) as witness, _sync(server, team, team["bob"]) as bob:
            await bob._socket.send(bytes([0, 2]) + write_message(b"\x05\xff\xff garbage"))
            code = await _closed(bob)
            graph = witness.graph()  # the room goes on for everyone else
            graph["nodes"]["generate"]["params"]["steps"] = 41
            await witness.edit(graph)
            await wait_until_async(lambda: asyncio.to_thread(lambda: team["bob"].get(_graph_url(team)).json()),
                                   until=lambda g: g["nodes"]["generate"]["params"]["steps"] == 41,
                                   message="the witness's edit on the server")
            return code

    assert run_async(scenario()) == 4400
    assert all(_decodes(row) for row in _log_rows(server, team["project"]))
    assert team["bob"].get(_graph_url(team)).json()["nodes"]["generate"]["params"]["steps"] == 41


def test_an_update_past_the_scene_limits_is_refused_and_leaves_no_trace(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    async def scenario() -> tuple[int | None, int]:
        async with _sync(server, team, ana) as witness, _sync(server, team, team["bob"]) as bob:
            graph = bob.graph()
            for i in range(2001):
                graph["nodes"][f"n{i}"] = {"type": "note", "title": "x", "position": {"x": 0, "y": 0},
                                           "params": {}, "bypass": False}
            await bob.edit(graph)
            code = await _closed(bob)
            await asyncio.sleep(0.2)  # a window, not a wait: a relayed copy would have reached the witness by now
            return code, len(witness.graph()["nodes"])

    code, seen = run_async(scenario())
    assert code == 4422
    assert seen < 10  # the others never received it
    assert len(team["bob"].get(_graph_url(team)).json()["nodes"]) == seen


def test_odd_shared_types_in_an_update_do_not_break_the_scene(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    """A hand-made client can put any Yjs type anywhere; the scene file and the REST graph stay JSON."""
    async def scenario() -> None:
        async with _sync(server, team, team["bob"]) as bob:
            before = bob.doc.get_state()
            node = bob.doc.get("nodes", type=Map)["generate"]
            with bob.doc.transaction():
                node["params"]["list"] = Array([1, Map({"a": 2})])
                node["title"] = Map({"nested": "title"})
                node["position"]["x"] = "far left"
                node["params"]["blob"] = b"\x00\x01"
            await bob._socket.send(create_update_message(bob.doc.get_update(before)))
            # Taken (the odd values show in the REST graph), or refused (an error, or the socket closed).
            await wait_until_async(lambda: asyncio.to_thread(team["bob"].get, _graph_url(team)),
                                   until=lambda r: r.status_code != 200 or bob.disconnected
                                   or "list" in r.json()["nodes"]["generate"]["params"],
                                   message="the server to take or refuse the update")

    run_async(scenario())
    response = team["bob"].get(_graph_url(team))
    assert response.status_code == 200, response.text
    node = response.json()["nodes"]["generate"]
    assert node["params"]["list"] == [1, {"a": 2}] and node["params"]["blob"] is None
    assert node["title"] == node["type"] and node["position"]["x"] == 0


def test_a_damaged_log_is_quarantined_and_the_server_still_starts(tmp_path: Path) -> None:
    """The issue's crash: a corrupt update reached the log, the server was killed, every start failed."""
    server = start_server(tmp_path)
    ana = set_up_admin(server.url, "ana")
    project = ana.post("/api/v1/projects", json={"name": "Crash", "template": "text-to-image"}).json()
    scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    url = ws_url(server.url, project["id"], scene["id"])

    async def edit_corrupt_then_crash() -> None:
        async with YClient(url, headers=_headers(ana)) as mine, YClient(url, headers=_headers(ana)) as witness:
            graph = mine.graph()
            graph["nodes"]["generate"]["params"]["steps"] = 44
            await mine.edit(graph)
            await witness.wait_for(lambda: witness.graph()["nodes"]["generate"]["params"]["steps"] == 44)
            await mine._socket.send(bytes([0, 2]) + write_message(b"\x01\x01\xfe\xfe\xfe not yjs"))
            await _closed(mine)  # handled (refused with 4400 by today's server)
            server.process.send_signal(signal.SIGKILL)  # the room is still open: nothing was compacted
            server.process.wait(10)

    run_async(edit_corrupt_then_crash())
    collab = project_folder(server, project) / ".mediastudio" / "collab.sqlite"
    with sqlite3.connect(collab) as db:  # what an older server, or a damaged disk, leaves behind
        db.execute("INSERT INTO updates (scene_id, user_id, at, data) VALUES (?, 'u_x', 0, ?)",
                   (scene["id"], b"\x02\x03 damaged"))
    restarted = start_server(tmp_path)
    try:
        wait_until(lambda: "quarantine" in restarted.log(), message="the quarantine warning in the log")
        again = ApiClient(restarted.url)
        again.post("/api/v1/auth/login", json={"username": "ana", "password": "copper lantern ninety"})
        graph = again.get(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph").json()
        assert graph["nodes"]["generate"]["params"]["steps"] == 44  # the good edit before it survived
        with sqlite3.connect(collab) as db:
            kept = [bytes(r[0]) for r in db.execute("SELECT data FROM quarantine WHERE kind = 'update'")]
            rows = [bytes(r[0]) for r in db.execute("SELECT data FROM updates")]
        assert b"\x02\x03 damaged" in kept  # moved aside, not deleted
        assert all(_decodes(row) for row in rows)
    finally:
        restarted.stop()


# -- what one connection may ask -----------------------------------------------------------------------------
def test_a_viewer_flooding_sync_step_1_is_closed_and_pulls_little(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    start = len(server.log())

    async def scenario() -> tuple[int | None, int, int]:
        received = 0
        async with websockets.connect(ws_url(server.url, team["project"]["id"], team["scene"]["id"]),
                                      additional_headers=_headers(team["vic"]), max_size=None) as socket:
            await socket.send(create_sync_message(Doc()))
            reply = b""
            while reply[:2] != bytes([0, 1]):  # the server's own step 1 comes first; then the document
                reply = await socket.recv()
            for _ in range(300):
                await socket.send(create_sync_message(Doc()))  # "send me everything", 4 bytes each
            try:
                while True:
                    received += len(await asyncio.wait_for(socket.recv(), CLOSE_WAIT_S))
            except websockets.ConnectionClosed as closed:
                return (closed.rcvd.code if closed.rcvd else None), received, len(reply)

    code, received, document = run_async(scenario())
    assert code == 4429
    assert received < 20 * document  # not 300 copies of the document
    log = _log_since(server, start)
    assert "Traceback" not in log and "ASGI" not in log


def test_an_update_flood_closes_cleanly(server: RunningServer, team: dict) -> None:
    start = len(server.log())

    async def scenario() -> int | None:
        async with _sync(server, team, team["bob"]) as bob:
            for steps in range(200):
                graph = bob.graph()
                graph["nodes"]["generate"]["params"]["steps"] = steps
                try:
                    await bob.edit(graph)
                except websockets.ConnectionClosed:
                    break
            return await _closed(bob)

    assert run_async(scenario()) == 4429
    # Messages already queued when the server closed are not handled (a second close was an ASGI error).
    log = _log_since(server, start)
    assert "ASGI" not in log and f"project {team['project']['id']}" not in log


def test_a_handler_error_is_logged_once_with_who_and_where(server: RunningServer, team: dict) -> None:
    async def scenario() -> int | None:
        async with _sync(server, team, team["bob"]) as bob:
            collab = project_folder(server, team["project"]) / ".mediastudio" / "collab.sqlite"
            with sqlite3.connect(collab) as db:  # the server's next write to its log fails
                db.execute("ALTER TABLE updates RENAME TO updates_gone")
            graph = bob.graph()
            graph["nodes"]["generate"]["params"]["steps"] = 12
            await bob.edit(graph)
            return await _closed(bob)

    code = run_async(scenario())
    line = f"Live socket failed: user {team['bob_id']}, project {team['project']['id']}"
    wait_until(lambda: line in server.log(), timeout=CLOSE_WAIT_S,  # log records are written by a thread
               message=f"{line!r} in the log")
    time.sleep(0.3)  # a window, not a wait: a second record, if there were one, would be written by now
    log = server.log()
    assert code == 1011
    assert log.count(line) == 1
    assert "Traceback" in log and "no such table: updates" in log


# -- sockets follow the caller's rights ----------------------------------------------------------------------
def test_revoking_a_token_closes_its_sockets(server: RunningServer, team: dict) -> None:
    made = team["bob"].post("/api/v1/auth/tokens", json={"name": "script"}).json()
    events_url = server.url.replace("http://", "ws://") + "/api/v1/events"

    async def scenario() -> tuple[int | None, int | None]:
        async with _sync(server, team, token=made["token"]) as sync, \
                websockets.connect(events_url, additional_headers=_headers(token=made["token"])) as events:
            assert json.loads(await events.recv())["type"] == "hello"
            response = await asyncio.to_thread(team["bob"].delete, f"/api/v1/auth/tokens/{made['id']}")
            assert response.status_code == 204
            try:
                await asyncio.wait_for(events.recv(), CLOSE_WAIT_S)
            except websockets.ConnectionClosed as closed:
                return await _closed(sync), closed.rcvd.code if closed.rcvd else None
            return await _closed(sync), None

    assert run_async(scenario()) == (4401, 4401)


def test_logging_out_closes_the_sessions_sockets(server: RunningServer, team: dict) -> None:
    presence_url = server.url.replace("http://", "ws://") + f"/api/v1/projects/{team['project']['id']}/presence"

    async def scenario() -> tuple[int | None, int | None]:
        async with _sync(server, team, team["bob"]) as sync, \
                websockets.connect(presence_url, additional_headers=_headers(team["bob"])) as presence:
            response = await asyncio.to_thread(team["bob"].post, "/api/v1/auth/logout")
            assert response.status_code == 204
            try:
                while True:
                    await asyncio.wait_for(presence.recv(), CLOSE_WAIT_S)
            except websockets.ConnectionClosed as closed:
                return await _closed(sync), closed.rcvd.code if closed.rcvd else None

    assert run_async(scenario()) == (4401, 4401)


def test_removing_a_member_closes_their_project_sockets_and_mutes_their_events(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    events_url = server.url.replace("http://", "ws://") + "/api/v1/events"
    project = team["project"]

    async def scenario() -> tuple[int | None, list[dict]]:
        async with _sync(server, team, team["bob"]) as sync, \
                websockets.connect(events_url, additional_headers=_headers(team["bob"])) as events:
            assert json.loads(await events.recv())["type"] == "hello"
            removed = await asyncio.to_thread(
                ana.delete, f"/api/v1/workspaces/{team['workspace']['id']}/members/{team['bob_id']}")
            assert removed.status_code == 204
            code = await _closed(sync)
            await asyncio.to_thread(ana.patch, f"/api/v1/projects/{project['id']}", json={"name": "Secret plan"})
            await asyncio.to_thread(team["bob"].post, "/api/v1/projects", json={"name": "Mine"})  # a marker
            heard = []
            while not any(e.get("type") == "project.changed" and e.get("project_id") != project["id"]
                          for e in heard):
                heard.append(json.loads(await asyncio.wait_for(events.recv(), CLOSE_WAIT_S)))
            return code, heard

    code, heard = run_async(scenario())
    assert code == 4404
    assert not [e for e in heard if e.get("project_id") == project["id"] or e.get("workspace_id") ==
                team["workspace"]["id"]]


def test_a_role_lowered_to_viewer_makes_the_socket_read_only(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    async def scenario() -> None:
        async with _sync(server, team, ana) as owner, _sync(server, team, team["bob"]) as bob:
            lowered = await asyncio.to_thread(ana.put, f"/api/v1/projects/{team['project']['id']}/roles/"
                                                       f"{team['bob_id']}", json={"role": "viewer"})
            assert lowered.status_code == 200
            # A grace period, not a wait for something one can see: the socket learns nothing when its role drops
            # (the access signal is handled in the server's loop, in milliseconds, after the answer above).
            await asyncio.sleep(0.5)
            graph = bob.graph()
            graph["nodes"]["generate"]["params"]["steps"] = 999
            await bob.edit(graph)
            graph = owner.graph()
            graph["nodes"]["generate"]["title"] = "Render"
            await owner.edit(graph)
            await bob.wait_for(lambda: bob.graph()["nodes"]["generate"]["title"] == "Render")  # still reads
            await asyncio.sleep(0.3)  # a window, not a wait: a relayed 999 would have reached the owner by now
            assert owner.graph()["nodes"]["generate"]["params"]["steps"] != 999
            assert bob.closed_with is None

    run_async(scenario())
    assert ana.get(_graph_url(team)).json()["nodes"]["generate"]["params"]["steps"] != 999


def test_a_lower_workspace_default_role_makes_members_sockets_read_only(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    async def scenario() -> None:
        async with _sync(server, team, team["bob"]) as bob:
            changed = await asyncio.to_thread(ana.patch, f"/api/v1/workspaces/{team['workspace']['id']}",
                                              json={"default_project_role": "viewer"})
            assert changed.status_code == 200
            await asyncio.sleep(0.5)  # a grace period, as above: nothing tells the socket its role dropped
            graph = bob.graph()
            graph["nodes"]["generate"]["params"]["steps"] = 998
            await bob.edit(graph)
            await asyncio.sleep(0.3)  # a window, not a wait: the edit would have been applied by now

    run_async(scenario())
    assert ana.get(_graph_url(team)).json()["nodes"]["generate"]["params"]["steps"] != 998


def test_disabled_and_deleted_accounts_lose_their_sockets(tmp_path: Path) -> None:
    """`mediastudio users disable/delete` run in another process: the periodic re-check closes the sockets."""
    env = {"MEDIASTUDIO_LIVE_RECHECK_SECONDS": "0.5"}
    server = start_server(tmp_path, env=env)
    try:
        ana = set_up_admin(server.url, "ana")
        team = ana.post("/api/v1/workspaces", json={"name": "Crew"}).json()
        people = {}
        for name in ("bob", "cyd"):
            people[name] = ApiClient(server.url)
            people[name].register(name)
            ana.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": name})
        project = ana.post("/api/v1/projects", json={"name": "P", "workspace_id": team["id"]}).json()
        scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
        url = ws_url(server.url, project["id"], scene["id"])

        async def scenario() -> tuple[int | None, int | None]:
            async with YClient(url, headers=_headers(people["bob"])) as bob, \
                    YClient(url, headers=_headers(people["cyd"])) as cy:
                for command in (["disable", "bob"], ["delete", "cyd", "--yes"]):
                    process = await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "mediastudio", "users", *command, "--data-dir", str(server.data_dir),
                        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
                    _, err = await process.communicate()
                    assert process.returncode == 0, err
                return await _closed(bob), await _closed(cy)

        assert run_async(scenario()) == (4401, 4401)
    finally:
        server.stop()
