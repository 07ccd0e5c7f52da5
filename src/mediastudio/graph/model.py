"""The scene graph, stated once: nodes (type, title, position, params, bypass, and how the canvas draws them:
colour and collapsed), the edges between their ports and the groups (titled frames) that hold nodes, as the
scene files, the API, the engine's planner and the live document (collab/) all hold it.

Two readings of one shape:

- `Graph` (`GraphNode`, `GraphEdge`, `GraphGroup`, `Position`) is a graph as stored: what a scene file, the live
  document and a run's snapshot hold, and what the API answers. It reads leniently, as the live document reads what
  a browser put in it: what a node lacks or holds of the wrong kind becomes what the document would show
  (its type for a title, 0,0, no parameters, not bypassed), fields it does not know are kept, and edges
  without four string ends, or whose nodes are gone, are left out (hidden on the canvas, repaired by the
  server). Only a graph that is not objects all the way down to its nodes is refused: no reader could use it.
- `GraphIn` (`NodeIn`, `GroupIn`) is a graph as a client sends it, checked strictly and stated in the OpenAPI document;
  `GraphIn.stored()` is the graph it saves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, model_validator

from mediastudio.api_types import text
from mediastudio.errors import BadRequest

_PART = r"[A-Za-z0-9_-]{1,64}"  # ASCII: the same in Python and in JSON Schema
NODE_ID = rf"^{_PART}$"
EDGE_KEY = rf"^{_PART}:{_PART}->{_PART}:{_PART}$"  # "source:handle->target:handle"
_ID = re.compile(NODE_ID)
GROUP_TITLE = "Group"
_EDGE_PARTS = re.compile(rf"^({_PART}):({_PART})->({_PART}):({_PART})$")
EDGE_ENDS = ("source", "source_handle", "target", "target_handle")
MAX_NODES = 2000
MAX_GROUPS = 500
COORDINATE_MAX = 1_000_000  # a group's frame lies within ±this on both axes
FRAME_MIN = 40  # the smallest a group's frame may be (so its title bar can still be grabbed)
TITLE_MAX = 120
TYPE_MAX = 64
UNKNOWN_TYPE = "unknown"
# The canvas's palette of node colours (named, so each studio picks shades that keep its text readable).
NodeColor = Literal["red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"]
NODE_COLORS: tuple[str, ...] = get_args(NodeColor)
# Where a shot stands on the review board (review/): to do, in progress, in review, approved.
ShotStatus = Literal["todo", "in_progress", "review", "approved"]
SHOT_STATUSES: tuple[str, ...] = get_args(ShotStatus)
REVIEW_TEXT_MAX = 64  # user ids, asset ids and ISO times are far shorter

NodeId = Annotated[str, *text(pattern=NODE_ID, message="A node id has 1 to 64 letters, digits, '_' or '-'.")]
EdgeKey = Annotated[str, *text(pattern=EDGE_KEY, message="An edge is named 'source:handle->target:handle'.")]


class Position(BaseModel):
    """Where a node sits on the canvas."""

    x: float = 0
    y: float = 0

    @field_serializer("x", "y")
    def _whole(self, value: float) -> int | float:
        """Whole numbers are written as ints (JS numbers arrive as floats), so scene files do not churn."""
        return int(value) if isinstance(value, float) and value.is_integer() else value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _coordinate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    try:
        return float(value)
    except OverflowError:  # an int past the float range
        return 0.0


def _position(value: Any) -> Any:
    if isinstance(value, Position):
        return value
    if not isinstance(value, dict):
        return {"x": 0, "y": 0}
    return {"x": _coordinate(value.get("x", 0)), "y": _coordinate(value.get("y", 0))}


def _unset(value: Any) -> bool:
    return value is None


class ShotReview(BaseModel):
    """A shot node's place on the review board: its status, its picked take and its order among its scene's
    shots, with who set each and when. Each field is left out while unset, so a scene file stays small."""

    status: ShotStatus = Field("todo", description="to do, in progress, in review or approved")
    status_by: str | None = Field(None, max_length=REVIEW_TEXT_MAX, exclude_if=_unset,
                                  description="The user who last set the status")
    status_at: str | None = Field(None, max_length=REVIEW_TEXT_MAX, exclude_if=_unset,
                                  description="When the status was last set (ISO 8601, UTC)")
    take: str | None = Field(None, max_length=REVIEW_TEXT_MAX, exclude_if=_unset,
                             description="The picked take's asset id (left out: none picked, the newest is shown)")
    take_by: str | None = Field(None, max_length=REVIEW_TEXT_MAX, exclude_if=_unset,
                                description="The user who picked the take")
    take_at: str | None = Field(None, max_length=REVIEW_TEXT_MAX, exclude_if=_unset,
                                description="When the take was picked (ISO 8601, UTC)")
    order: float | None = Field(None, allow_inf_nan=False, exclude_if=_unset,
                                description="The shot's place on the board within its scene (left out: by canvas "
                                            "position, after the ordered ones)")

    @classmethod
    def read(cls, value: Any) -> dict[str, Any] | None:
        """A stored review read leniently: a field of the wrong kind is left out; not an object, none."""
        if isinstance(value, ShotReview):
            return value.model_dump()
        if not isinstance(value, dict):
            return None
        kept: dict[str, Any] = {"status": value.get("status") if value.get("status") in SHOT_STATUSES else "todo"}
        for key in ("status_by", "status_at", "take", "take_by", "take_at"):
            text = value.get(key)
            if isinstance(text, str) and 0 < len(text) <= REVIEW_TEXT_MAX:
                kept[key] = text
        order = value.get("order")
        if not isinstance(order, bool) and isinstance(order, int | float) and abs(order) <= COORDINATE_MAX:
            kept["order"] = float(order)
        return kept

    @field_serializer("order")
    def _whole(self, value: float | None) -> int | float | None:
        return int(value) if isinstance(value, float) and value.is_integer() else value


class GraphNode(BaseModel):
    """A node as stored. Read leniently (see the module): a value of the wrong kind becomes the default."""

    model_config = ConfigDict(extra="allow")  # fields of older or other studios are kept

    type: str = Field(description="A node type id (GET /api/v1/node-types)")
    title: str = Field(description="Shown on the canvas; the type when none was given")
    position: Position
    params: dict[str, Any] = Field(description="The node type's parameters by name")
    bypass: bool = Field(description="Passes its inputs through instead of running")
    # Left out of a stored node while unset, so scene files of nodes never coloured or collapsed do not change.
    color: NodeColor | None = Field(None, exclude_if=lambda v: v is None,
                                    description="The node's colour on the canvas, from its palette")
    collapsed: bool | None = Field(None, exclude_if=lambda v: not v,
                                   description="Drawn as its title bar only (true), or whole (left out)")
    group: str | None = Field(None, exclude_if=lambda v: v is None,
                              description="The id of the group (frame) the node belongs to (left out while none)")
    review: ShotReview | None = Field(None, exclude_if=lambda v: v is None,
                                      description="A shot's review state on the board (left out while unset)")

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # a node that is not an object is refused
        kind = _text(data.get("type"))
        params = data.get("params")
        color = data.get("color")
        group = data.get("group")
        return {**data, "type": kind or UNKNOWN_TYPE, "title": _text(data.get("title")) or kind or UNKNOWN_TYPE,
                "position": _position(data.get("position")), "params": params if isinstance(params, dict) else {},
                "bypass": data.get("bypass") is True, "color": color if color in NODE_COLORS else None,
                "collapsed": True if data.get("collapsed") is True else None,
                "group": group if isinstance(group, str) and _ID.match(group) else None,
                "review": ShotReview.read(data.get("review"))}


class Bounds(BaseModel):
    """Where a group's frame lies on the canvas: its top-left corner and its size."""

    x: float = 0
    y: float = 0
    width: float = 320
    height: float = 200

    @field_serializer("x", "y", "width", "height")
    def _whole(self, value: float) -> int | float:
        return int(value) if isinstance(value, float) and value.is_integer() else value


