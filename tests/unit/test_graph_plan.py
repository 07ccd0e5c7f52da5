"""The run plan's order when one node feeds two inputs of another (a picture and its mask into Inpaint)."""

from __future__ import annotations

from mediastudio.engine.graph import plan
from mediastudio.engine.registry import build_node_registry
from mediastudio.graph import Graph


def test_one_node_feeding_two_inputs_of_another_is_no_cycle() -> None:
    def place(type_: str, **params: object) -> dict[str, object]:
        return {"type": type_, "title": type_, "position": {"x": 0, "y": 0}, "params": params}

    def link(source: str, out: str, target: str, into: str) -> dict[str, str]:
        return {"source": source, "source_handle": out, "target": target, "target_handle": into}

    graph = Graph.model_validate({"nodes": {
        "load": place("load_image", asset_id="a1"), "paint": place("inpaint", prompt_text="a door"),
        "shot": place("shot", name="Take"),
    }, "edges": {
        "1": link("load", "image", "paint", "image"), "2": link("load", "mask", "paint", "mask"),
        "3": link("paint", "image", "shot", "images"),
    }})
    ran = plan(graph, build_node_registry())
    assert ran.order == ["load", "paint", "shot"] and ran.issues == []
