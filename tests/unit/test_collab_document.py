"""Scene graphs as Yjs documents: round trips, minimal in-place edits, merges, repair, the update log."""

import random
from pathlib import Path

from pycrdt import Doc, Map, Text

from mediastudio.collab import document
from mediastudio.collab.document import repair
from mediastudio.collab.log import UpdateLog
from mediastudio.graph import Graph

GRAPH = {
    "nodes": {
        "prompt": {"type": "prompt", "title": "Prompt", "position": {"x": 0, "y": 0},
                   "params": {"text": "a lighthouse at dusk"}, "bypass": False},
        "gen": {"type": "text_to_image", "title": "Generate", "position": {"x": 300, "y": 20},
                "params": {"steps": 30, "guidance_scale": 7.5}, "bypass": False},
    },
    "edges": {"prompt:text->gen:prompt": {"source": "prompt", "source_handle": "text", "target": "gen",
                                          "target_handle": "prompt"}},
}


# The tests edit graphs as JSON, the way the scene files and the API hold them.
def new_document(graph: dict, epoch: int) -> Doc:
    return document.new_document(Graph.model_validate(graph), epoch)


def graph_from_doc(doc: Doc) -> dict:
    return document.graph_from_doc(doc).model_dump()


def apply_graph(doc: Doc, graph: dict) -> None:
    document.apply_graph(doc, Graph.model_validate(graph))


def _sync(a: Doc, b: Doc) -> None:
    a.apply_update(b.get_update(a.get_state()))
    b.apply_update(a.get_update(b.get_state()))


def test_a_graph_survives_the_round_trip_with_its_types() -> None:
    doc = new_document(GRAPH, epoch=1)
    assert graph_from_doc(doc) == GRAPH
    assert doc.get("meta", type=Map).to_py() == {"schema": 1, "epoch": 1}
    copy = Doc()
    copy.apply_update(doc.get_update())
    assert graph_from_doc(copy) == GRAPH


def test_concurrent_edits_of_different_params_of_one_node_both_survive() -> None:
    ana, bob = new_document(GRAPH, 1), Doc()
    bob.apply_update(ana.get_update())
    mine = graph_from_doc(ana)
    mine["nodes"]["gen"]["params"]["steps"] = 40
    theirs = graph_from_doc(bob)
    theirs["nodes"]["gen"]["params"]["guidance_scale"] = 5.0
    theirs["nodes"]["prompt"]["position"] = {"x": 50, "y": 60}
    apply_graph(ana, mine)
    apply_graph(bob, theirs)
    _sync(ana, bob)
    merged = graph_from_doc(ana)
    assert merged == graph_from_doc(bob)
    assert merged["nodes"]["gen"]["params"] == {"steps": 40, "guidance_scale": 5}
    assert merged["nodes"]["prompt"]["position"] == {"x": 50, "y": 60}


def test_text_typed_by_two_people_at_once_merges_character_wise() -> None:
    ana, bob = new_document(GRAPH, 1), Doc()
    bob.apply_update(ana.get_update())
    mine, theirs = graph_from_doc(ana), graph_from_doc(bob)
    mine["nodes"]["prompt"]["params"]["text"] = "a tall lighthouse at dusk"
    theirs["nodes"]["prompt"]["params"]["text"] = "a lighthouse at dusk, cinematic"
    apply_graph(ana, mine)
    apply_graph(bob, theirs)
    _sync(ana, bob)
    assert graph_from_doc(ana)["nodes"]["prompt"]["params"]["text"] == "a tall lighthouse at dusk, cinematic"


def test_a_connection_to_a_node_deleted_meanwhile_is_repaired() -> None:
    ana, bob = new_document(GRAPH, 1), Doc()
    bob.apply_update(ana.get_update())
    without_gen = graph_from_doc(ana)
    del without_gen["nodes"]["gen"]
    without_gen["edges"] = {}
    apply_graph(ana, without_gen)
    extra = graph_from_doc(bob)
    extra["nodes"]["seed"] = {"type": "seed", "title": "Seed", "position": {"x": 0, "y": 200}, "params": {},
                              "bypass": False}
    extra["edges"]["seed:seed->gen:seed"] = {"source": "seed", "source_handle": "seed", "target": "gen",
                                             "target_handle": "seed"}
    apply_graph(bob, extra)
    _sync(ana, bob)
    assert "seed:seed->gen:seed" not in graph_from_doc(ana)["edges"]  # hidden on read
    assert repair(ana) is True and repair(ana) is False
    _sync(ana, bob)
    assert len(bob.get("edges", type=Map)) == 0


def test_what_a_client_put_in_the_document_reads_as_a_browser_shows_it() -> None:
    doc = new_document(GRAPH, 1)
    with doc.transaction():
        nodes, edges = doc.get("nodes", type=Map), doc.get("edges", type=Map)
        nodes["gen"]["title"] = Text("Hero")
        nodes["gen"]["position"] = {"x": 5, "y": 6}  # plain JSON where a map belongs
        nodes["gen"]["colour"] = "red"  # a field the document does not hold
        nodes["prompt"]["params"] = [1]
        del nodes["prompt"]["type"]
        nodes["bare"] = Map()
        nodes["junk"] = 42
        edges["prompt:text->gen:seed"] = Map({"source": "prompt", "source_handle": None, "target": "gen",
                                              "target_handle": "seed"})
    graph = graph_from_doc(doc)
    assert graph["nodes"]["gen"] == {"type": "text_to_image", "title": "Hero", "position": {"x": 0, "y": 0},
                                     "params": {"steps": 30, "guidance_scale": 7.5}, "bypass": False}
    assert graph["nodes"]["prompt"] == {"type": "unknown", "title": "Prompt", "position": {"x": 0, "y": 0},
                                        "params": {}, "bypass": False}
    assert graph["nodes"]["bare"] == {"type": "unknown", "title": "bare", "position": {"x": 0, "y": 0}, "params": {},
                                      "bypass": False}
    assert "junk" not in graph["nodes"]
    assert list(graph["edges"]) == ["prompt:text->gen:prompt"]  # an edge without a handle is not drawn