def _bounds(value: Any) -> dict[str, float]:
    """A frame read leniently: numbers kept within the canvas's bounds, a size at least FRAME_MIN."""
    if isinstance(value, Bounds):
        value = value.model_dump()
    if not isinstance(value, dict):
        value = {}
    x, y = (max(-COORDINATE_MAX, min(COORDINATE_MAX, _coordinate(value.get(axis, 0)))) for axis in ("x", "y"))
    width, height = (max(FRAME_MIN, min(2 * COORDINATE_MAX, _coordinate(value.get(side, 0))))
                     for side in ("width", "height"))
    return {"x": x, "y": y, "width": width, "height": height}


class GraphGroup(BaseModel):
    """A group as stored: a titled, coloured frame on the canvas. Its nodes name it (`GraphNode.group`), so a
    node belongs to one group at most, and a node deleted leaves its group by itself."""

    model_config = ConfigDict(extra="allow")

    title: str = Field(description="Shown in the frame's title bar")
    bounds: Bounds = Field(description="The frame: top-left corner and size, in canvas units")
    color: NodeColor | None = Field(None, exclude_if=lambda v: v is None,
                                    description="The frame's colour, from the nodes' palette")
    bypass: bool | None = Field(None, exclude_if=lambda v: not v,
                                description="Every node of the group is bypassed in a run (true), or none is")

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        color = data.get("color")
        return {**data, "title": (_text(data.get("title")) or GROUP_TITLE)[:TITLE_MAX],
                "bounds": _bounds(data.get("bounds")), "color": color if color in NODE_COLORS else None,
                "bypass": True if data.get("bypass") is True else None}


