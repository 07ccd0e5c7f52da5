"""Live scene documents over a real server: relay, viewers, REST through the document, presence,
saving to files and git, authorisation, and kill -9 with nothing lost."""

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from yclient import YClient, ws_url

from support import (
    ApiClient,
    RunningServer,
    git,
    make_team,
    project_folder,
    run_async,
    set_up_admin,
    start_server,
    wait_until,
    wait_until_async,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("collab"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ana(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url, "ana")


@pytest.fixture
def team(server: RunningServer, ana: ApiClient, request: pytest.FixtureRequest) -> dict:
    """A team project with Bob (editor) and Vic (viewer) besides Ana."""
    return make_team(server, ana, abs(hash(request.node.name)) % 10**6)


def _client(server: RunningServer, api: ApiClient, team: dict) -> YClient:
    return YClient(ws_url(server.url, team["project"]["id"], team["scene"]["id"]), cookies=dict(api.cookies))




@pytest.mark.timing
def test_an_edit_reaches_the_other_editor_live_and_is_saved_to_git(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    async def scenario() -> float:
        async with _client(server, ana, team) as mine, _client(server, team["bob"], team) as theirs:
            assert mine.graph()["nodes"]["generate"]["params"]["steps"] == 30
            graph = mine.graph()
            graph["nodes"]["generate"]["params"]["steps"] = 45
            started = time.perf_counter()
            await mine.edit(graph)
            await theirs.wait_for(lambda: theirs.graph()["nodes"]["generate"]["params"]["steps"] == 45)
            return time.perf_counter() - started

    latency = run_async(scenario())
    assert latency < 0.5
    folder = project_folder(server, team["project"])
    log = wait_until(lambda: git(folder, "log", "-1", "--format=%an|%s").strip(), until=lambda log: "steps" in log,
                     interval=0.2, message="the commit of the edit")
    assert log == "ana|Changed steps on 'Text to image'"
    scene_file = json.loads((folder / "scenes" / f"{team['scene']['id']}.json").read_text())
    assert scene_file["graph"]["nodes"]["generate"]["params"]["steps"] == 45


def test_viewers_see_live_updates_but_their_writes_are_dropped(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    async def scenario() -> None:
        async with _client(server, ana, team) as mine, _client(server, team["vic"], team) as viewer:
            graph = viewer.graph()
            graph["nodes"]["generate"]["params"]["steps"] = 999
            await viewer.edit(graph)
            await asyncio.sleep(0.3)  # a window, not a wait: a relayed write would have reached me by now
            assert mine.graph()["nodes"]["generate"]["params"]["steps"] == 30
            graph = mine.graph()
            graph["nodes"]["generate"]["title"] = "Render"
            await mine.edit(graph)
            await viewer.wait_for(lambda: viewer.graph()["nodes"]["generate"]["title"] == "Render")

    run_async(scenario())
    graph = ana.get(f"/api/v1/projects/{team['project']['id']}/scenes/{team['scene']['id']}/graph").json()
    assert graph["nodes"]["generate"]["params"]["steps"] == 30


def test_a_rest_edit_goes_through_the_document_and_appears_live(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    async def scenario() -> None:
        async with _client(server, team["bob"], team) as browser:
            graph = browser.graph()
            graph["nodes"]["prompt"]["params"]["text"] = "a lighthouse in a storm"
            url = f"/api/v1/projects/{team['project']['id']}/scenes/{team['scene']['id']}/graph"
            response = await asyncio.to_thread(ana.put, url, json=graph)
            assert response.status_code == 200
            await browser.wait_for(lambda: browser.graph()["nodes"]["prompt"]["params"]["text"]
                                   == "a lighthouse in a storm")

    run_async(scenario())


def test_presence_carries_the_sessions_identity_not_the_clients_claim(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    async def scenario() -> None:
        async with _client(server, ana, team) as mine, _client(server, team["bob"], team) as theirs:
            await mine.say({"user": {"id": "u_fake", "name": "Mallory"}, "cursor": {"x": 10, "y": 20}})
            await theirs.wait_for(lambda: any(s and s.get("cursor") for s in theirs.presence.values()))
            state = next(s for s in theirs.presence.values() if s and s.get("cursor"))
            me = ana.get("/api/v1/auth/me").json()["user"]
            assert state["user"] == {"id": me["id"], "name": me["display_name"], "color": me["color"]}
            assert state["cursor"] == {"x": 10, "y": 20}
        async with _client(server, team["bob"], team) as late:
            # Gone when Ana left: at once, or (her leaving still on its way to the server) in the removal that follows.
            await late.wait_for(lambda: not any(s and s.get("cursor") for s in late.presence.values()))

    run_async(scenario())


def test_a_client_over_the_presence_limit_is_told_once_a_second_and_one_under_it_never(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    """Presence over the per-second limit is dropped, and the sender is told so (a "slow-down" notice, at most
    one per window) instead of seeing its cursor silently stop; a client within the limit never hears it."""
    from mediastudio.collab.limits import MAX_AWARENESS_PER_SECOND

    async def scenario() -> None:
        async with _client(server, ana, team) as fast, _client(server, team["bob"], team) as calm:
            for clock in range(1, 3 * MAX_AWARENESS_PER_SECOND + 1):  # three windows' worth at once
                await fast.say({"cursor": {"x": clock, "y": 0}}, clock=clock)
            await fast.wait_for(lambda: bool(fast.notices), 5)
            notice = fast.notices[0]
            assert notice["type"] == "slow-down" and notice["what"] == "presence"
            assert notice["limit"] == MAX_AWARENESS_PER_SECOND and notice["window_seconds"] == 1
            assert "presence" in notice["message"].lower()
            sent_at = time.monotonic()
            interval = 1.0 / (MAX_AWARENESS_PER_SECOND * 0.8)  # 80 % of the limit, for 1.6 s
            clock = 1
            while time.monotonic() - sent_at < 1.6:
                await calm.say({"cursor": {"x": clock, "y": 1}}, clock=clock)
                clock += 1
                await asyncio.sleep(interval)
            await fast.say({"cursor": {"x": -1, "y": 0}}, clock=10_000)  # the fast one's last cursor still goes
            await calm.wait_for(lambda: any(s and (s.get("cursor") or {}).get("x") == -1
                                            for s in calm.presence.values()), 5)
            assert len(fast.notices) <= 2  # once per window: the burst spans at most two windows
            assert calm.notices == []

    run_async(scenario())


def test_rooms_refuse_strangers_and_anonymous_callers(server: RunningServer, team: dict) -> None:
    stranger = ApiClient(server.url)
    stranger.register(f"stranger{team['project']['id'][-5:]}")

    async def closed_code(cookies: dict[str, str]) -> int | None:
        import websockets

        url = ws_url(server.url, team["project"]["id"], team["scene"]["id"])
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        try:
            async with websockets.connect(url, additional_headers=headers) as socket:
                await socket.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        except websockets.InvalidStatus as refused:
            return refused.response.status_code
        return None

    assert run_async(closed_code({})) == 4401
    assert run_async(closed_code(dict(stranger.cookies))) == 4404


def test_kill_9_loses_no_update_that_reached_the_server(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    ana = set_up_admin(server.url, "ana")
    project = ana.post("/api/v1/projects", json={"name": "Crash", "template": "text-to-image"}).json()
    scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    url = ws_url(server.url, project["id"], scene["id"])

    async def edit_then_watch_it_relayed() -> None:
        async with YClient(url, cookies=dict(ana.cookies)) as mine, \
                YClient(url, cookies=dict(ana.cookies)) as witness:
            for steps in range(31, 41):
                graph = mine.graph()
                graph["nodes"]["generate"]["params"]["steps"] = steps
                await mine.edit(graph)
            await witness.wait_for(lambda: witness.graph()["nodes"]["generate"]["params"]["steps"] == 40)
            server.process.send_signal(signal.SIGKILL)  # before the scene file was even written
            server.process.wait(10)

    run_async(edit_then_watch_it_relayed())
    restarted = start_server(tmp_path)
    try:
        again = ApiClient(restarted.url)
        again.post("/api/v1/auth/login", json={"username": "ana", "password": "copper lantern ninety"})

        async def reconnect() -> dict:
            async with YClient(ws_url(restarted.url, project["id"], scene["id"]), cookies=dict(again.cookies)) as c:
                return c.graph()

        assert run_async(reconnect())["nodes"]["generate"]["params"]["steps"] == 40
        rest = again.get(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph").json()
        assert rest["nodes"]["generate"]["params"]["steps"] == 40
    finally:
        restarted.stop()


def test_offline_edits_of_two_clients_survive_a_kill_9_and_converge(tmp_path: Path) -> None:
    """Two editors connected; the server is killed; both keep editing offline (their documents are what
    y-indexeddb keeps in a browser); a new server starts; both reconnect: everything merges, nothing lost."""
    server = start_server(tmp_path)
    ana = set_up_admin(server.url, "ana")
    bob = ApiClient(server.url)
    bob.register("bob")
    team = ana.post("/api/v1/workspaces", json={"name": "Night crew"}).json()
    ana.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": "bob"})
    project = ana.post("/api/v1/projects", json={"name": "Crash", "template": "text-to-image",
                                                 "workspace_id": team["id"]}).json()
    scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    url = ws_url(server.url, project["id"], scene["id"])

    async def before_and_during_the_outage() -> tuple:
        from pycrdt import Map

        async with YClient(url, cookies=dict(ana.cookies)) as ana_doc, \
                YClient(url, cookies=dict(bob.cookies)) as bob_doc:
            graph = ana_doc.graph()
            graph["nodes"]["generate"]["params"]["steps"] = 44  # reaches the server before the crash
            await ana_doc.edit(graph)
            await bob_doc.wait_for(lambda: bob_doc.graph()["nodes"]["generate"]["params"]["steps"] == 44)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(10)
            await wait_until_async(lambda: ana_doc.disconnected and bob_doc.disconnected,
                                   message="both clients to see the server gone")
            # Offline: each edits its own copy. Different fields, and the same prompt text at once.
            graph = ana_doc.graph()
            graph["nodes"]["generate"]["params"]["width"] = 768
            await ana_doc.edit(graph, offline=True)
            graph = bob_doc.graph()
            graph["nodes"]["seed"]["params"]["value"] = 7
            graph["nodes"]["extra"] = {"type": "upscale", "title": "Bob's upscale", "position": {"x": 5, "y": 6},
                                       "params": {"factor": 2}, "bypass": False}
            await bob_doc.edit(graph, offline=True)
            ana_text = ana_doc.doc.get("nodes", type=Map)["prompt"]["params"]["text"]
            bob_text = bob_doc.doc.get("nodes", type=Map)["prompt"]["params"]["text"]
            ana_text.insert(0, "ANA ")
            bob_text += " BOB"
            return ana_doc.doc, bob_doc.doc

    ana_offline, bob_offline = run_async(before_and_during_the_outage())
    restarted = start_server(tmp_path)
    try:
        for client in (ana, bob):
            client.base_url = restarted.url  # type: ignore[assignment]
            client.cookies.clear()
        ana.post("/api/v1/auth/login", json={"username": "ana", "password": "copper lantern ninety"})
        bob.post("/api/v1/auth/login", json={"username": "bob", "password": "violet tram sixteen"})
        url = ws_url(restarted.url, project["id"], scene["id"])

        async def reconnect() -> tuple[dict, dict]:
            async with YClient(url, cookies=dict(ana.cookies), doc=ana_offline) as a, \
                    YClient(url, cookies=dict(bob.cookies), doc=bob_offline) as b:
                def merged(c: YClient) -> bool:
                    g = c.graph()["nodes"]
                    return g["generate"]["params"]["width"] == 768 and g["seed"]["params"]["value"] == 7 \
                        and "extra" in g and "ANA" in g["prompt"]["params"]["text"] \
                        and "BOB" in g["prompt"]["params"]["text"]
                await a.wait_for(lambda: merged(a), timeout=10)
                await b.wait_for(lambda: merged(b), timeout=10)
                return a.graph(), b.graph()

        seen_by_ana, seen_by_bob = run_async(reconnect())
        assert json.dumps(seen_by_ana, sort_keys=True) == json.dumps(seen_by_bob, sort_keys=True)
        nodes = seen_by_ana["nodes"]
        assert nodes["generate"]["params"]["steps"] == 44  # from before the crash
        assert nodes["prompt"]["params"]["text"] == "ANA A lighthouse on a cliff at dusk, cinematic, 35mm film BOB"
        # The server holds the merge too (and writes it to the scene file after the quiet period).
        wait_until(lambda: ana.get(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph").json()["nodes"],
                   until=lambda rest: json.dumps(rest, sort_keys=True) == json.dumps(nodes, sort_keys=True),
                   interval=0.2, message="the merged graph on the server")
    finally:
        restarted.stop()


def test_activity_says_who_changed_what_and_save_version_commits(
        server: RunningServer, ana: ApiClient, team: dict) -> None:
    activity = f"/api/v1/projects/{team['project']['id']}/activity"
    graph_url = f"/api/v1/projects/{team['project']['id']}/scenes/{team['scene']['id']}/graph"

    async def scenario() -> None:
        async with _client(server, team["bob"], team) as bob:
            graph = bob.graph()
            graph["nodes"]["generate"]["params"]["steps"] = 20
            await bob.edit(graph)
            # A quiet spell (1.5 s without changes) writes the scene file and records the activity.
            first = "changed steps 30→20 on 'Text to image'"
            await wait_until_async(lambda: asyncio.to_thread(lambda: ana.get(activity).json()["items"]),
                                   until=lambda items: any(i["text"] == first for i in items), timeout=15,
                                   interval=0.2, message="the first edit's activity (after the quiet spell)")
            graph = bob.graph()
            graph["nodes"]["generate"]["params"]["steps"] = 35
            await bob.edit(graph)
            await wait_until_async(lambda: asyncio.to_thread(lambda: ana.get(graph_url).json()),
                                   until=lambda g: g["nodes"]["generate"]["params"]["steps"] == 35,
                                   message="the second edit on the server")
            saved = await asyncio.to_thread(ana.post, f"/api/v1/projects/{team['project']['id']}/save",
                                            json={"message": "before the review"})
            assert saved.status_code == 200

    run_async(scenario())
    items = ana.get(activity).json()["items"]
    texts = [(i["user"]["display_name"], i["text"]) for i in items]
    assert ("Bob", "changed steps 20→35 on 'Text to image'") in texts
    assert ("Bob", "changed steps 30→20 on 'Text to image'") in texts
    assert items[0]["node_id"] == "generate"
    folder = project_folder(server, team["project"])
    log = subprocess.run(["git", "-C", str(folder), "log", "-1", "--format=%an|%s"], capture_output=True,
                         text=True).stdout.strip()
    assert log == "Bob|Saved version: before the review"


def test_opening_a_scene_without_editing_credits_nothing(server: RunningServer, ana: ApiClient, team: dict) -> None:
    """A client that joins sends what it holds (nothing new): the edit that follows is still the editor's,
    in the activity and in the commit, however often someone else opened the scene meanwhile."""
    activity = f"/api/v1/projects/{team['project']['id']}/activity"
    expected = "changed steps 30→31 on 'Text to image'"

    async def scenario() -> None:
        async with _client(server, ana, team) as editor:
            async with _client(server, team["bob"], team) as bob:
                for _ in range(4):  # as four tabs of Bob's answer the server on joining: all it holds, no news
                    await bob.send_state()
                graph = editor.graph()
                graph["nodes"]["generate"]["params"]["steps"] = 31
                await editor.edit(graph)
                await wait_until_async(lambda: asyncio.to_thread(lambda: ana.get(activity).json()["items"]),
                                       until=lambda items: any(i["text"] == expected for i in items), timeout=15,
                                       interval=0.2, message="the edit's activity (after the quiet spell)")
            saved = await asyncio.to_thread(ana.post, f"/api/v1/projects/{team['project']['id']}/save",
                                            json={"message": "who made it"})
            assert saved.status_code == 200

    run_async(scenario())
    items = ana.get(activity).json()["items"]
    credited = [(i["user"]["display_name"], i["text"]) for i in items if i["text"] == expected]
    assert credited == [(ana.get("/api/v1/auth/me").json()["user"]["display_name"], expected)]
    log = subprocess.run(["git", "-C", str(project_folder(server, team["project"])), "log", "-1", "--format=%an|%b"],
                         capture_output=True, text=True).stdout.strip()
    assert log.startswith("ana|") and "Bob" not in log, log  # no co-author for opening the scene
