"""Which shots a hand-off holds, in which order, with which take and for how long.

`board_shots` is the one place that decides it: every export (sheet, sequence, animatic) asks it and nothing else.
A shot is a `shot` node of a scene's graph; the shots come in the board's order and each with the take that stands
for it on the board (`review/board.py`: `shots_in_order`, `cover_take` — the picked take, else the newest), so an
export shows what the board shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session

from mediastudio.engine.takes import index_missing, takes_of
from mediastudio.errors import NotFound
from mediastudio.graph import GraphNode
from mediastudio.projects import content
from mediastudio.projects.access import project_folder
from mediastudio.projects.content import scene_graph
from mediastudio.projects.tables import Asset, Project
from mediastudio.review.board import TakeRow, cover_take, shots_in_order
from mediastudio.settings import Settings

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


def _shot(node_id: str, node: GraphNode, takes: list[TakeRow], still_seconds: float) -> BoardShot:
    review = node.review
    cover = cover_take(review, takes)
    take = _take_of(cover[1]) if cover is not None else None
    picked = take is not None and review is not None and review.take == take.asset_id
    own = _number(node.params.get("duration"))
    if take is not None and take.kind == "video" and take.duration:
        seconds = take.duration
    else:
        seconds = own if own and own > 0 else still_seconds
    name = node.params.get("name")
    title = name if isinstance(name, str) and name else node.title
    status = review.status if review is not None else None
    return BoardShot(node_id, str(title or node_id)[:120], take, picked, status, _held(seconds))


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
    index_missing(db, settings, project)  # generated assets made before the takes index, or imported
    by_shot: dict[tuple[str | None, str | None], list[TakeRow]] = {}
    for row in takes_of(db, project.id):  # newest first, kept so in each shot's list
        by_shot.setdefault((row[0].scene_id, row[0].node_id), []).append(row)
    out = []
    for scene in scenes:
        shots = shots_in_order(scene_graph(scene))
        out.append(SceneShots(scene["id"], scene["name"], [
            _shot(node_id, node, by_shot.get((scene["id"], node_id), []), still_seconds)
            for node_id, node in shots]))
    return out