class GraphEdge(BaseModel):
    """An edge from an output port (`source_handle`) of one node to an input port of another."""

    model_config = ConfigDict(extra="allow")

    source: str
    source_handle: str
    target: str
    target_handle: str
    via: Position | None = Field(None, exclude_if=lambda v: v is None,
                                 description="A reroute point the link is drawn through (left out while none)")

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> Any:
        if isinstance(data, dict) and "via" in data:
            return {**data, "via": _via(data["via"])}
        return data

    @property
    def key(self) -> str:
        """Its name in the graph: 'source:handle->target:handle'."""
        return f"{self.source}:{self.source_handle}->{self.target}:{self.target_handle}"

    @classmethod
    def of_key(cls, key: str) -> GraphEdge | None:
        """The edge a key names; None unless it is 'source:handle->target:handle' of node ids."""
        match = _EDGE_PARTS.match(key)
        return cls(**dict(zip(EDGE_ENDS, match.groups(), strict=True))) if match else None


def _via(value: Any) -> Any:
    """A reroute point: an {x, y} object read as a position; anything else is none."""
    return _position(value) if isinstance(value, dict | Position) else None


def _sent_via(value: Any) -> Position | None:
    via = _via(value)
    return Position.model_validate(via) if via is not None else None


def _usable(edge: Any, nodes: dict[str, Any]) -> bool:
    """Whether an edge has four string ends between nodes of the graph."""
    if isinstance(edge, GraphEdge):
        return edge.source in nodes and edge.target in nodes
    return isinstance(edge, dict) and all(isinstance(edge.get(end), str) for end in EDGE_ENDS) \
        and edge["source"] in nodes and edge["target"] in nodes


def _titled(node_id: str, node: Any) -> Any:
    """A node with neither a title nor a type is shown by its id."""
    if isinstance(node, dict) and not _text(node.get("title")) and not _text(node.get("type")):
        return {**node, "title": node_id}
    return node


class Graph(BaseModel):
    """A scene's node graph as stored (a scene file, the live document, a run's snapshot)."""

    nodes: dict[str, GraphNode] = Field(description="Node id → node")
    edges: dict[str, GraphEdge] = Field(description="'source:handle->target:handle' → edge")
    # Left out while there is none, so scene files of graphs never grouped do not change.
    groups: dict[str, GraphGroup] = Field(default_factory=dict, exclude_if=lambda v: not v,
                                          description="Group id → group (a titled frame around nodes)")

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        nodes, edges = data.get("nodes", {}), data.get("edges", {})
        if not isinstance(nodes, dict) or not isinstance(edges, dict):
            return {**data, "nodes": nodes, "edges": edges}  # refused: not a graph
        groups = data.get("groups")
        groups = {g: group for g, group in groups.items() if isinstance(group, dict | GraphGroup) and _ID.match(g)} \
            if isinstance(groups, dict) else {}
        return {**data, "nodes": {n: _titled(n, node) for n, node in nodes.items()},
                "edges": {key: edge for key, edge in edges.items() if _usable(edge, nodes)}, "groups": groups}

    @model_validator(mode="after")
    def _members(self) -> Graph:
        """A node naming a group that is gone (deleted while someone moved the node into it) is in none."""
        for node in self.nodes.values():
            if node.group is not None and node.group not in self.groups:
                node.group = None
        return self

    def members(self, group_id: str) -> list[str]:
        """The ids of the nodes in a group."""
        return [node_id for node_id, node in self.nodes.items() if node.group == group_id]

    def as_run(self) -> dict[str, GraphNode]:
        """The nodes as a run sees them: each node of a bypassed group is bypassed (its own setting is kept for
        when the group is no longer bypassed)."""
        bypassed = {g for g, group in self.groups.items() if group.bypass}
        return {node_id: node.model_copy(update={"bypass": True}) if node.group in bypassed and not node.bypass
                else node for node_id, node in self.nodes.items()}

    def part(self, node_ids: Iterable[str]) -> Graph:
        """The nodes named (those of this graph), the edges between them and the groups they are in: what a run
        of some outputs computes, which is all it records (engine/service.py `Engine.plan_part`). This very
        graph when it names every node. Made of this graph's own (checked) nodes, edges and groups, not
        validated again; read, never changed, like any run's graph."""
        kept = {node_id: self.nodes[node_id] for node_id in node_ids if node_id in self.nodes}
        if len(kept) == len(self.nodes):
            return self
        edges = {key: edge for key, edge in self.edges.items() if edge.source in kept and edge.target in kept}
        named = {node.group for node in kept.values() if node.group is not None}
        groups = {group_id: group for group_id, group in self.groups.items() if group_id in named}
        return Graph.model_construct(nodes=kept, edges=edges, groups=groups)

    @classmethod
    def read(cls, value: Any) -> Graph | None:
        """`value` as a graph; None when it is not one (a damaged or foreign scene file)."""
        try:
            return cls.model_validate(value)
        except ValidationError:
            return None


