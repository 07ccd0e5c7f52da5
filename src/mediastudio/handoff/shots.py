"""Which shots a hand-off holds, in which order, with which take and for how long.

`board_shots` is the one place that decides it: every export (sheet, sequence, animatic) asks it and nothing else.
A shot is a `shot` node of a scene's graph. Its take is the one picked on the board (`review.take` on the node),
else its newest take (a generated picture or clip whose provenance names the scene and the node). Shots placed on
the board (`review.order`) come first in that order; the others follow by their place on the canvas, top-left to
bottom-right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlmodel import Session, col, select

from mediastudio.errors import MediastudioError, NotFound
from mediastudio.projects import content
from mediastudio.projects.access import project_folder
from mediastudio.projects.tables import Asset, Project
from mediastudio.settings import Settings

TAKES_READ_MAX = 20_000  # generated assets read for the newest takes (the newest first)
SHOT_SECONDS_MIN = 0.1
SHOT_SECONDS_MAX = 60.0  # a shot is held at most this long (a longer clip is re-timed to fit)


@dataclass(frozen=True)
class Take:
    """The asset shown for a shot: a picture or a clip."""

    asset_id: str
    name: str
    sha256: str
    mime: str
    kind: Literal["image", "video"]
    duration: float | None


@dataclass(frozen=True)
class BoardShot:
    node_id: str
    title: str
    take: Take | None
    picked: bool  # chosen on the board (else the newest take, or none)
    status: str | None
    seconds: float


@dataclass(frozen=True)
class SceneShots:
    scene_id: str
    name: str
    shots: list[BoardShot]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _held(seconds: float) -> float:
    return round(min(max(seconds, SHOT_SECONDS_MIN), SHOT_SECONDS_MAX), 3)


def _take_of(asset: Asset) -> Take | None:
    kind: Literal["image", "video"] = "image" if asset.mime.startswith("image/") else "video"
    if asset.trashed_at is not None or not asset.mime.startswith(("image/", "video/")):
        return None
    return Take(asset.id, asset.name, asset.sha256, asset.mime, kind, _number(asset.duration))


def _provenance(folder: Path, asset_id: str) -> tuple[str, str] | None:
    """(scene id, node id) an asset's provenance names, or None."""
    try:
        meta = json.loads(content.asset_path(folder, asset_id).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError, MediastudioError):
        return None
    made = meta.get("provenance") if isinstance(meta, dict) else None
    if not isinstance(made, dict) or not isinstance(made.get("scene_id"), str) \
            or not isinstance(made.get("node_id"), str):
        return None
    return made["scene_id"], made["node_id"]


def newest_takes(db: Session, folder: Path, project_id: str) -> dict[tuple[str, str], Take]:
    """(scene id, node id) → the newest generated picture or clip of that shot."""
    rows = db.exec(select(Asset).where(col(Asset.project_id) == project_id, col(Asset.category) == "generated",
                                       col(Asset.trashed_at).is_(None))
                   .order_by(col(Asset.created_at).desc(), col(Asset.id)).limit(TAKES_READ_MAX)).all()
    found: dict[tuple[str, str], Take] = {}
    for asset in rows:
        take = _take_of(asset)
        key = _provenance(folder, asset.id) if take is not None else None
        if take is not None and key is not None and key not in found:
            found[key] = take
    return found


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _review(node: dict[str, Any]) -> dict[str, Any]:
    return _object(node.get("review"))


def _place(node: dict[str, Any]) -> tuple[int, float, float]:
    """Sort key: the board's order first (shots without one after), then the canvas, top-left first."""
    order = _review(node).get("order")
    position = _object(node.get("position"))
    y, x = _number(position.get("y")) or 0.0, _number(position.get("x")) or 0.0
    if isinstance(order, int) and not isinstance(order, bool):
        return (0, float(order), 0.0)
    return (1, y, x)


def _shot(db: Session, project_id: str, scene_id: str, node_id: str, node: dict[str, Any],
          newest: dict[tuple[str, str], Take], still_seconds: float) -> BoardShot:
    review, params = _review(node), _object(node.get("params"))
    take, picked = None, False
    chosen = review.get("take")
    if isinstance(chosen, str) and chosen:
        asset = db.get(Asset, chosen)
        take = _take_of(asset) if asset is not None and asset.project_id == project_id else None
        picked = take is not None
    take = take or newest.get((scene_id, node_id))
    own = _number(params.get("duration"))
    if take is not None and take.kind == "video" and take.duration:
        seconds = take.duration
    else:
        seconds = own if own and own > 0 else still_seconds
    title = params.get("name") if isinstance(params.get("name"), str) and params.get("name") else node.get("title")
    status = review.get("status")
    return BoardShot(node_id, str(title or node_id)[:120], take, picked,
                     status[:40] if isinstance(status, str) and status else None, _held(seconds))


def board_shots(db: Session, settings: Settings, project: Project, scene_ids: list[str] | None, *,
                still_seconds: float) -> list[SceneShots]:
    """The scenes (all in their order, or the ones named, in the project's order) with their shots as a hand-off
    shows them. A named scene that is gone is NotFound."""
    folder = project_folder(settings, project)
    scenes = content.read_scenes(folder)
    if scene_ids is not None:
        known = {scene["id"] for scene in scenes}
        missing = [s for s in scene_ids if s not in known]
        if missing:
            raise NotFound(f"Project '{project.id}' has no scene '{missing[0][:40]}'.",
                           hint=f"GET /api/v1/projects/{project.id}/scenes lists its scenes.")
        scenes = [scene for scene in scenes if scene["id"] in set(scene_ids)]
    newest = newest_takes(db, folder, project.id)
    out = []
    for scene in scenes:
        nodes = scene.get("graph", {}).get("nodes", {})
        shots = sorted(((n, node) for n, node in nodes.items()
                        if isinstance(node, dict) and node.get("type") == "shot"), key=lambda item: _place(item[1]))
        out.append(SceneShots(scene["id"], scene["name"], [_shot(db, project.id, scene["id"], n, node, newest,
                                                                 still_seconds) for n, node in shots]))
    return out
