"""A scene graph as a Yjs document, and back.

Y data model: `meta` {schema, epoch}; `nodes`: id → Map {type, title, position: Map {x, y},
params: Map (text as Text), bypass}; `edges`: "src:handle->dst:handle" → Map {source, source_handle,
target, target_handle}. Entries are changed in place (never re-set) so concurrent edits of different
fields of one node both survive, and text merges character by character.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text

SCHEMA = 1
NODE_SCALARS = ("type", "title", "bypass")
EDGE_FIELDS = ("source", "source_handle", "target", "target_handle")


def _number(value: Any) -> Any:
    """JS numbers arrive as floats: whole ones go back to ints so files do not churn."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _plain(value: Any) -> Any:
    """JSON for whatever a client put there: unknown shared types and binary content become null, so
    one hostile update cannot make the scene file unwritable."""
    if isinstance(value, Text):
        return str(value)
    if isinstance(value, Map):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Array | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return _number(value)
    return None


def _coordinate(value: Any) -> int | float:
    return _number(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _text(value: Any, fallback: str) -> str:
    plain = _plain(value)
    return plain if isinstance(plain, str) and plain else fallback


def graph_from_doc(doc: Doc) -> dict[str, Any]:
    """The graph as plain JSON; edges whose ends are gone are left out (they are repaired later)."""
    nodes = {}
    for node_id, node in doc.get("nodes", type=Map).items():
        if not isinstance(node, Map):
            continue
        position = node.get("position")
        kind = _text(node.get("type"), "unknown")
        nodes[node_id] = {
            "type": kind,
            "title": _text(node.get("title"), _text(node.get("type"), node_id)),
            "position": {"x": _coordinate(position.get("x", 0)), "y": _coordinate(position.get("y", 0))}
            if isinstance(position, Map) else {"x": 0, "y": 0},
            "params": _plain(node["params"]) if isinstance(node.get("params"), Map) else {},
            "bypass": node.get("bypass") is True,
        }
    edges = {}
    for key, edge in doc.get("edges", type=Map).items():
        if not isinstance(edge, Map):
            continue
        fields = {field: _plain(edge.get(field)) for field in EDGE_FIELDS}
        if isinstance(fields["source"], str) and fields["source"] in nodes \
                and isinstance(fields["target"], str) and fields["target"] in nodes:
            edges[key] = fields
    return {"nodes": nodes, "edges": edges}


def dangling_edges(doc: Doc) -> list[str]:
    nodes = doc.get("nodes", type=Map)

    def present(end: Any) -> bool:
        return isinstance(end, str) and end in nodes

    return [key for key, edge in doc.get("edges", type=Map).items()
            if not isinstance(edge, Map) or not present(edge.get("source")) or not present(edge.get("target"))]


def _y_value(value: Any) -> Any:
    if isinstance(value, str):
        return Text(value)
    if isinstance(value, dict):
        inner = Map()
        return inner, value
    return value


def _set(target: Map, key: str, value: Any) -> None:
    converted = _y_value(value)
    if isinstance(converted, tuple):
        inner, plain = converted
        target[key] = inner
        for k, v in plain.items():
            _set(inner, k, v)
    else:
        target[key] = converted


def _edit_text(text: Text, new: str) -> None:
    """Turn `text` into `new` with one delete and one insert around the common prefix and suffix."""
    old = str(text)
    if old == new:
        return
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old, end_new = end_old - 1, end_new - 1
    if end_old > start:
        del text[start:end_old]
    if end_new > start:
        text.insert(start, new[start:end_new])


def _update_params(params: Map, wanted: dict[str, Any]) -> None:
    for key in [k for k in list(params) if k not in wanted]:
        del params[key]
    for key, value in wanted.items():
        current = params.get(key)
        if isinstance(current, Text) and isinstance(value, str):
            _edit_text(current, value)
        elif _plain(current) != value or key not in params:
            _set(params, key, value)


def _fill_node(target: Map, node: dict[str, Any]) -> None:
    for key in NODE_SCALARS:
        if key in node and target.get(key) != node[key]:
            target[key] = node[key]
    position = node.get("position") or {"x": 0, "y": 0}
    if not isinstance(target.get("position"), Map):
        target["position"] = Map()
    for axis in ("x", "y"):
        value = float(position.get(axis, 0))
        if target["position"].get(axis) != value:
            target["position"][axis] = value
    if not isinstance(target.get("params"), Map):
        target["params"] = Map()
    _update_params(target["params"], node.get("params") or {})


def apply_graph(doc: Doc, graph: dict[str, Any]) -> None:
    """Make the document equal `graph` with the smallest set of in-place changes, in one transaction."""
    with doc.transaction():
        nodes = doc.get("nodes", type=Map)
        wanted = graph.get("nodes", {})
        for node_id in [n for n in list(nodes) if n not in wanted]:
            del nodes[node_id]
        for node_id, node in wanted.items():
            if not isinstance(nodes.get(node_id), Map):
                nodes[node_id] = Map()
            _fill_node(nodes[node_id], node)
        edges = doc.get("edges", type=Map)
        wanted_edges = graph.get("edges", {})
        for key in [k for k in list(edges) if k not in wanted_edges]:
            del edges[key]
        for key, edge in wanted_edges.items():
            if not isinstance(edges.get(key), Map):
                edges[key] = Map()
            for field in EDGE_FIELDS:
                if edges[key].get(field) != edge.get(field):
                    edges[key][field] = edge.get(field)


def new_document(graph: dict[str, Any], epoch: int) -> Doc:
    doc = Doc()
    with doc.transaction():
        meta = doc.get("meta", type=Map)
        meta["schema"] = SCHEMA
        meta["epoch"] = epoch
        apply_graph(doc, graph)
    return doc


def repair(doc: Doc) -> bool:
    """Remove edges whose ends are gone (concurrent delete + connect). True if anything changed."""
    dangling = dangling_edges(doc)
    if dangling:
        with doc.transaction():
            edges = doc.get("edges", type=Map)
            for key in dangling:
                del edges[key]
    return bool(dangling)
