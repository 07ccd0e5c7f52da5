"""Reading a workflow from anyone: a saved one's body, a dropped JSON file, the graph chunk of a dropped PNG.

Everything is bounded before it is believed (the bytes, the JSON's depth, the counts of nodes and links, each
node's parameters) and every node is checked against the studio's node types: a type it does not have, a
parameter its type does not take or a value the type refuses is a 400 naming the node. What passes is the
fragment the typed scene graph (graph/) would store.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import ValidationError

from mediastudio.engine.registry import NodeRegistry
from mediastudio.errors import BadRequest, MediastudioError
from mediastudio.graph import NodeIn
from mediastudio.graph.fragment import FORMAT, VERSION, Fragment
from mediastudio.graph.model import GraphEdge, Position
from mediastudio.graph.mp4 import Mp4GraphError, is_mp4, read_graph
from mediastudio.graph.png import PngTextError, read_text

MAX_FILE_BYTES = 4 << 20  # a dropped file (a generated PNG of 1024² fits)
MAX_GRAPH_BYTES = 1 << 20  # the JSON of a graph, in a file or a PNG chunk
MAX_DEPTH = 24
MAX_WORKFLOW_NODES = 200
MAX_WORKFLOW_EDGES = 800
MAX_PARAM_BYTES = 64 << 10  # one node's parameters, as JSON
MAX_NOTE_PARAMS = 64
GENERIC_TYPE = "generic"  # a note: any plain values, one port each way
FAR = 1_000_000
GRAPH_KEY = "mediastudio-graph"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class TooLarge(MediastudioError):
    status = 413
    title = "Too large"


def _depth(value: Any, limit: int) -> int:
    """How deep `value` nests, counting no further than `limit` + 1 (without recursion)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        todo.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(text: str | bytes, what: str) -> Any:
    """`text` as JSON: at most `MAX_GRAPH_BYTES`, nested at most `MAX_DEPTH` deep."""
    if len(text) > MAX_GRAPH_BYTES:
        raise TooLarge(f"{what} holds more than {MAX_GRAPH_BYTES >> 20} MB of JSON.")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"{what} is not JSON the studio can read.",
                         hint="Export a workflow from the studio's canvas, or drop a picture the studio made.") from exc
    return data


def read_file(data: bytes) -> Fragment:
    """A dropped or picked file: a PNG the studio made (its graph chunk), an MP4 it made (its graph box, or that box
    alone: the canvas sends only it of a large clip) or a JSON file of nodes."""
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(f"The file is larger than {MAX_FILE_BYTES >> 20} MB: it cannot be a workflow.")
    if data.startswith(b"\x89PNG"):
        try:
            texts = read_text(data, {GRAPH_KEY}, MAX_GRAPH_BYTES)
        except PngTextError as exc:
            raise BadRequest(f"{exc} Nothing was added.") from exc
        if GRAPH_KEY not in texts:
            raise BadRequest("This picture carries no graph: only pictures the studio generated do.",
                             hint="Drop a PNG from a shot's results, or a workflow's JSON file.")
        return checked(parse_json(texts[GRAPH_KEY], "The picture's graph"), "The picture's graph")
    if is_mp4(data) or data[4:8] == b"uuid":
        try:
            graph = read_graph(data, MAX_GRAPH_BYTES)
        except Mp4GraphError as exc:
            raise BadRequest(f"{exc} Nothing was added.") from exc
        if graph is None:
            raise BadRequest("This clip carries no graph: only clips the studio generated do.",
                             hint="Drop an MP4 from a shot's results, or its workflow's JSON file.")
        return checked(parse_json(graph, "The clip's graph"), "The clip's graph")
    return checked(parse_json(data, "The file"), "The file")


def checked(data: Any, what: str = "The workflow") -> Fragment:
    """A fragment (the clipboard's format, or a graph with edges by key) checked node by node."""
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise BadRequest(f"{what} nests deeper than {MAX_DEPTH} levels: it is not a workflow.")
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), dict):
        raise BadRequest(f"{what} holds no nodes.", hint="A workflow is {\"nodes\": {…}, \"edges\": […]}.")
    if data.get("format", FORMAT) != FORMAT or data.get("version", VERSION) != VERSION:
        raise BadRequest(f"{what} is not a workflow of this studio's format "
                         f"('{str(data.get('format'))[:40]}', version {str(data.get('version'))[:10]}).")
    nodes, edges = data["nodes"], data.get("edges") or []
    edges = list(edges.values()) if isinstance(edges, dict) else edges
    if not nodes:
        raise BadRequest(f"{what} holds no nodes.")
    if len(nodes) > MAX_WORKFLOW_NODES:
        raise BadRequest(f"{what} holds {len(nodes)} nodes; a workflow holds at most {MAX_WORKFLOW_NODES}.")
    if not isinstance(edges, list) or len(edges) > MAX_WORKFLOW_EDGES:
        raise BadRequest(f"{what}'s links are not a list of at most {MAX_WORKFLOW_EDGES}.")
    return Fragment(nodes={node_id: _node(node_id, raw) for node_id, raw in nodes.items()},
                    edges=[_edge(raw, nodes) for raw in edges])


