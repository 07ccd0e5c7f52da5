"""Scenes of a project: each is a file holding a node graph; shots are its `shot` nodes."""

from __future__ import annotations

import copy
import re
from typing import Any

from sqlmodel import Session

from mediastudio.auth.tables import User
from mediastudio.common import new_id
from mediastudio.errors import BadRequest, NotFound
from mediastudio.projects import content
from mediastudio.projects.access import project_folder, require
from mediastudio.projects.repo import ProjectRepo
from mediastudio.projects.service import commit
from mediastudio.settings import Settings

NAME_MAX = 120
EDGE_KEY = re.compile(r"^([\w-]+):([\w-]+)->([\w-]+):([\w-]+)$")
MAX_NODES = 2000


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX:
        raise BadRequest(f"A scene name needs 1 to {NAME_MAX} characters.", field="name")
    return cleaned


def list_scenes(db: Session, settings: Settings, actor: User, project_id: str) -> list[dict[str, Any]]:
    project, _ = require(db, actor, project_id, "view")
    return content.read_scenes(project_folder(settings, project))


def get_scene(db: Session, settings: Settings, actor: User, project_id: str, scene_id: str) -> dict[str, Any]:
    for scene in list_scenes(db, settings, actor, project_id):
        if scene["id"] == scene_id:
            return scene
    raise NotFound(f"Project '{project_id}' has no scene '{scene_id}'.",
                   hint=f"GET /api/v1/projects/{project_id}/scenes lists its scenes.")


def _renumber(folder: Any, scenes: list[dict[str, Any]]) -> None:
    for order, scene in enumerate(scenes):
        if scene.get("order") != order:
            scene["order"] = order
            content.write_scene(folder, scene)


def create_scene(db: Session, settings: Settings, actor: User, project_id: str, name: str,
                 graph: dict[str, Any] | None = None) -> dict[str, Any]:
    project, _ = require(db, actor, project_id, "edit")
    folder = project_folder(settings, project)
    with ProjectRepo(folder).lock:  # live rooms write scene files under the same lock
        scenes = content.read_scenes(folder)
        scene = {"id": new_id("sc"), "name": _clean_name(name), "order": len(scenes),
                 "graph": validate_graph(graph) if graph else content.empty_graph()}
        content.write_scene(folder, scene)
        commit(db, settings, project, actor, f"Added scene '{scene['name']}'")
        return scene


def update_scene(db: Session, settings: Settings, actor: User, project_id: str, scene_id: str, *,
                 name: str | None = None, order: int | None = None) -> dict[str, Any]:
    project, _ = require(db, actor, project_id, "edit")
    folder = project_folder(settings, project)
    with ProjectRepo(folder).lock:  # live rooms write scene files under the same lock
        scene = get_scene(db, settings, actor, project_id, scene_id)
        said = []
        if name is not None and _clean_name(name) != scene["name"]:
            said.append(f"Renamed scene '{scene['name']}' to '{_clean_name(name)}'")
            scene["name"] = _clean_name(name)
            content.write_scene(folder, scene)
        if order is not None:
            others = [s for s in content.read_scenes(folder) if s["id"] != scene_id]
            others.insert(max(0, min(order, len(others))), scene)
            _renumber(folder, others)
            said.append(f"Moved scene '{scene['name']}' to position {others.index(scene) + 1}")
        if said:
            commit(db, settings, project, actor, "; ".join(said))
        return get_scene(db, settings, actor, project_id, scene_id)


def duplicate_scene(db: Session, settings: Settings, actor: User, project_id: str, scene_id: str) -> dict[str, Any]:
    project, _ = require(db, actor, project_id, "edit")
    folder = project_folder(settings, project)
    with ProjectRepo(folder).lock:  # live rooms write scene files under the same lock
        source = get_scene(db, settings, actor, project_id, scene_id)
        scenes = content.read_scenes(folder)
        copy_ = {"id": new_id("sc"), "name": f"{source['name']} copy"[:NAME_MAX],
                 "graph": copy.deepcopy(source["graph"])}
        scenes.insert(scenes.index(next(s for s in scenes if s["id"] == scene_id)) + 1, copy_)
        content.write_scene(folder, {**copy_, "order": 0})
        _renumber(folder, scenes)
        commit(db, settings, project, actor, f"Duplicated scene '{source['name']}'")
        return get_scene(db, settings, actor, project_id, copy_["id"])


def delete_scene(db: Session, settings: Settings, actor: User, project_id: str, scene_id: str) -> None:
    project, _ = require(db, actor, project_id, "edit")
    folder = project_folder(settings, project)
    with ProjectRepo(folder).lock:  # live rooms write scene files under the same lock
        scene = get_scene(db, settings, actor, project_id, scene_id)
        content.scene_path(folder, scene_id).unlink()
        _renumber(folder, content.read_scenes(folder))
        commit(db, settings, project, actor, f"Deleted scene '{scene['name']}'")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{where} must be a number.", field="graph")
    return float(value)


def validate_graph(graph: dict[str, Any]) -> dict[str, Any]:
    """Check the shape of a node graph; drop edges whose ends are gone (they are hidden anyway)."""
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes", {}), dict) \
            or not isinstance(graph.get("edges", {}), dict):
        raise BadRequest("A graph is {nodes: {id: node}, edges: {key: edge}}.", field="graph")
    nodes: dict[str, Any] = {}
    if len(graph.get("nodes", {})) > MAX_NODES:
        raise BadRequest(f"A scene holds at most {MAX_NODES} nodes.", field="graph")
    for node_id, node in graph.get("nodes", {}).items():
        if not re.fullmatch(r"[\w-]{1,64}", node_id) or not isinstance(node, dict) \
                or not isinstance(node.get("type"), str):
            raise BadRequest(f"Node '{node_id}' needs an id of letters, digits, '_' or '-' and a 'type'.",
                             field="graph")
        position = node.get("position") if isinstance(node.get("position"), dict) else {"x": 0, "y": 0}
        nodes[node_id] = {
            "type": node["type"], "title": str(node.get("title") or node["type"]),
            "position": {"x": _number(position.get("x", 0), f"{node_id}.position.x"),
                         "y": _number(position.get("y", 0), f"{node_id}.position.y")},
            "params": node.get("params") if isinstance(node.get("params"), dict) else {},
            "bypass": bool(node.get("bypass", False)),
        }
    edges: dict[str, Any] = {}
    for key in graph.get("edges", {}):
        match = EDGE_KEY.match(key)
        if not match:
            raise BadRequest(f"Edge '{key}' must be named 'source:handle->target:handle'.", field="graph")
        source, source_handle, target, target_handle = match.groups()
        if source in nodes and target in nodes:
            edges[key] = {"source": source, "source_handle": source_handle, "target": target,
                          "target_handle": target_handle}
    return {"nodes": nodes, "edges": edges}
