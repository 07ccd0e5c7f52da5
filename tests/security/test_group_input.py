"""Groups from hostile clients: a hand-made live update or a REST graph cannot give a group an endless title,
a colour off the palette, a frame off the canvas, members of a group that is not there (they are in none), or more
groups than a scene holds."""

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pycrdt import Array, Map, create_update_message

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from yclient import YClient, ws_url

from mediastudio.graph import MAX_GROUPS, TITLE_MAX
from support import ApiClient, RunningServer, make_team, run_async, set_up_admin, start_server, wait_until_async


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("groups"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ana(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url, "ana")


@pytest.fixture
def team(server: RunningServer, ana: ApiClient, request: pytest.FixtureRequest) -> dict:
    return make_team(server, ana, abs(hash(request.node.name)) % 10**6)


def _headers(api: ApiClient) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in api.cookies.items())}


def _graph_url(team: dict) -> str:
    return f"/api/v1/projects/{team['project']['id']}/scenes/{team['scene']['id']}/graph"


def test_hostile_groups_in_a_live_update_are_read_within_bounds(server: RunningServer, team: dict) -> None:
    async def scenario() -> None:
        url = ws_url(server.url, team["project"]["id"], team["scene"]["id"])
        async with YClient(url, headers=_headers(team["bob"])) as bob:
            before = bob.doc.get_state()
            groups, nodes = bob.doc.get("groups", type=Map), bob.doc.get("nodes", type=Map)
            with bob.doc.transaction():
                groups["g1"] = Map({"title": "t" * 100_000, "color": "javascript:alert(1)", "bypass": "yes",
                                    "bounds": Map({"x": "far", "y": 1e308, "width": -1, "height": Array([1])})})
                groups["../etc"] = Map({"title": "odd id"})
                groups["g2"] = "not a group"
                nodes["generate"]["group"] = "g1"
                nodes["prompt"]["group"] = "gone"
            await bob._socket.send(create_update_message(bob.doc.get_update(before)))
            await wait_until_async(lambda: asyncio.to_thread(team["bob"].get, _graph_url(team)),
                                   until=lambda r: r.status_code != 200 or "groups" in r.json(),
                                   message="the server to take the update")

    run_async(scenario())
    response = team["bob"].get(_graph_url(team))
    assert response.status_code == 200, response.text
    graph = response.json()
    assert graph["groups"] == {"g1": {"title": "t" * TITLE_MAX,
                                      "bounds": {"x": 0, "y": 1_000_000, "width": 40, "height": 40}}}
    assert graph["nodes"]["generate"]["group"] == "g1"
    assert "group" not in graph["nodes"]["prompt"]


def test_more_groups_than_a_scene_holds_are_refused_live(server: RunningServer, ana: ApiClient, team: dict) -> None:
    async def scenario() -> int | None:
        url = ws_url(server.url, team["project"]["id"], team["scene"]["id"])
        async with YClient(url, headers=_headers(team["bob"])) as bob:
            before = bob.doc.get_state()
            with bob.doc.transaction():
                for i in range(MAX_GROUPS + 1):
                    bob.doc.get("groups", type=Map)[f"g{i}"] = Map({"title": "x"})
            await bob._socket.send(create_update_message(bob.doc.get_update(before)))
            assert bob._reader is not None
            await asyncio.wait_for(asyncio.shield(bob._reader), 5)
            return bob.closed_with

    assert run_async(scenario()) == 4422
    assert "groups" not in team["bob"].get(_graph_url(team)).json()


@pytest.mark.parametrize("groups, nodes_group, why", [
    ({"g1": {"title": "t" * (TITLE_MAX + 1)}}, None, "title"),
    ({"g1": {"color": "#ff0000"}}, None, "color"),
    ({"g1": {"bounds": {"x": 1e9, "y": 0, "width": 100, "height": 100}}}, None, "bounds"),
])
def test_a_rest_graph_with_a_bad_group_is_refused(team: dict, groups: dict, nodes_group: str | None,
                                                  why: str) -> None:
    graph = team["bob"].get(_graph_url(team)).json()
    if nodes_group:
        graph["nodes"]["generate"]["group"] = nodes_group
    response = team["bob"].put(_graph_url(team), json={**graph, "groups": groups})
    assert response.status_code in (400, 422), response.text
    assert why in response.text


def test_a_rest_graph_naming_a_group_it_does_not_send_stores_the_node_in_none(team: dict) -> None:
    graph = team["bob"].get(_graph_url(team)).json()
    graph["nodes"]["generate"]["group"] = "g1"
    response = team["bob"].put(_graph_url(team), json=graph)
    assert response.status_code == 200, response.text
    assert "group" not in team["bob"].get(_graph_url(team)).json()["nodes"]["generate"]
