"""The scene graph's model family (graph/model.py): a scene file the studio wrote reads back to the same bytes,
a client's graph is checked strictly, and older or hand-made graphs still load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Map
from pydantic import ValidationError

from mediastudio.collab.document import graph_from_doc, new_document
from mediastudio.errors import BadRequest
from mediastudio.graph import MAX_NODES, Graph, GraphEdge, GraphIn, GraphNode, Position
from mediastudio.projects import content
from mediastudio.projects.files import canonical_json
from support import REPO

TEMPLATES = sorted((REPO / "examples" / "templates").glob("*.json"))


def _template_graph(name: str = "text-to-image") -> dict[str, Any]:
    return json.loads((REPO / "examples" / "templates" / f"{name}.json").read_text())["scenes"][0]["graph"]


# -- what the studio writes reads back the same -----------------------------------------------------------

def test_a_scene_file_written_from_the_live_document_round_trips_byte_for_byte(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    (folder / "scenes").mkdir(parents=True)
    doc = new_document(Graph.model_validate(_template_graph()), epoch=1)
    node = doc.get("nodes", type=Map)["prompt"]
    node["position"]["x"] = 12.5  # a browser's drag: JS numbers arrive as floats
    node["position"]["y"] = 40.0
    content.write_scene(folder, {"id": "sc_1", "name": "Hero shot", "order": 0,
                                 "graph": graph_from_doc(doc).model_dump()})  # what collab/rooms.py writes
    written = content.scene_path(folder, "sc_1").read_text()
    scene = json.loads(written)
    assert scene["graph"]["nodes"]["prompt"]["position"] == {"x": 12.5, "y": 40}
    assert '"y": 40\n' in written  # a whole number is written as one, whatever the browser sent
    read = content.scene_graph(scene)
    assert canonical_json({**scene, "graph": read.model_dump()}) == written
    assert read.model_dump() == scene["graph"]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_template_graph_reads_back_unchanged(path: Path) -> None:
    for scene in json.loads(path.read_text())["scenes"]:
        assert Graph.model_validate(scene["graph"]).model_dump() == scene["graph"]


def test_the_model_and_the_live_document_agree() -> None:
    graph = Graph.model_validate(_template_graph())
    assert graph_from_doc(new_document(graph, epoch=1)) == graph
    assert GraphEdge.of_key("seed:seed->generate:seed") == graph.edges["seed:seed->generate:seed"]
    assert all(edge.key == key for key, edge in graph.edges.items())


# -- a client's graph: strict -----------------------------------------------------------------------------

NODE = {"type": "prompt"}


@pytest.mark.parametrize("sent", [
    {"nodes": {"a b": NODE}},  # a node id with a space
    {"nodes": {"é": NODE}},  # not ASCII
    {"nodes": {"x" * 65: NODE}},
    {"nodes": {"a": {}}},  # no type
    {"nodes": {"a": {"type": ""}}},
    {"nodes": {"a": {"type": "t" * 65}}},
    {"nodes": {"a": {"type": "prompt", "title": "t" * 121}}},
    {"nodes": {"a": {"type": "prompt", "position": {"x": "left"}}}},
    {"nodes": {"a": {"type": "prompt", "params": [1, 2]}}},
    {"nodes": {"a": {"type": "prompt", "bypass": [True]}}},
    {"nodes": {"a": "prompt"}},
    {"nodes": []},
    {"edges": {"nonsense": {}}},
    {"edges": {"a:out->b": {}}},
    {"edges": {"a:out->b:in": "edge"}},
])
def test_a_client_graph_that_breaks_the_document_is_refused(sent: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        GraphIn.model_validate(sent)


def test_the_refusals_say_what_is_wrong_in_words() -> None:
    with pytest.raises(ValidationError) as refused:
        GraphIn.model_validate({"nodes": {"a b": NODE}, "edges": {"nonsense": {}}})
    messages = {".".join(map(str, e["loc"])): e["msg"] for e in refused.value.errors()}
    assert messages["nodes.a b.[key]"] == "A node id has 1 to 64 letters, digits, '_' or '-'."
    assert messages["edges.nonsense.[key]"] == "An edge is named 'source:handle->target:handle'."


def test_more_nodes_than_a_scene_holds_are_refused_when_stored() -> None:
    sent = GraphIn.model_validate({"nodes": {f"n{i}": NODE for i in range(MAX_NODES + 1)}})
    with pytest.raises(BadRequest) as refused:
        sent.stored()
    assert refused.value.detail == f"A scene holds at most {MAX_NODES} nodes."
    assert refused.value.extra == {"field": "graph"}


def test_what_a_client_leaves_out_is_filled_in_and_what_it_adds_is_dropped() -> None:
    sent = GraphIn.model_validate({
        "nodes": {"p": {"type": "prompt", "params": {"text": "dusk"}, "colour": "red"},
                  "g": {"type": "text_to_image", "title": "Hero", "position": {"x": 300.0, "y": 20.5}, "bypass": True}},
        "edges": {"p:text->g:prompt": {"source": "somewhere else"}, "p:text->gone:prompt": {}},
    })
    assert sent.stored().model_dump() == {
        "nodes": {"p": {"type": "prompt", "title": "prompt", "position": {"x": 0, "y": 0}, "params": {"text": "dusk"},
                        "bypass": False},
                  "g": {"type": "text_to_image", "title": "Hero", "position": {"x": 300, "y": 20.5}, "params": {},
                        "bypass": True}},
        # an edge is what its key names; one whose node is not in the graph is left out
        "edges": {"p:text->g:prompt": {"source": "p", "source_handle": "text", "target": "g",
                                       "target_handle": "prompt"}},
    }


def test_the_strict_reading_is_stated_in_the_openapi_document() -> None:
    schema = json.loads((REPO / "web" / "src" / "lib" / "api" / "openapi.json").read_text())["components"]["schemas"]
    nodes, edges = schema["GraphIn"]["properties"]["nodes"], schema["GraphIn"]["properties"]["edges"]
    assert nodes["propertyNames"]["pattern"] == "^[A-Za-z0-9_-]{1,64}$" and nodes["maxProperties"] == MAX_NODES
    assert edges["propertyNames"]["pattern"].startswith("^[A-Za-z0-9_-]{1,64}:")
    assert schema["NodeIn"]["required"] == ["type"]
    assert set(schema["GraphNode"]["required"]) == {"type", "title", "position", "params", "bypass"}


# -- what is stored: lenient ------------------------------------------------------------------------------

def test_a_legacy_graph_loads_with_what_it_lacks_filled_in_and_unknown_fields_kept() -> None:
    legacy = {
        "nodes": {
            "old": {"type": "prompt", "params": {"text": "dusk"}, "widget_state": {"open": True}},  # no title…
            "odd": {"type": "shot", "title": 5, "position": "top", "params": [1], "bypass": "yes"},
            "bare": {},
            "far": {"type": "seed", "position": {"x": 10**400, "y": True}},
        },
        "edges": {
            "old:text->odd:images": {"source": "old", "source_handle": "text", "target": "odd",
                                     "target_handle": "images", "color": "#f00"},
            "broken": "old->odd",
            "half": {"source": "old", "target": "odd"},
            "old:text->gone:in": {"source": "old", "source_handle": "text", "target": "gone", "target_handle": "in"},
        },
        "viewport": {"zoom": 2},
    }
    graph = Graph.model_validate(legacy)
    assert graph.nodes["old"] == GraphNode(type="prompt", title="prompt", position=Position(), params={"text": "dusk"},
                                           bypass=False, widget_state={"open": True})
    assert graph.nodes["old"].model_dump()["widget_state"] == {"open": True}
    assert graph.nodes["odd"].model_dump() == {"type": "shot", "title": "shot", "position": {"x": 0, "y": 0},
                                               "params": {}, "bypass": False}
    assert (graph.nodes["bare"].type, graph.nodes["bare"].title) == ("unknown", "bare")
    assert graph.nodes["far"].position == Position(x=0, y=0)
    assert list(graph.edges) == ["old:text->odd:images"]  # the others cannot be drawn
    assert graph.edges["old:text->odd:images"].model_dump()["color"] == "#f00"
    assert content.shots_of(graph) == [{"node_id": "odd", "name": "shot"}]


@pytest.mark.parametrize("value", [None, [], "graph", {"nodes": [1]}, {"nodes": {"a": 1}}, {"edges": []},
                                   {"nodes": None}])
def test_only_what_is_not_a_graph_at_all_is_refused(value: Any) -> None:
    assert Graph.read(value) is None


def test_an_empty_or_missing_graph_reads_as_an_empty_one() -> None:
    assert Graph.read({}) == Graph() == content.scene_graph({"name": "No graph yet"})
    assert Graph().model_dump() == {"nodes": {}, "edges": {}} == content.empty_graph()


def test_a_scene_file_with_a_legacy_graph_is_listed(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    (folder / "scenes").mkdir(parents=True)
    legacy = {"name": "Old", "graph": {"nodes": {"s": {"type": "shot", "pos": [1, 2]}}}}
    (folder / "scenes" / "sc_old.json").write_text(json.dumps(legacy))
    (folder / "scenes" / "sc_bad.json").write_text(json.dumps({"name": "Bad", "graph": {"nodes": {"s": "shot"}}}))
    (scene,) = content.read_scenes(folder)
    assert scene["graph"] == legacy["graph"]  # read as it is on disk; the model fills in only what it answers
    assert content.scene_graph(scene).nodes["s"].model_dump()["pos"] == [1, 2]


def test_the_planner_works_on_the_model_as_the_canvas_shows_it() -> None:
    from mediastudio.engine.graph import plan
    from mediastudio.engine.registry import build_node_registry

    legacy = {"nodes": {"p": {"type": "prompt", "params": {"text": "dusk"}}, "s": {"type": "shot", "bypass": "yes"},
                        "x": {"title": "Mystery"}},
              "edges": {"p:text->s:images": {"source": "p", "source_handle": "text", "target": "s",
                                             "target_handle": "images"},
                        "p:text->y:in": {"source": "p", "source_handle": "text", "target": "y", "target_handle": "in"}}}
    checked = plan(Graph.model_validate(legacy), build_node_registry(), whole=True)
    assert {(i.node_id, i.message) for i in checked.issues} == {
        ("s", "Input 'images' takes images, but 'Prompt' gives text."),  # the type's title: the node has none
        ("x", "'Mystery' has an unknown node type 'unknown'."),
    }
    assert checked.targets == ["s"] and checked.raw["s"].bypass is False


# -- how the canvas draws a node: colour and collapsed ----------------------------------------------------

def test_a_nodes_colour_and_collapse_are_kept_and_left_out_while_unset() -> None:
    graph = Graph.model_validate({"nodes": {
        "a": {"type": "prompt", "color": "teal", "collapsed": True},
        "b": {"type": "prompt"},
    }, "edges": {}})
    nodes = graph.model_dump()["nodes"]
    assert nodes["a"]["color"] == "teal" and nodes["a"]["collapsed"] is True
    assert "color" not in nodes["b"] and "collapsed" not in nodes["b"]  # scene files of older nodes do not churn


@pytest.mark.parametrize("color", ["#ff0000", "url(javascript:x)", "RED", 7, ["red"], "r" * 10_000])
def test_a_colour_off_the_palette_is_read_as_none(color: object) -> None:
    node = Graph.model_validate({"nodes": {"a": {"type": "prompt", "color": color, "collapsed": "yes"}},
                                 "edges": {}}).nodes["a"]
    assert node.color is None and not node.collapsed


def test_a_client_may_send_a_palette_colour_and_nothing_else() -> None:
    sent = GraphIn.model_validate({"nodes": {"a": {"type": "prompt", "color": "purple", "collapsed": True}}})
    assert sent.stored().model_dump()["nodes"]["a"] == {
        "type": "prompt", "title": "prompt", "position": {"x": 0, "y": 0}, "params": {}, "bypass": False,
        "color": "purple", "collapsed": True}
    with pytest.raises(ValidationError):
        GraphIn.model_validate({"nodes": {"a": {"type": "prompt", "color": "#123456"}}})


def test_a_link_may_carry_a_reroute_point_read_leniently_and_kept_from_a_client() -> None:
    ends = {"source": "a", "source_handle": "text", "target": "b", "target_handle": "prompt"}
    nodes = {"a": {"type": "prompt"}, "b": {"type": "text_to_image"}}
    graph = Graph.model_validate({"nodes": nodes, "edges": {"a:text->b:prompt": {**ends, "via": {"x": 5, "y": "no"}}}})
    assert graph.model_dump()["edges"]["a:text->b:prompt"]["via"] == {"x": 5, "y": 0}
    plain = Graph.model_validate({"nodes": nodes, "edges": {"a:text->b:prompt": {**ends, "via": [1, 2]}}})
    assert "via" not in plain.model_dump()["edges"]["a:text->b:prompt"]
    sent = GraphIn.model_validate({"nodes": nodes, "edges": {"a:text->b:prompt": {"via": {"x": 1.5, "y": 2}}}})
    assert sent.stored().model_dump()["edges"]["a:text->b:prompt"] == {**ends, "via": {"x": 1.5, "y": 2}}
