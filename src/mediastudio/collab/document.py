"""A scene graph as a Yjs document, and back.

Y data model: `meta` {schema, epoch}; `nodes`: id → Map {type, title, position: Map {x, y},
params: Map (text as Text), bypass, color, collapsed, group, review: Map {status, status_by, status_at, take,
take_by, take_at, order} (a shot's review state, review/)}; `edges`: "src:handle->dst:handle" → Map {source,
source_handle, target, target_handle, via?}; `groups`: id → Map {title, bounds: Map {x, y, width, height}, color,
bypass} (a node joins a group by naming it in `group`). Entries are changed in place (never re-set) so
concurrent edits of different fields of one node both survive, and text merges character by character.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pycrdt import Array, Doc, Map, Text

from mediastudio.graph import EDGE_ENDS, Graph, GraphGroup, GraphNode, Position, ShotReview

SceneDoc = Doc[Map[Any]]  # every root (meta, nodes, edges, groups) is a Map

SCHEMA = 1
NODE_SCALARS = ("type", "title", "bypass", "color", "collapsed", "group")
# Scalars a node need not hold: left unset while at these values (documents of older studios stay as they are).
OPTIONAL_SCALARS: dict[str, Any] = {"color": None, "collapsed": None, "group": None}
NODE_FIELDS = (*NODE_SCALARS, "position", "params", "review")
GROUP_SCALARS = ("title", "color", "bypass")
BOUNDS = ("x", "y", "width", "height")


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


def _node_fields(node: Map) -> dict[str, Any]:
    """What the model reads of a node (position and params only as maps, as a browser reads them)."""
    return {key: _plain(node[key]) for key in NODE_FIELDS
            if key in node and (key in NODE_SCALARS or isinstance(node[key], Map))}


def _fill_review(target: Map, review: ShotReview | None) -> None:
    """A node's review as a map of scalars changed in place (a status set and a take picked at once both
    survive); unset fields are removed, and so is the map when the node has no review."""
    if review is None:
        if "review" in target:
            del target["review"]
        return
    if not isinstance(target.get("review"), Map):
        target["review"] = Map()
    inner, wanted = target["review"], review.model_dump()
    for key in [k for k in list(inner.keys()) if k not in wanted]:
        del inner[key]
    for key, value in wanted.items():
        value = float(value) if key == "order" else value
        if inner.get(key) != value or key not in inner:
            inner[key] = value


def patch_reviews(doc: SceneDoc, changes: dict[str, dict[str, Any]]) -> list[str]:
    """Set fields of nodes' review states (node id → {field: value}; None unsets a field), in one transaction:
    only the fields named change, so two people changing different fields of a shot at once both count.
    Answers the node ids that are not in the document (nothing is changed then)."""
    nodes = doc.get("nodes", type=Map)
    missing = [node_id for node_id in changes if not isinstance(nodes.get(node_id), Map)]
    if missing:
        return missing
    with doc.transaction():
        for node_id, fields in changes.items():
            node = nodes[node_id]
            if not isinstance(node.get("review"), Map):
                node["review"] = Map()
            inner = node["review"]
            for key, value in fields.items():
                if value is None:
                    if key in inner:
                        del inner[key]
                elif inner.get(key) != value or key not in inner:
                    inner[key] = float(value) if key == "order" else value
    return []


def _edge_fields(edge: Map) -> dict[str, Any]:
    """An edge's ends, and its reroute point if it has one (a map, as a browser writes it)."""
    fields = {end: _plain(edge.get(end)) for end in EDGE_ENDS}
    if isinstance(edge.get("via"), Map):
        fields["via"] = _plain(edge["via"])
    return fields


def _group_fields(group: Map) -> dict[str, Any]:
    """A group's scalars, and its frame if it is a map (as a browser writes it)."""
    fields = {key: _plain(group[key]) for key in GROUP_SCALARS if key in group}
    if isinstance(group.get("bounds"), Map):
        fields["bounds"] = _plain(group["bounds"])
    return fields


def graph_from_doc(doc: SceneDoc) -> Graph:
    """The graph, read by the model (graph/model.py: what a node lacks or holds of the wrong kind is filled
    in); entries that are not maps and edges whose ends are gone are left out (they are repaired later)."""
    return graph_of(read_fields(doc))


@dataclass
class Changed:
    """What changed in a document since it was last read (`read_fields`): nodes by id, the edges, the groups.
    Filled by the document's observers (collab/room.py), taken by the next read."""

    nodes: set[str] = field(default_factory=set)
    edges: bool = False
    groups: bool = False

    def take(self) -> Changed:
        taken = Changed(set(self.nodes), self.edges, self.groups)
        self.nodes.clear()
        self.edges = self.groups = False
        return taken

    def __bool__(self) -> bool:
        return bool(self.nodes) or self.edges or self.groups


@dataclass(frozen=True)
class Fields:
    """What `graph_from_doc` reads of a document before the model checks it: each node's, edge's and group's
    fields as plain values (never changed once read: a later read makes new dicts)."""

    nodes: dict[str, dict[str, Any]]
    edges: dict[str, dict[str, Any]]
    groups: dict[str, dict[str, Any]]


