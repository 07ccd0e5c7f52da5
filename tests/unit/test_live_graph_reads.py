"""A room's graph (collab/room.py `Room.graph`: what a run of a scene someone has open runs, a check of it, the
file keeper every 0.5 s while people edit) is read from its document once per change, and then only what changed:
reading every node of a 400-node scene out of pycrdt took ~27 ms of the event loop, on every run's request. Each
kind of change is seen: an edit, a deletion (which leaves the document's state vector as it was), a node added,
an edge, a group, a server-side edit, a document rebuilt from the log; what is read equals a whole read.

Real rooms on a real update log (SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map, Text
from test_collab_at_scale import _graph

from mediastudio.collab import document
from mediastudio.collab.document import graph_from_doc, new_document
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
    """How many nodes were read out of a document, one entry per read."""
    counted: list[int] = []
    reading = document._node_fields

    def node_fields(node: Any) -> dict[str, Any]:
        counted.append(1)
        return reading(node)

    monkeypatch.setattr(document, "_node_fields", node_fields)
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
    assert len(reads) == 400
    assert all(room.graph() is first for _ in range(5)) and len(reads) == 400, "read again with nothing changed"

    def edit(nodes: Map[Any]) -> None:
        nodes["n7"]["params"]["value"] = 42

    run_async(room.apply(browser_update(room, edit), "u_ana"))
    edited = room.graph()
    assert edited.nodes["n7"].params["value"] == 42 and len(reads) == 401, "only the node edited is read again"
    assert first.nodes["n7"].params["value"] == 0, "a graph handed out earlier is left as it was"
    assert room.graph() is edited and len(reads) == 401
    assert edited == graph_from_doc(room.doc)


def test_a_deletion_is_seen_though_it_leaves_the_state_vector_be(room: Room, reads: list[int]) -> None:
    assert "n3" in room.graph().nodes
    state = room.doc.get_state()
    run_async(room.apply(browser_update(room, lambda nodes: nodes.pop("n3")), "u_ana"))
    assert room.doc.get_state() == state, "(what makes the deletion easy to miss)"
    assert "n3" not in room.graph().nodes and len(reads) == 400
    assert room.graph() == graph_from_doc(room.doc)


def test_a_server_side_edit_and_a_rebuilt_document_are_read_again(room: Room, reads: list[int]) -> None:
    room.graph()
    graph = _graph(2)
    run_async(room.apply_graph(graph, "u_ana"))  # a REST edit: through a copy, then as a browser's update
    assert set(room.graph().nodes) == {"n0", "n1"}
    room._rebuild()  # the document again from the log (after an update the log refused): another document
    before = len(reads)
    assert set(room.graph().nodes) == {"n0", "n1"} and len(reads) == before + 2, "the new document read whole"
    assert room.graph() is room.graph() and len(reads) == before + 2


def test_what_is_read_again_equals_a_whole_read_after_every_kind_of_change(room: Room) -> None:
    def add_node(nodes: Map[Any]) -> None:
        node: Map[Any] = Map()
        nodes["fresh"] = node
        node.update({"type": "prompt", "title": "Fresh", "position": Map({"x": 1, "y": 2}),
                     "params": Map({"text": Text("a lighthouse")})})

    def edit_text(nodes: Map[Any]) -> None:
        nodes["fresh"]["params"]["text"] += " at dusk"

    def add_edge(source: str, target: str) -> Any:
        def add(edges: Map[Any]) -> None:
            edge: Map[Any] = Map()
            edges[f"{source}:seed->{target}:seed"] = edge
            edge.update({"source": source, "source_handle": "seed", "target": target, "target_handle": "seed"})
        return add

    def add_group(groups: Map[Any]) -> None:
        group: Map[Any] = Map()
        groups["g1"] = group
        group.update({"title": "Frame", "bounds": Map({"x": 0, "y": 0, "width": 400, "height": 300})})

    def move(nodes: Map[Any]) -> None:
        nodes["n5"]["position"]["x"] = 500

    def title_and_group(nodes: Map[Any]) -> None:
        nodes["n6"]["title"] = "Renamed"
        nodes["n6"]["group"] = "g1"

    steps: list[tuple[str, Any]] = [
        ("nodes", add_node), ("nodes", edit_text), ("nodes", move), ("nodes", title_and_group),
        ("edges", add_edge("n1", "n2")), ("edges", add_edge("n3", "n4")),
        ("groups", add_group),
        ("groups", lambda groups: groups["g1"].__setitem__("bypass", True)),
        ("edges", lambda edges: edges.pop("n3:seed->n4:seed")),
        ("nodes", lambda nodes: nodes.pop("n1")),  # its edge left dangling: removed by the server's own fix
        ("groups", lambda groups: groups.pop("g1")),  # n6 names a group that is gone: in none
        ("nodes", lambda nodes: nodes.pop("fresh")),
    ]
    room.graph()

    async def each_in_turn() -> None:  # one event loop for the room's updates, as in the server
        for root, change in steps:
            client: Doc[Any] = Doc()
            client.apply_update(room.doc.get_update())
            before = client.get_state()
            change(client.get(root, type=Map))
            await room.apply(client.get_update(before), "u_ana")
            assert room.graph() == graph_from_doc(room.doc), f"after a change of {root}"

    run_async(each_in_turn())
    final = room.graph()
    assert "n1" not in final.nodes and "fresh" not in final.nodes and final.nodes["n5"].position.x == 500
    assert final.nodes["n6"].title == "Renamed" and final.nodes["n6"].group is None and not final.edges


def test_a_node_named_edges_and_the_edges_are_credited_to_whoever_changed_each(tmp_path: Path) -> None:
    """What a room notes of a change keeps node ids apart from "the edges" and "the groups" (collab/activity.py
    `EDGES`, `GROUPS`): a node whose id is `edges` was credited to whoever last changed the links, and the links to
    whoever last changed that node."""
    from mediastudio.collab.activity import credit, describe_edits

    update_log = UpdateLog(tmp_path)
    graph = Graph.model_validate({"nodes": {name: {"type": "seed", "position": {"x": 0, "y": 0},
                                                   "params": {"value": 0}} for name in ("edges", "groups", "n1")},
                                  "edges": {}})
    doc = new_document(graph, epoch=1)
    update_log.start("s1", doc.get_update(), epoch=1)
    room = Room("s1", doc, update_log, 0)
    before = room.graph().model_dump()

    def seed_of_edges(nodes: Map[Any]) -> None:
        nodes["edges"]["params"]["value"] = 7

    def link(edges: Map[Any]) -> None:
        edge: Map[Any] = Map()
        edges["groups:seed->n1:seed"] = edge
        edge.update({"source": "groups", "source_handle": "seed", "target": "n1", "target_handle": "seed"})

    async def ana_then_ben() -> None:
        for user, root, change in (("u_ana", "nodes", seed_of_edges), ("u_ben", "edges", link)):
            client: Doc[Any] = Doc()
            client.apply_update(room.doc.get_update())
            state = client.get_state()
            change(client.get(root, type=Map))
            await room.apply(client.get_update(state), user)

    run_async(ana_then_ben())
    _, edited = room.take_window()
    credited = credit(describe_edits(before, room.graph().model_dump()), edited, lead=None)
    assert {who: [text for _, text in entries] for who, entries in credited.items()} == {
        "u_ana": ["changed value 0→7 on 'Seed'"], "u_ben": ["connected 1 edge"]}
