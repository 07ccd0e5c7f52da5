"""What a generated picture or clip carries in its file: the graph that made it and its prompt (docs/generation.md).

Two PNG text chunks: `mediastudio-graph`, the nodes the shot depends on in the clipboard's format (dropped on a
canvas, it rebuilds them), and `parameters`, the prompt and settings written as A1111 and ComfyUI users know them.
A clip carries the same graph JSON in a box of its own at the end of the MP4 (graph/mp4.py).
"""

from __future__ import annotations

from typing import Any

from mediastudio.auth.tables import User
from mediastudio.db import Database
from mediastudio.errors import NotFound
from mediastudio.graph import Graph
from mediastudio.graph.fragment import fragment_json, fragment_of, upstream
from mediastudio.graph.mp4 import is_mp4, with_graph
from mediastudio.graph.png import SIGNATURE, with_text
from mediastudio.media.assets import get_asset, read_meta
from mediastudio.projects.access import require
from mediastudio.settings import Settings

GRAPH_KEY = "mediastudio-graph"
PARAMETERS_KEY = "parameters"


def parameters_text(facts: dict[str, Any]) -> str:
    """The prompt, then 'Negative prompt: …', then 'Steps: 20, CFG scale: 7, Seed: 1, Size: 512x512, Model: …'."""
    given = facts.get("params")
    params: dict[str, Any] = given if isinstance(given, dict) else {}
    lines = [str(facts.get("prompt") or "")]
    if facts.get("negative_prompt"):
        lines.append(f"Negative prompt: {facts['negative_prompt']}")
    settings = [("Steps", params.get("steps")), ("Sampler", params.get("sampler")),
                ("CFG scale", params.get("guidance_scale")), ("Seed", facts.get("seed")),
                ("Size", f"{params['width']}x{params['height']}" if "width" in params and "height" in params else None),
                ("Model", facts.get("model"))]
    said = ", ".join(f"{name}: {value}" for name, value in settings if value not in (None, ""))
    return "\n".join([*lines, said] if said else lines)


def graph_text(graph: Any, node_id: str) -> str | None:
    """The nodes `node_id` depends on (itself included), as fragment JSON; None when the graph is unreadable."""
    read = Graph.read(graph)
    if read is None or node_id not in read.nodes:
        return None
    return fragment_json(fragment_of(read, upstream(read, node_id)))


def embedded(data: bytes, graph: Graph | dict[str, Any], node_id: str, facts: dict[str, Any]) -> bytes:
    """A PNG with its graph and parameters written in, an MP4 with its graph (graph/mp4.py); anything else
    unchanged. (A `Graph` is taken as it is; a dict is read as one.)"""
    if is_mp4(data):
        graph_json = graph_text(graph, node_id)
        return with_graph(data, graph_json) if graph_json is not None else data
    if not data.startswith(SIGNATURE):
        return data
    texts = {PARAMETERS_KEY: parameters_text(facts)} if facts.get("prompt") else {}
    graph_json = graph_text(graph, node_id)
    if graph_json is not None:
        texts[GRAPH_KEY] = graph_json
    return with_text(data, texts) if texts else data


def asset_graph(database: Database, settings: Settings, user: User, project_id: str,
                asset_id: str) -> tuple[str, str]:
    """The sidecar of a generated asset (any the caller may see): its file name and the JSON of the nodes that
    made it, as a picture or a clip carries them (also for clips made before clips carried it)."""
    with database.session() as db:
        project, _ = require(db, user, project_id, "view")
        _, asset = get_asset(db, user, project_id, asset_id)
        provenance = read_meta(settings, project, asset.id).get("provenance") or {}
    node_id = provenance.get("node_id")
    text = graph_text(provenance.get("graph"), node_id) if isinstance(node_id, str) else None
    if text is None:
        raise NotFound(f"'{asset.name}' was not made by a graph here, so it has no workflow.",
                       hint="Only generated assets record the graph that made them.")
    return f"{asset.name.rsplit('.', 1)[0]}.workflow.json", text
