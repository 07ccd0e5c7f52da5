"""A scene read to run it (`content.read_scene_and_graph`) is kept beside its file's signature (inode, size,
modification and change times): an unchanged file is not opened, parsed or validated again, and any change to it
(replaced as the studio writes scenes, rewritten in place, made a link, removed) is seen at the next read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mediastudio.projects import content
from mediastudio.projects.files import write_json


def _scene(name: str, prompt: str) -> dict[str, object]:
    return {"name": name, "order": 1, "graph": {"nodes": {"p": {"type": "prompt", "position": {"x": 0, "y": 0},
                                                                  "params": {"text": prompt}}}, "edges": {}}}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "project" / "scenes").mkdir(parents=True)
    return tmp_path / "project"


def test_an_unchanged_scene_is_not_opened_again(folder: Path) -> None:
    from file_audit import opened

    write_json(folder / "scenes" / "sc_1.json", _scene("Opening", "a red door"))
    first = content.read_scene_and_graph(folder, "sc_1")
    assert first is not None and first[0]["name"] == "Opening" and first[1].nodes["p"].params["text"] == "a red door"
    with opened() as seen:
        again = content.read_scene_and_graph(folder, "sc_1")
    assert again is not None and again[0] is first[0] and again[1] is first[1]
    assert [s for s in seen if "sc_1.json" in s] == [], seen


def test_a_scene_replaced_or_rewritten_in_place_is_read_anew(folder: Path) -> None:
    path = folder / "scenes" / "sc_1.json"
    write_json(path, _scene("Opening", "a red door"))
    assert content.read_scene_and_graph(folder, "sc_1") is not None
    write_json(path, _scene("Opening", "a blue door"))  # as the studio writes a scene: a new file in its place
    read = content.read_scene_and_graph(folder, "sc_1")
    assert read is not None and read[1].nodes["p"].params["text"] == "a blue door"
    # Rewritten in place, the same size, its modification time put back: the change time still tells.
    before = path.stat()
    path.write_text(path.read_text().replace("blue", "grey"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    read = content.read_scene_and_graph(folder, "sc_1")
    assert read is not None and read[1].nodes["p"].params["text"] == "a grey door"


def test_a_scene_made_a_link_damaged_or_removed_is_gone(folder: Path, tmp_path: Path) -> None:
    path = folder / "scenes" / "sc_1.json"
    write_json(path, _scene("Opening", "a red door"))
    assert content.read_scene_and_graph(folder, "sc_1") is not None
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps(_scene("Stolen", "somebody else's")))
    path.unlink()
    path.symlink_to(outside)
    assert content.read_scene_and_graph(folder, "sc_1") is None  # a link is never followed
    path.unlink()
    path.write_text('{"name": 3}')
    assert content.read_scene_and_graph(folder, "sc_1") is None
    write_json(path, _scene("Opening", "a red door"))
    assert content.read_scene_and_graph(folder, "sc_1") is not None
    path.unlink()
    assert content.read_scene_and_graph(folder, "sc_1") is None
