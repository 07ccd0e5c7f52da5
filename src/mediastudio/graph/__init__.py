"""The scene graph's one model family (graph/model.py): below projects/, engine/ and collab/, which all use it."""

from mediastudio.graph.model import (
    EDGE_ENDS,
    EDGE_KEY,
    MAX_GROUPS,
    MAX_NODES,
    NODE_ID,
    TITLE_MAX,
    Graph,
    GraphEdge,
    GraphGroup,
    GraphIn,
    GraphNode,
    NodeIn,
    Position,
    ShotReview,
    ShotStatus,
)

__all__ = ["EDGE_ENDS", "EDGE_KEY", "MAX_GROUPS", "MAX_NODES", "NODE_ID", "TITLE_MAX", "Graph", "GraphEdge",
           "GraphGroup", "GraphIn", "GraphNode", "NodeIn", "Position", "ShotReview",
           "ShotStatus"]
