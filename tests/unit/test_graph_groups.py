"""Groups (titled frames around nodes) in the scene graph: stored beside the nodes, read leniently from the live
document and scene files, checked strictly when a client sends them, and seen by the engine's planner (a bypassed
group bypasses its nodes)."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Map
from pydantic import ValidationError

from mediastudio.collab.document import apply_graph, graph_from_doc, new_document
from mediastudio.engine.graph import plan
from mediastudio.engine.registry import build_node_registry
from mediastudio.errors import BadRequest
from mediastudio.graph import MAX_GROUPS, TITLE_MAX, Graph, GraphIn

FRAME = {"x": 0, "y": 0, "width": 400, "height": 300}


def _graph(**group: Any) -> dict[str, Any]:
    return {"nodes": {"seed": {"type": "seed", "group": "g1"}, "big": {"type": "upscale", "group": "g1"},
                      "shot": {"type": "shot"}},
            "edges": {}, "groups": {"g1": {"title": "Upscaling", "bounds": FRAME, **group}}}


def test_a_graph_without_groups_is_stored_as_before() -> None:
    graph = Graph.model_validate({"nodes": {"a": {"type": "seed"}}, "edges": {}})
    assert "groups" not in graph.model_dump()
    assert "group" not in graph.model_dump()["nodes"]["a"]


def test_a_group_round_trips_through_the_live_document() -> None:
    graph = Graph.model_validate(_graph(color="teal", bypass=True))
    dumped = graph.model_dump()
    assert dumped["groups"] == {"g1": {"title": "Upscaling", "bounds": FRAME, "color": "teal", "bypass": True}}
    assert dumped["nodes"]["big"]["group"] == "g1"
    doc = new_document(graph, epoch=1)
    assert graph_from_doc(doc) == graph
    assert graph.members("g1") == ["seed", "big"]
    # Ungrouped and no longer bypassed: the document loses the fields rather than holding nulls.
    plain = Graph.model_validate({**_graph(), "groups": {}})
    apply_graph(doc, plain)
    assert len(doc.get("groups", type=Map)) == 0
    assert "group" not in doc.get("nodes", type=Map)["big"]
    assert graph_from_doc(doc) == plain


@pytest.mark.parametrize("stored, read", [
    ({"title": 7, "bounds": "far"}, {"title": "Group", "bounds": {"x": 0, "y": 0, "width": 40, "height": 40}}),
    ({"title": "t" * 500, "bounds": {"x": 1e300, "y": -1e300, "width": -5, "height": 1e12}, "color": "mauve",
      "bypass": "yes"},
     {"title": "t" * TITLE_MAX, "bounds": {"x": 1_000_000, "y": -1_000_000, "width": 40, "height": 2_000_000}}),
])
def test_a_hostile_group_in_the_live_document_is_read_within_bounds(stored: dict[str, Any],
                                                                     read: dict[str, Any]) -> None:
    graph = Graph.model_validate({**_graph(), "groups": {"g1": stored}})
    assert graph.model_dump()["groups"]["g1"] == read


def test_a_node_naming_a_group_that_is_gone_is_in_none() -> None:
    # Someone deleted the group while another moved a node into it; or a hand-made file.
    graph = Graph.model_validate({**_graph(), "groups": {"not an id": {"title": "x"}, "g2": "nonsense"}})
    assert graph.groups == {}
    assert all(node.group is None for node in graph.nodes.values())
    assert Graph.model_validate({"nodes": {"a": {"type": "seed", "group": ["g1"]}}, "edges": {}}).nodes["a"].group \
        is None


# -- a client's graph: strict ------------------------------------------------------------------------------

@pytest.mark.parametrize("groups, nodes", [
    ({"g 1": {"title": "x"}}, {}),  # not an id
    ({"g1": {"title": "t" * (TITLE_MAX + 1)}}, {}),
    ({"g1": {"color": "mauve"}}, {}),
    ({"g1": {"bounds": {"x": 2_000_000}}}, {}),
    ({"g1": {"bounds": {"width": 0}}}, {}),
    ({"g1": {"bounds": {"height": "tall"}}}, {}),
    ({"g1": {"bypass": [True]}}, {}),
    ({"g1": "Upscaling"}, {}),
    ({}, {"a": {"type": "seed", "group": "g 1"}}),
])
def test_a_client_s_bad_group_is_refused(groups: dict[str, Any], nodes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        GraphIn.model_validate({"nodes": nodes, "groups": groups})


def test_a_node_naming_a_group_the_graph_does_not_send_is_stored_in_none() -> None:
    # As an edge whose nodes are not sent: the schema cannot say it, and the live document reads it so too.
    sent = GraphIn.model_validate({"nodes": {"a": {"type": "seed", "group": "g9"}}, "groups": {}})
    assert sent.stored().nodes["a"].group is None
    assert "group" not in sent.stored().model_dump()["nodes"]["a"]


def test_a_client_may_send_at_most_so_many_groups() -> None:
    sent = GraphIn.model_validate({"groups": {f"g{i}": {} for i in range(MAX_GROUPS + 1)}})
    with pytest.raises(BadRequest, match=f"at most {MAX_GROUPS} groups"):
        sent.stored()


def test_a_client_s_group_is_stored() -> None:
    stored = GraphIn.model_validate(_graph(color="blue")).stored()
    assert stored.groups["g1"].title == "Upscaling" and stored.groups["g1"].color == "blue"
    assert stored.members("g1") == ["seed", "big"]


# -- the engine ---------------------------------------------------------------------------------------------

def _runnable(**group: Any) -> Graph:
    return Graph.model_validate({
        "nodes": {"load": {"type": "load_image", "params": {"asset_id": "a_1"}},
                  "big": {"type": "upscale", "group": "g1", "params": {"factor": 2}},
                  "shot": {"type": "shot", "params": {"name": "Hero"}}},
        "edges": {"load:image->big:image": {"source": "load", "source_handle": "image", "target": "big",
                                            "target_handle": "image"},
                  "big:image->shot:images": {"source": "big", "source_handle": "image", "target": "shot",
                                             "target_handle": "images"}},
        "groups": {"g1": {"title": "Upscaling", "bounds": FRAME, **group}}})


def test_a_bypassed_group_bypasses_its_nodes_in_a_run_and_keeps_their_own_setting() -> None:
    graph = _runnable(bypass=True)
    planned = plan(graph, build_node_registry())
    assert planned.raw["big"].bypass is True
    assert planned.raw["load"].bypass is False
    assert graph.nodes["big"].bypass is False  # the node's own setting, for when the group is back
    assert plan(_runnable(), build_node_registry()).raw["big"].bypass is False


def test_running_a_group_plans_its_nodes_and_what_they_need() -> None:
    graph = _runnable()
    planned = plan(graph, build_node_registry(), outputs=graph.members("g1"))
    assert planned.order == ["load", "big"]
