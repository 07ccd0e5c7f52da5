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


def _resolved_whole(folder: Path, *parts: str) -> Path | None:
    """What `content.inside` decides, by resolving the folder and the path whole: the path, or None (refused)."""
    path = folder.joinpath(*parts)
    try:
        root, resolved = folder.resolve(), path.resolve()
    except RuntimeError:  # a loop of links
        return None
    return path if resolved.is_relative_to(root) and resolved != root else None


def test_inside_decides_as_resolving_the_whole_path_would_for_every_kind_of_link(folder: Path, tmp_path: Path) -> None:
    """`inside` looks only at the parts below the folder (not followed) and resolves the path whole only when one
    is a link: for plain folders and files, missing ones, links in and out, dangling links, a loop, a file where
    a folder should be, and a project folder that is itself reached through a link, it decides as resolving the
    whole path does (and refuses every link that leads out)."""
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "secret.json").write_text("{}")
    (folder / "assets" / "as_1.json").write_text("{}")
    (folder / "scenes" / "sc_1.json").write_text("{}")
    (folder / "file").write_text("not a folder")
    links = {"out": outside, "out_deep": outside / "deep", "out_file": outside / "deep" / "secret.json",
             "in": folder / "assets", "in_file": folder / "assets" / "as_1.json", "up": folder.parent,
             "self": folder, "dangling": tmp_path / "nowhere", "loop": folder / "loop"}
    for name, target in links.items():
        os.symlink(target, folder / name)
        os.symlink(target, folder / "assets" / f"{name}.json")
    names = ["assets", "scenes", "as_1.json", "sc_1.json", "missing", "file", "deep", "secret.json", "p_1",
             *links, *(f"{name}.json" for name in links)]
    via_link = tmp_path / "linked_project"
    os.symlink(folder, via_link)
    decided = 0
    for root in (folder, via_link):
        for first in names:
            for parts in ((first,), (first, "as_1.json"), ("assets", first), (first, "deep", "secret.json"),
                          ("assets", first, "x.json")):
                expected = _resolved_whole(root, *parts)
                try:
                    found: Path | None = content.inside(root, *parts)
                except BadRequest:
                    found = None
                assert found == expected, (root, parts)
                decided += found is None
    assert decided > 50  # many of them lead out, and are refused
    with pytest.raises(BadRequest):
        content.inside(folder, "out", "deep", "secret.json")
    with pytest.raises(BadRequest):  # a loop of links is refused as leading nowhere (it raised RuntimeError: a 500)
        content.inside(folder, "loop", "as_1.json")
    with pytest.raises(BadRequest):
        content.asset_path(folder, "out_file")