def test_random_concurrent_edits_converge() -> None:
    rng = random.Random(7)
    replicas = [new_document(GRAPH, 1)]
    for _ in range(2):
        replica = Doc()
        replica.apply_update(replicas[0].get_update())
        replicas.append(replica)
    for _ in range(200):
        doc = rng.choice(replicas)
        graph = graph_from_doc(doc)
        action = rng.choice(["add", "delete", "param", "move", "connect"])
        ids = list(graph["nodes"])
        if action == "add" or not ids:
            graph["nodes"][f"n{rng.randrange(10**6)}"] = {"type": "seed", "title": "Seed", "bypass": False,
                                                         "position": {"x": rng.randrange(500), "y": 0},
                                                         "params": {"value": rng.randrange(100)}}
        elif action == "delete":
            del graph["nodes"][rng.choice(ids)]
        elif action == "param":
            graph["nodes"][rng.choice(ids)]["params"][rng.choice(["a", "b", "text"])] = rng.choice([1, 2.5, "x y"])
        elif action == "move":
            graph["nodes"][rng.choice(ids)]["position"] = {"x": rng.randrange(900), "y": rng.randrange(900)}
        else:
            a, b = rng.choice(ids), rng.choice(ids)
            graph["edges"][f"{a}:out->{b}:in"] = {"source": a, "source_handle": "out", "target": b,
                                                  "target_handle": "in"}
        apply_graph(doc, graph)
        if rng.random() < 0.3:
            first, second = rng.sample(replicas, 2)
            _sync(first, second)
    for first in replicas:
        for second in replicas:
            _sync(first, second)
    states = [graph_from_doc(r) for r in replicas]
    assert states[0] == states[1] == states[2]


def test_the_update_log_reloads_the_same_document_before_and_after_compaction(tmp_path: Path) -> None:
    log = UpdateLog(tmp_path)
    doc = new_document(GRAPH, 1)
    log.start("s1", doc.get_update(), epoch=1)
    last = 0
    for steps in range(31, 41):
        graph = graph_from_doc(doc)
        graph["nodes"]["gen"]["params"]["steps"] = steps
        before = doc.get_state()
        apply_graph(doc, graph)
        last = log.append("s1", "u_ana", doc.get_update(before))

    def reload() -> dict:
        stored = log.load("s1")
        copy = Doc()
        copy.apply_update(stored.snapshot)
        for _, update in stored.updates:
            copy.apply_update(update)
        return graph_from_doc(copy)

    assert reload()["nodes"]["gen"]["params"]["steps"] == 40
    assert log.authors_since("s1", 0) == {"u_ana": 10}
    log.compact("s1", doc.get_update(), last)
    assert log.load("s1").updates == []
    assert reload() == graph_from_doc(doc)
    log.close()


def test_colour_and_collapse_travel_through_the_document_and_unset_ones_are_not_written() -> None:
    doc = new_document(GRAPH, epoch=1)
    assert "color" not in doc.get("nodes", type=Map)["gen"]  # an older document keeps its shape
    coloured = graph_from_doc(doc)
    coloured["nodes"]["gen"] |= {"color": "orange", "collapsed": True}
    apply_graph(doc, coloured)
    assert graph_from_doc(doc) == coloured
    del coloured["nodes"]["gen"]["color"]
    apply_graph(doc, coloured)  # the colour taken off again
    assert "color" not in graph_from_doc(doc)["nodes"]["gen"]


def test_a_hostile_colour_in_the_document_is_not_saved() -> None:
    doc = new_document(GRAPH, epoch=1)
    with doc.transaction():
        node = doc.get("nodes", type=Map)["gen"]
        node["color"] = "</style><script>"
        node["collapsed"] = "very"
    saved = graph_from_doc(doc)["nodes"]["gen"]
    assert "color" not in saved and "collapsed" not in saved


def test_a_links_reroute_point_travels_through_the_document_and_a_hostile_one_is_dropped() -> None:
    doc = new_document(GRAPH, epoch=1)
    key = "prompt:text->gen:prompt"
    assert "via" not in doc.get("edges", type=Map)[key]
    routed = graph_from_doc(doc)
    routed["edges"][key]["via"] = {"x": 150, "y": -40}
    apply_graph(doc, routed)
    assert graph_from_doc(doc) == routed
    del routed["edges"][key]["via"]
    apply_graph(doc, routed)
    assert "via" not in doc.get("edges", type=Map)[key]
    with doc.transaction():
        doc.get("edges", type=Map)[key]["via"] = "over there"
    assert "via" not in graph_from_doc(doc)["edges"][key]
