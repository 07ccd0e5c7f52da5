"""A room's graph (collab/room.py `Room.graph`: what a run of a scene someone has open runs, a check of it, the
file keeper) is read from its document once per change, not on every ask: reading every node of a 400-node scene
took ~30 ms of the event loop on every run's request. Each kind of change is seen: an edit, a deletion (which
leaves the document's state vector as it was), a server-side edit, a document rebuilt from the log.

Real rooms on a real update log (SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map
from test_collab_at_scale import _graph

from mediastudio.collab import room as room_module
from mediastudio.collab.document import new_document
from mediastudio.collab.log import UpdateLog
from mediastudio.collab.room import Room
from mediastudio.graph import Graph
from support import run_async


@pytest.fixture
def room(tmp_path: Path) -> Room:
    update_log = UpdateLog(tmp_path)
    doc = new_document(_graph(400), epoch=1)
    update_log.start("s1", doc.get_update(), epoch=1)
    return Room("s1", doc, update_log, 0)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    reading = room_module.graph_from_doc

    def graph_from_doc(doc: Any) -> Graph:
        counted.append(1)
        return reading(doc)

    monkeypatch.setattr(room_module, "graph_from_doc", graph_from_doc)
    return counted


def browser_update(room: Room, change: Any) -> bytes:
    """What a browser holding the room's document sends after making `change` to its copy."""
    client: Doc[Any] = Doc()
    client.apply_update(room.doc.get_update())
    before = client.get_state()
    change(client.get("nodes", type=Map))
    return client.get_update(before)


def test_the_graph_is_read_once_until_the_document_changes(room: Room, reads: list[int]) -> None:
    first = room.graph()
    assert len(first.nodes) == 400
    assert all(room.graph() is first for _ in range(5)) and len(reads) == 1, "read again with nothing changed"

    def edit(nodes: Map[Any]) -> None:
        nodes["n7"]["params"]["value"] = 42

    run_async(room.apply(browser_update(room, edit), "u_ana"))
    edited = room.graph()
    assert edited.nodes["n7"].params["value"] == 42 and len(reads) == 2
    assert first.nodes["n7"].params["value"] == 0, "a graph handed out earlier is left as it was"
    assert room.graph() is edited and len(reads) == 2


def test_a_deletion_is_seen_though_it_leaves_the_state_vector_be(room: Room, reads: list[int]) -> None:
    assert "n3" in room.graph().nodes
    state = room.doc.get_state()
    run_async(room.apply(browser_update(room, lambda nodes: nodes.pop("n3")), "u_ana"))
    assert room.doc.get_state() == state, "(what makes the deletion easy to miss)"
    assert "n3" not in room.graph().nodes and len(reads) == 2


def test_a_server_side_edit_and_a_rebuilt_document_are_read_again(room: Room, reads: list[int]) -> None:
    room.graph()
    graph = _graph(2)
    run_async(room.apply_graph(graph, "u_ana"))  # a REST edit: through a copy, then as a browser's update
    assert set(room.graph().nodes) == {"n0", "n1"} and len(reads) == 2
    room._rebuild()  # the document again from the log (after an update the log refused): another document
    assert set(room.graph().nodes) == {"n0", "n1"} and len(reads) == 3
    assert room.graph() is room.graph() and len(reads) == 3