def _name(node_id: str, raw: Any) -> str:
    title = raw.get("title") if isinstance(raw, dict) else None
    return f"'{title[:40]}'" if isinstance(title, str) and title else f"node '{node_id[:64]}'"


def _node(node_id: str, raw: Any) -> Any:
    if not _NAME.match(node_id) or not isinstance(raw, dict):
        raise BadRequest(f"The {_name(node_id, raw)} is not a node (ids are 1 to 64 letters, digits, '_' or '-').")
    try:
        node = NodeIn.model_validate(raw).stored()
    except ValidationError as exc:
        raise BadRequest(f"The {_name(node_id, raw)} is not a node: {exc.errors()[0]['msg']}.") from exc
    x, y = node.position.x, node.position.y
    if not (math.isfinite(x) and math.isfinite(y) and abs(x) <= FAR and abs(y) <= FAR):
        node.position = Position()
    if len(json.dumps(node.params)) > MAX_PARAM_BYTES:
        raise BadRequest(f"The {_name(node_id, raw)}'s parameters hold more than {MAX_PARAM_BYTES >> 10} KB.")
    return node


def _edge(raw: Any, nodes: dict[str, Any]) -> GraphEdge:
    ends = [raw.get(end) for end in ("source", "source_handle", "target", "target_handle")] \
        if isinstance(raw, dict) else []
    if len(ends) != 4 or not all(isinstance(end, str) and _NAME.match(end) for end in ends):
        raise BadRequest("A link does not name its two nodes and their ports.")
    if ends[0] not in nodes or ends[2] not in nodes or ends[0] == ends[2]:
        raise BadRequest(f"A link joins '{ends[0]}' to '{ends[2]}', which are not two nodes of the workflow.")
    via = raw.get("via")
    point = Position(x=via["x"], y=via["y"]) if isinstance(via, dict) and all(
        isinstance(via.get(k), int | float) and not isinstance(via.get(k), bool) and abs(via[k]) <= FAR
        for k in ("x", "y")) else None
    return GraphEdge(source=ends[0], source_handle=ends[1], target=ends[2], target_handle=ends[3], via=point)


def known_types(fragment: Fragment, registry: NodeRegistry) -> Fragment:
    """The fragment if each node is of a type this studio has, with parameters and ports that type has."""
    for node_id, node in fragment.nodes.items():
        name = f"'{node.title[:40]}'" if node.title else f"node '{node_id}'"
        if node.type == GENERIC_TYPE:
            _note_params(name, node.params)
            continue
        cls = registry.get(node.type)
        if cls is None:
            raise BadRequest(f"The {name} is a '{node.type[:64]}', which is not a kind of node this studio has.",
                             hint="Install the node pack it comes from, or remove the node and try again.")
        unknown = sorted(set(node.params) - set(cls.model_fields) - {f.alias for f in cls.model_fields.values()
                                                                    if f.alias})
        if unknown:
            raise BadRequest(f"The {name} ({cls.title}) has no parameter '{unknown[0][:64]}'.")
        try:
            cls.model_validate(node.params)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise BadRequest(f"The {name} ({cls.title}): '{where}': {error['msg']}.") from exc
    for edge in fragment.edges:
        _ports(edge, fragment, registry)
    return fragment


def _note_params(name: str, params: dict[str, Any]) -> None:
    if len(params) > MAX_NOTE_PARAMS or not all(_NAME.match(key) for key in params):
        raise BadRequest(f"The note {name} holds more than {MAX_NOTE_PARAMS} values, or values without a name.")


def _ports(edge: GraphEdge, fragment: Fragment, registry: NodeRegistry) -> None:
    def has(node_id: str, side: str, port: str) -> bool:
        node = fragment.nodes[node_id]
        if node.type == GENERIC_TYPE:
            return port == ("out" if side == "outputs" else "in")
        cls = registry.get(node.type)
        return cls is not None and port in (cls.outputs if side == "outputs" else cls.inputs)

    if not has(edge.source, "outputs", edge.source_handle) or not has(edge.target, "inputs", edge.target_handle):
        raise BadRequest(f"A link runs from port '{edge.source_handle}' of '{edge.source}' to port "
                         f"'{edge.target_handle}' of '{edge.target}', and one of those nodes has no such port.")
