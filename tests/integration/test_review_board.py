"""The review board over HTTP with real runs of a tiny model: takes (named, indexed, listed), the board, status,
pick and order as shared edits of the scene (in its file and history), rights, and the inbox's status lines."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_generation import ENV, edge, node, run, scene_with, t2i_graph, wait

from support import ApiClient, RunningServer, make_team, set_up_admin, start_server, wait_until


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_models import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("board")
    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(tiny_model), "--data-dir",
                            str(folder / "data")], capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    server = start_server(folder, env={**ENV, "MEDIASTUDIO_COMMIT_WINDOW_S": "0"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ana(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url, "ana")


def _two_takes(ana: ApiClient, team: dict[str, Any]) -> tuple[str, str, list[dict[str, Any]]]:
    nodes, edges = t2i_graph(seed=7)
    nodes["seed"]["params"]["mode"] = "increment"
    project_id, scene_id = scene_with(ana, nodes, edges, team["project"])
    for _ in range(2):
        wait(ana, run(ana, project_id, scene_id, force=True)["id"])
    takes = ana.get(f"/api/v1/projects/{project_id}/scenes/{scene_id}/shots/shot/takes")
    assert takes.status_code == 200, takes.text
    return project_id, scene_id, takes.json()["items"]


def _card(client: ApiClient, project_id: str, node_id: str = "shot") -> dict[str, Any]:
    board = client.get(f"/api/v1/projects/{project_id}/board")
    assert board.status_code == 200, board.text
    return next(c for s in board.json()["scenes"] for c in s["shots"] if c["node_id"] == node_id)


def test_takes_are_named_with_seed_and_model_indexed_and_listed_newest_first(server: RunningServer,
                                                                             ana: ApiClient) -> None:
    team = make_team(server, ana, 1)
    project_id, scene_id, takes = _two_takes(ana, team)
    assert [t["name"] for t in takes] == ["Hero · seed 8 · tiny-sd · #2.png", "Hero · seed 7 · tiny-sd · #1.png"]
    assert [(t["number"], t["seed"], t["model"], t["width"]) for t in takes] == [(2, 8, "tiny-sd", 64),
                                                                                 (1, 7, "tiny-sd", 64)]
    card = _card(team["vic"], project_id)  # a viewer reads the board
    assert card["status"] == "todo" and card["take"] is None and card["take_count"] == 2
    assert card["cover"]["asset_id"] == takes[0]["asset_id"]  # none picked: the newest

    # Takes made before the index (or imported) are indexed from their asset files when first asked for.
    db = sqlite3.connect(server.data_dir / "mediastudio.sqlite")
    with db:
        db.execute("DELETE FROM takes WHERE project_id = ?", (project_id,))
    db.close()
    again = ana.get(f"/api/v1/projects/{project_id}/scenes/{scene_id}/shots/shot/takes").json()["items"]
    assert [(t["asset_id"], t["number"], t["seed"]) for t in again] == [(t["asset_id"], t["number"], t["seed"])
                                                                       for t in takes]


def test_pick_and_status_are_shared_edits_in_the_history_and_reach_the_inbox(server: RunningServer,
                                                                              ana: ApiClient) -> None:
    team = make_team(server, ana, 2)
    bob, vic = team["bob"], team["vic"]
    project_id, scene_id, takes = _two_takes(ana, team)
    shot = f"/api/v1/projects/{project_id}/scenes/{scene_id}/shots/shot"
    oldest = takes[-1]

    picked = bob.patch(shot, json={"take": oldest["asset_id"]})
    assert picked.status_code == 200, picked.text
    card = picked.json()
    assert card["cover"]["asset_id"] == oldest["asset_id"] and card["cover"]["picked"]
    assert card["take_by"]["display_name"] == "Bob" and card["take_at"]
    assert _card(ana, project_id)["cover"]["asset_id"] == oldest["asset_id"]
    history = ana.get(f"/api/v1/projects/{project_id}/history").json()["items"]
    assert history[0]["message"] == f"Picked '{oldest['name']}' for the shot 'Shot'"
    assert history[0]["author"]["id"] == team["bob_id"] and history[0]["kind"] == "edit"
    graph = ana.get(f"/api/v1/projects/{project_id}/scenes/{scene_id}").json()["graph"]
    assert graph["nodes"]["shot"]["review"]["take"] == oldest["asset_id"]

    status = bob.patch(shot, json={"status": "review"})
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "review" and status.json()["status_by"]["display_name"] == "Bob"
    assert status.json()["cover"]["asset_id"] == oldest["asset_id"]  # the pick stays
    lines = wait_until(lambda: ana.get("/api/v1/inbox").json()["items"],
                       until=lambda items: any(i["kind"] == "status" for i in items))
    line = next(i for i in lines if i["kind"] == "status")
    assert line["text"] == "Shot: To do → In review" and line["by"]["display_name"] == "Bob"
    assert (line["target_kind"], line["target_id"], line["scene_id"]) == ("node", "shot", scene_id)
    assert not [i for i in bob.get("/api/v1/inbox").json()["items"] if i["kind"] == "status"]  # not their own

    # A trashed pick is not the cover: the newest is shown again; unpicking says so in the history.
    trashed = ana.patch(f"/api/v1/projects/{project_id}/assets/{oldest['asset_id']}", json={"trashed": True})
    assert trashed.status_code == 200, trashed.text
    assert _card(ana, project_id)["cover"]["asset_id"] == takes[0]["asset_id"]
    assert bob.patch(shot, json={"unpick": True}).json()["take"] is None

    # Viewers read, and cannot change; wrong ids are told apart.
    refused = vic.patch(shot, json={"status": "approved"})
    assert refused.status_code == 403 and "viewer" in refused.json()["detail"]
    foreign = bob.patch(shot, json={"take": "as_nothing"})
    assert foreign.status_code == 422 and "not a take of this shot" in foreign.json()["detail"]
    assert bob.patch(shot, json={}).status_code == 422
    assert bob.patch(f"{shot}-gone", json={"status": "todo"}).status_code == 404
    not_shot = bob.patch(f"/api/v1/projects/{project_id}/scenes/{scene_id}/shots/generate", json={"status": "todo"})
    assert not_shot.status_code == 422 and "not a shot" in not_shot.json()["detail"]
    assert bob.patch(shot, json={"status": "done"}).status_code == 400


def test_shots_are_reordered_on_the_board(server: RunningServer, ana: ApiClient) -> None:
    team = make_team(server, ana, 3)
    nodes, edges = t2i_graph()
    nodes["shot"]["position"] = {"x": 0, "y": 0}
    nodes["wide"] = {**node("shot", "Wide", name="Wide"), "position": {"x": 0, "y": 300}}
    edges.append(edge("generate", "image", "wide", "images"))
    project_id, scene_id = scene_with(ana, nodes, edges, team["project"])
    board = ana.get(f"/api/v1/projects/{project_id}/board").json()
    assert [c["node_id"] for c in board["scenes"][0]["shots"]] == ["shot", "wide"]  # by canvas position
    url = f"/api/v1/projects/{project_id}/scenes/{scene_id}/shot-order"
    moved = team["bob"].put(url, json={"shots": ["wide", "shot"]})
    assert moved.status_code == 200, moved.text
    board = ana.get(f"/api/v1/projects/{project_id}/board").json()
    assert [(c["node_id"], c["order"]) for c in board["scenes"][0]["shots"]] == [("wide", 1), ("shot", 2)]
    assert ana.get(f"/api/v1/projects/{project_id}/history").json()["items"][0]["message"].startswith(
        "Reordered the shots on the board")
    short = team["bob"].put(url, json={"shots": ["wide"]})
    assert short.status_code == 422 and "every shot" in short.json()["detail"]
    assert team["vic"].put(url, json={"shots": ["shot", "wide"]}).status_code == 403
