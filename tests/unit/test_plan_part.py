"""A run's plan reads only as far as its targets reach (engine/graph.py `_wiring_of_part`): the nodes they need,
the edges into them, and of the edges out of those only whether the output they name exists. It must give what
reading the whole graph gives (`_wiring`) for everything that runs: the same order, targets, nodes, links and
problems in the same order (the first one is what a refusal names). Checked on a few hundred graphs made at random
of real node types, with wrong ports, unknown types, cycles, duplicate inputs, bypassed nodes and groups."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mediastudio.engine import graph as engine_graph
from mediastudio.engine.graph import GraphInvalid, Plan, plan
from mediastudio.engine.registry import build_node_registry
from mediastudio.graph import Graph

REGISTRY = build_node_registry()
TYPES = ["prompt", "seed", "text_to_image", "shot", "load_image", "upscale", "model_loader", "image_to_image",
         "lora", "no_such_type"]
PORTS_OUT = ["text", "seed", "image", "images", "model", "assets", "mask", "nope"]
PORTS_IN = ["prompt", "negative_prompt", "model", "seed", "images", "image", "video", "nope"]


def random_graph(rng: random.Random) -> dict[str, Any]:
    count = rng.randint(2, 40)
    groups = {f"g{k}": {"title": f"Group {k}", "bypass": rng.random() < 0.5,
                        "bounds": {"x": 0, "y": 0, "width": 400, "height": 300}} for k in range(rng.randint(0, 2))}
    nodes = {}
    for n in range(count):
        node: dict[str, Any] = {"type": rng.choice(TYPES), "position": {"x": n, "y": 0},
                                "params": {"text": "a lighthouse"} if rng.random() < 0.3 else {},
                                "bypass": rng.random() < 0.1}
        if groups and rng.random() < 0.3:
            node["group"] = rng.choice(list(groups))
        if rng.random() < 0.2:
            node["title"] = "Same title"
        nodes[f"n{n}"] = node
    edges = {}
    typed = rng.random() < 0.5  # ports the nodes have (which mostly fit), or any port names
    for _ in range(rng.randint(0, count * 2)):
        source, target = rng.choice(list(nodes)), rng.choice(list(nodes))
        out_name, in_name = rng.choice(PORTS_OUT), rng.choice(PORTS_IN)
        source_cls, target_cls = REGISTRY.get(nodes[source]["type"]), REGISTRY.get(nodes[target]["type"])
        if typed and source_cls is not None and target_cls is not None and source_cls.outputs and target_cls.inputs:
            out_name = rng.choice(list(source_cls.outputs))
            fitting = [name for name, port in target_cls.inputs.items()
                       if engine_graph.connects(source_cls.outputs[out_name], port.type)]
            in_name = rng.choice(fitting or list(target_cls.inputs))
        edges[f"{source}:{out_name}->{target}:{in_name}"] = {"source": source, "source_handle": out_name,
                                                             "target": target, "target_handle": in_name}
    return {"nodes": nodes, "edges": edges, "groups": groups}


def planned(graph: Graph, outputs: list[str] | None) -> tuple[str, Any]:
    """The plan, as far as the run is concerned, or the problems that refuse it."""
    try:
        made = plan(graph, REGISTRY, outputs, {"sd": "text-to-image"})
    except GraphInvalid as exc:
        return "refused", [i.as_dict() for i in exc.issues]
    return "planned", described(made)


def described(made: Plan) -> dict[str, Any]:
    return {"order": made.order, "targets": made.targets,
            "nodes": {n: (type(made.nodes[n]).__name__, made.nodes[n].model_dump()) for n in made.order
                      if n in made.nodes},
            "raw": {n: made.raw[n].model_dump() for n in made.order},
            "links": {n: {name: vars(link) for name, link in made.links.get(n, {}).items()} for n in made.order},
            "issues": [i.as_dict() for i in made.issues]}


def test_the_plan_of_what_runs_is_the_plan_the_whole_graph_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(20261207)
    cases = []
    for _ in range(400):
        graph = Graph.model_validate(random_graph(rng))
        ids = list(graph.nodes)
        outputs = rng.choice([None, None, [rng.choice(ids)], rng.sample(ids, min(3, len(ids))), ["missing"]])
        cases.append((graph, outputs))
    part = [planned(graph, outputs) for graph, outputs in cases]
    used: list[int] = []
    reading_part = engine_graph._wiring_of_part
    monkeypatch.setattr(engine_graph, "_wiring_of_part", lambda *args: used.append(1) or reading_part(*args))
    assert [planned(graph, outputs) for graph, outputs in cases] == part  # (the same path, counted)
    assert len(used) > 300, "the part's reading was not taken"
    monkeypatch.setattr(engine_graph, "_wiring_of_part", lambda *args: None)  # the whole graph read every time
    whole = [planned(graph, outputs) for graph, outputs in cases]
    for index, (mine, theirs) in enumerate(zip(part, whole, strict=True)):
        assert mine == theirs, f"case {index}: {cases[index][1]}"
    assert {kind for kind, _ in part} == {"planned", "refused"}
    assert sum(1 for kind, answer in part if kind == "planned" and answer["order"]) > 40, "too few graphs that run"


def test_a_shot_of_a_big_scene_reads_only_its_own_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = {"model": {"type": "model_loader", "position": {"x": 0, "y": 0}, "params": {"model": "sd"}}}
    edges = {}
    for k in range(100):
        nodes.update({f"p{k}": {"type": "prompt", "position": {"x": 0, "y": 0}, "params": {"text": f"take {k}"}},
                      f"g{k}": {"type": "text_to_image", "position": {"x": 0, "y": 0}, "params": {}},
                      f"s{k}": {"type": "shot", "position": {"x": 0, "y": 0}, "params": {"name": f"Shot {k}"}}})
        for source, out, target, into in [(f"p{k}", "text", f"g{k}", "prompt"), ("model", "model", f"g{k}", "model"),
                                          (f"g{k}", "image", f"s{k}", "images")]:
            edges[f"{source}:{out}->{target}:{into}"] = {"source": source, "source_handle": out, "target": target,
                                                         "target_handle": into}
    graph = Graph.model_validate({"nodes": nodes, "edges": edges})
    titled: list[str] = []
    titling = engine_graph._titled
    monkeypatch.setattr(engine_graph, "_titled",
                        lambda raw, registry: titled.append(raw.title) or titling(raw, registry))
    made = plan(graph, REGISTRY, ["s7"], {"sd": "text-to-image"})
    assert made.order == ["model", "p7", "g7", "s7"] and set(made.raw) == {"model", "p7", "g7", "s7"}
    assert len(titled) == 4, "nodes the shot does not need were read"