def read_fields(doc: SceneDoc, before: Fields | None = None, changed: Changed | None = None) -> Fields:
    """The document's nodes, edges and groups as plain values. Given what an earlier read of this same document
    found (`before`) and everything that changed in it since (`changed`), only that is read again: reading a
    node out of pycrdt is most of the cost (~24 of 27 ms for a 400-node scene, the model's check the rest)."""
    node_map, edge_map, group_map = doc.get("nodes", type=Map), doc.get("edges", type=Map), doc.get("groups", type=Map)
    if before is None or changed is None:
        return Fields(nodes={node_id: _node_fields(node) for node_id, node in node_map.items()
                             if isinstance(node, Map)}, edges=_edges_of(edge_map), groups=_groups_of(group_map))
    nodes = before.nodes
    if changed.nodes:
        nodes = dict(nodes)
        for node_id in changed.nodes:
            node = node_map.get(node_id)
            if isinstance(node, Map):
                nodes[node_id] = _node_fields(node)
            else:
                nodes.pop(node_id, None)
    return Fields(nodes=nodes, edges=_edges_of(edge_map) if changed.edges else before.edges,
                  groups=_groups_of(group_map) if changed.groups else before.groups)


def _edges_of(edge_map: Map[Any]) -> dict[str, dict[str, Any]]:
    return {key: _edge_fields(edge) for key, edge in edge_map.items() if isinstance(edge, Map)}


def _groups_of(group_map: Map[Any]) -> dict[str, dict[str, Any]]:
    return {group_id: _group_fields(group) for group_id, group in group_map.items() if isinstance(group, Map)}


def graph_of(fields: Fields) -> Graph:
    """The graph the model reads from a document's fields (`read_fields`)."""
    return Graph.model_validate({"nodes": fields.nodes, "edges": fields.edges, "groups": fields.groups})


def dangling_edges(doc: SceneDoc) -> list[str]:
    nodes = doc.get("nodes", type=Map)

    def present(end: Any) -> bool:
        return isinstance(end, str) and end in nodes

    return [key for key, edge in doc.get("edges", type=Map).items()
            if not isinstance(edge, Map) or not present(edge.get("source")) or not present(edge.get("target"))]


def _y_value(value: Any) -> Any:
    if isinstance(value, str):
        return Text(value)
    if isinstance(value, dict):
        inner: Map[Any] = Map()
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
    for key in [k for k in list(params.keys()) if k not in wanted]:
        del params[key]
    for key, value in wanted.items():
        current = params.get(key)
        if isinstance(current, Text) and isinstance(value, str):
            _edit_text(current, value)
        elif _plain(current) != value or key not in params:
            _set(params, key, value)


def _fill_node(target: Map, node: GraphNode) -> None:
    for key in NODE_SCALARS:
        value = getattr(node, key)
        if key in OPTIONAL_SCALARS and value == OPTIONAL_SCALARS[key]:
            if key in target:
                del target[key]  # unset, as a browser unsets it
            continue
        if target.get(key) != value:
            target[key] = value
    if not isinstance(target.get("position"), Map):
        target["position"] = Map()
    for axis in ("x", "y"):
        value = float(getattr(node.position, axis))
        if target["position"].get(axis) != value:
            target["position"][axis] = value
    if not isinstance(target.get("params"), Map):
        target["params"] = Map()
    _update_params(target["params"], node.params)
    _fill_review(target, node.review)


def _fill_via(target: Map, via: Position | None) -> None:
    if via is None:
        if "via" in target:
            del target["via"]
        return
    if not isinstance(target.get("via"), Map):
        target["via"] = Map()
    for axis in ("x", "y"):
        value = float(getattr(via, axis))
        if target["via"].get(axis) != value:
            target["via"][axis] = value


def _fill_group(target: Map, group: GraphGroup) -> None:
    for key in GROUP_SCALARS:
        value = getattr(group, key)
        if value is None:
            if key in target:
                del target[key]
        elif target.get(key) != value:
            target[key] = value
    if not isinstance(target.get("bounds"), Map):
        target["bounds"] = Map()
    for side in BOUNDS:
        value = float(getattr(group.bounds, side))
        if target["bounds"].get(side) != value:
            target["bounds"][side] = value


def _apply_groups(doc: SceneDoc, graph: Graph) -> None:
    groups = doc.get("groups", type=Map)
    for group_id in [g for g in list(groups.keys()) if g not in graph.groups]:
        del groups[group_id]
    for group_id, group in graph.groups.items():
        if not isinstance(groups.get(group_id), Map):
            groups[group_id] = Map()
        _fill_group(groups[group_id], group)


def apply_graph(doc: SceneDoc, graph: Graph) -> None:
    """Make the document equal `graph` with the smallest set of in-place changes, in one transaction."""
    with doc.transaction():
        nodes = doc.get("nodes", type=Map)
        for node_id in [n for n in list(nodes.keys()) if n not in graph.nodes]:
            del nodes[node_id]
        for node_id, node in graph.nodes.items():
            if not isinstance(nodes.get(node_id), Map):
                nodes[node_id] = Map()
            _fill_node(nodes[node_id], node)
        edges = doc.get("edges", type=Map)
        for key in [k for k in list(edges.keys()) if k not in graph.edges]:
            del edges[key]
        for key, edge in graph.edges.items():
            if not isinstance(edges.get(key), Map):
                edges[key] = Map()
            for end in EDGE_ENDS:
                if edges[key].get(end) != getattr(edge, end):
                    edges[key][end] = getattr(edge, end)
            _fill_via(edges[key], edge.via)
        _apply_groups(doc, graph)


def new_document(graph: Graph, epoch: int) -> SceneDoc:
    doc: SceneDoc = Doc()
    with doc.transaction():
        meta = doc.get("meta", type=Map)
        meta["schema"] = SCHEMA
        meta["epoch"] = epoch
        apply_graph(doc, graph)
    return doc


def repair(doc: SceneDoc) -> bool:
    """Remove edges whose ends are gone (concurrent delete + connect). True if anything changed."""
    dangling = dangling_edges(doc)
    if dangling:
        with doc.transaction():
            edges = doc.get("edges", type=Map)
            for key in dangling:
                del edges[key]
    return bool(dangling)