class NodeIn(BaseModel):
    """A node as a client sends it."""

    model_config = ConfigDict(extra="allow")  # accepted, not kept

    type: str = Field(min_length=1, max_length=TYPE_MAX, description="A node type id (GET /api/v1/node-types)")
    title: str | None = Field(None, max_length=TITLE_MAX)
    position: Position | None = None
    params: dict[str, Any] | None = None
    bypass: bool = False
    color: NodeColor | None = None
    collapsed: bool | None = None
    group: NodeId | None = Field(None, description="A group of this graph's `groups`")
    review: ShotReview | None = Field(None, description="A shot's review state (kept as sent)")

    def stored(self) -> GraphNode:
        return GraphNode(type=self.type, title=self.title or self.type, position=self.position or Position(),
                         params=self.params or {}, bypass=self.bypass, color=self.color,
                         collapsed=self.collapsed or None, group=self.group, review=self.review)


Coordinate = Annotated[float, Field(ge=-COORDINATE_MAX, le=COORDINATE_MAX, allow_inf_nan=False)]
Side = Annotated[float, Field(ge=FRAME_MIN, le=2 * COORDINATE_MAX, allow_inf_nan=False)]


class BoundsIn(BaseModel):
    """A group's frame as a client sends it."""

    x: Coordinate = 0
    y: Coordinate = 0
    width: Side = 320
    height: Side = 200


class GroupIn(BaseModel):
    """A group as a client sends it."""

    model_config = ConfigDict(extra="allow")  # accepted, not kept

    title: str | None = Field(None, max_length=TITLE_MAX)
    bounds: BoundsIn = Field(default_factory=BoundsIn)
    color: NodeColor | None = None
    bypass: bool | None = None

    def stored(self) -> GraphGroup:
        return GraphGroup(title=self.title or GROUP_TITLE, bounds=Bounds(**self.bounds.model_dump()),
                          color=self.color, bypass=self.bypass or None)


class GraphIn(BaseModel):
    """A graph as a client sends it: the shape the server checks, stated for the OpenAPI document."""

    nodes: dict[NodeId, NodeIn] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"pattern": NODE_ID}, "maxProperties": MAX_NODES},
        description="id → {type, title, position {x, y}, params {…}, bypass}")
    edges: dict[EdgeKey, dict[str, Any]] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"pattern": EDGE_KEY}},
        description="'source:handle->target:handle' → {source, source_handle, target, target_handle, via?: {x, y}}",
    )
    groups: dict[NodeId, GroupIn] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"pattern": NODE_ID}, "maxProperties": MAX_GROUPS},
        description="id → {title, bounds {x, y, width, height}, color?, bypass?}; a node joins one by its `group`")

    def stored(self) -> Graph:
        """The graph to save: titles and positions filled in, each edge as its key names it, edges whose
        nodes are not in the graph left out (they would be hidden anyway), and so is a node's group that the
        graph does not send (the node is in none, as the live document reads it)."""
        if len(self.nodes) > MAX_NODES:
            raise BadRequest(f"A scene holds at most {MAX_NODES} nodes.", field="graph")
        if len(self.groups) > MAX_GROUPS:
            raise BadRequest(f"A scene holds at most {MAX_GROUPS} groups.", field="graph")
        edges = {key: GraphEdge.of_key(key) for key in self.edges}
        return Graph(nodes={node_id: node.stored() for node_id, node in self.nodes.items()},
                     edges={key: edge.model_copy(update={"via": _sent_via(self.edges[key].get("via"))})
                            for key, edge in edges.items() if edge is not None},
                     groups={group_id: group.stored() for group_id, group in self.groups.items()})
