"""What a project folder holds: project.json, scenes/<id>.json, assets/<id>.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mediastudio.projects.files import read_json, write_json

SCHEMA = 1
META_FIELDS = ("name", "description", "tags", "settings", "cover_asset_id", "archived", "template",
               "created_by", "created_at")


def empty_graph() -> dict[str, Any]:
    return {"nodes": {}, "edges": {}}


def read_meta(folder: Path) -> dict[str, Any]:
    meta: dict[str, Any] = read_json(folder / "project.json")
    return meta


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    write_json(folder / "project.json", {"schema": SCHEMA, **{k: meta.get(k) for k in META_FIELDS}})


def scene_path(folder: Path, scene_id: str) -> Path:
    return folder / "scenes" / f"{scene_id}.json"


def read_scenes(folder: Path) -> list[dict[str, Any]]:
    scenes = [read_json(p) for p in (folder / "scenes").glob("*.json")]
    return sorted(scenes, key=lambda s: (s.get("order", 0), s.get("name", ""), s["id"]))


def write_scene(folder: Path, scene: dict[str, Any]) -> None:
    write_json(scene_path(folder, scene["id"]), scene)


def shots_of(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """Shots are the `shot` nodes of a scene's graph."""
    nodes = graph.get("nodes", {})
    return [{"node_id": node_id, "name": node.get("params", {}).get("name") or node.get("title") or node_id}
            for node_id, node in sorted(nodes.items(), key=lambda kv: kv[1].get("position", {}).get("y", 0))
            if node.get("type") == "shot"]
