"""Every path the project store writes is made by one helper (content.inside) and stays inside its
project folder: ids that are paths are refused, a symbolic link leading out is refused, and a scene file
that is not a well-formed scene of this project is skipped instead of breaking the project."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mediastudio.errors import BadRequest, NotFound
from mediastudio.graph import Graph
from mediastudio.projects import content

HOSTILE_IDS = ["../x", "../../etc/passwd", "/etc/passwd", "", ".", "..", "a/b", "a\\b", "a.b", "x" * 65, "a\0b",
               "sc_1/../../x"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    project = tmp_path / "workspaces" / "ws_1" / "projects" / "p_1"
    (project / "scenes").mkdir(parents=True)
    (project / "assets").mkdir()
    return project


@pytest.mark.parametrize("bad", HOSTILE_IDS)
def test_ids_that_are_not_ids_have_no_path(folder: Path, bad: str) -> None:
    with pytest.raises((NotFound, BadRequest)):
        content.scene_path(folder, bad)
    with pytest.raises((NotFound, BadRequest)):
        content.asset_path(folder, bad)
    with pytest.raises((NotFound, BadRequest)):
        content.write_scene(folder, {"id": bad, "name": "Evil"})
    assert [p.name for p in folder.parent.parent.parent.rglob("*") if p.is_file()] == []


def test_good_ids_have_their_file(folder: Path) -> None:
    assert content.scene_path(folder, "sc_3f9a0c1d2e4b5a6f") == folder / "scenes" / "sc_3f9a0c1d2e4b5a6f.json"
    assert content.asset_path(folder, "as_1") == folder / "assets" / "as_1.json"


@pytest.mark.parametrize("linked", ["scenes", "assets"])
def test_a_folder_linked_out_of_the_project_is_never_written(folder: Path, tmp_path: Path, linked: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / linked).rmdir()
    os.symlink(outside, folder / linked)
    with pytest.raises(BadRequest):
        (content.scene_path if linked == "scenes" else content.asset_path)(folder, "ok_1")
    if linked == "scenes":
        with pytest.raises(BadRequest):
            content.write_scene(folder, {"id": "ok_1", "name": "Lands outside?"})
    assert list(outside.iterdir()) == []


def test_project_json_linked_out_is_never_written(folder: Path, tmp_path: Path) -> None:
    host = tmp_path / "host.json"
    host.write_text('{"name": "host"}')
    os.symlink(host, folder / "project.json")
    with pytest.raises(BadRequest):
        content.write_meta(folder, {"name": "Overwritten"})
    assert json.loads(host.read_text()) == {"name": "host"}


def test_read_scenes_keeps_well_formed_scenes_only_and_ids_come_from_file_names(folder: Path, tmp_path: Path) -> None:
    host = tmp_path / "host.json"
    host.write_text(json.dumps({"id": "host", "name": "Host file", "graph": {}}))
    scenes = folder / "scenes"
    (scenes / "sc_a.json").write_text(json.dumps({"id": "../../elsewhere", "name": "A", "order": 1}))
    (scenes / "sc_b.json").write_text(json.dumps({"name": "B", "order": "first"}))  # no id, odd order
    (scenes / "sc_c.json").write_text("[1, 2]")
    (scenes / "sc_d.json").write_text("not json")
    (scenes / "sc_e.json").write_text(json.dumps({"name": "E", "graph": {"nodes": [1]}}))
    (scenes / "a b.json").write_text(json.dumps({"name": "Bad name"}))
    (scenes / "sc_f.json").mkdir()
    os.symlink(host, scenes / "sc_link.json")
    found = content.read_scenes(folder)
    assert [(s["id"], s["name"], s["order"]) for s in found] == [("sc_b", "B", 0), ("sc_a", "A", 1)]


def test_shots_of_a_strange_graph_do_not_crash() -> None:
    graph = {"nodes": {"s": {"type": "shot", "params": [1], "position": "top"},
                       "t": {"type": "shot", "position": {"y": "x"}, "title": 5}}}
    assert sorted(shot["node_id"] for shot in content.shots_of(Graph.model_validate(graph))) == ["s", "t"]


def test_one_scene_read_by_its_id_is_never_a_link_nor_a_folder(folder: Path, tmp_path: Path) -> None:
    host = tmp_path / "host.json"
    host.write_text(json.dumps({"id": "host", "name": "Host file", "graph": {}}))
    scenes = folder / "scenes"
    (scenes / "sc_ok.json").write_text(json.dumps({"name": "Fine", "order": 1}))
    os.symlink(host, scenes / "sc_link.json")
    (scenes / "sc_dir.json").mkdir()
    assert (content.read_scene(folder, "sc_ok") or {}).get("name") == "Fine"
    assert content.read_scene(folder, "sc_link") is None
    assert content.read_scene(folder, "sc_dir") is None
    assert content.read_scene_bytes(folder, "sc_dir") is None  # raised IsADirectoryError (a 500) before
    assert content.read_scene(folder, "sc_missing") is None
    with pytest.raises(NotFound):
        content.read_scene(folder, "../project")
