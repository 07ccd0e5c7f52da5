"""Nodes outside a scene: the one file format of copied nodes, saved workflows, exported graphs and the graph a
generated picture carries (the canvas's clipboard format, docs/canvas.md):

    {"format": "mediastudio/nodes", "version": 1, "name"?: "…",
     "nodes": {"<id>": {type, title, position, params, bypass, color?, collapsed?}},
     "edges": [{source, source_handle, target, target_handle, via?}]}

Ids are names within the fragment only: inserting it gives every node a fresh id.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from mediastudio.graph.model import Graph, GraphEdge, GraphNode

FORMAT: Literal["mediastudio/nodes"] = "mediastudio/nodes"
VERSION: Literal[1] = 1


class Fragment(BaseModel):
    """Nodes and the links between them, as copied, saved or exported."""

    format: Literal["mediastudio/nodes"] = FORMAT
    version: Literal[1] = VERSION
    nodes: dict[str, GraphNode] = Field(description="id (within the fragment) → node")
    edges: list[GraphEdge] = Field(description="Links between the fragment's nodes")


def fragment_of(graph: Graph, ids: set[str] | None = None) -> Fragment:
    """The nodes `ids` of `graph` (all when None) and the links between them."""
    keep = set(graph.nodes) if ids is None else ids & set(graph.nodes)
    return Fragment(nodes={i: node for i, node in graph.nodes.items() if i in keep},
                    edges=[e for e in graph.edges.values() if e.source in keep and e.target in keep])


def upstream(graph: Graph, node_id: str) -> set[str]:
    """`node_id` and every node whose output reaches it, through any number of links."""
    into: dict[str, list[str]] = {}
    for edge in graph.edges.values():
        into.setdefault(edge.target, []).append(edge.source)
    seen, todo = {node_id}, [node_id]
    while todo:
        for source in into.get(todo.pop(), []):
            if source not in seen:
                seen.add(source)
                todo.append(source)
    return seen & set(graph.nodes)


def fragment_json(fragment: Fragment, **extra: Any) -> str:
    """The fragment as compact JSON text (what a file or a PNG chunk holds)."""
    data = fragment.model_dump(mode="json")
    return json.dumps({**data, **extra}, ensure_ascii=False, separators=(",", ":"))
