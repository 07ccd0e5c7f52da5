"""Takes: every result a shot node makes is a take of that shot, numbered within it.

The `takes` index answers "the takes of this shot" without reading asset files: one row per generated asset,
written in the transaction that records the asset (`engine/run.py:_Results.rows`). A generated asset without a
row (made before this index, imported, restored, copied from a sample) gets one from its asset file the first
time its project's takes are asked for (`index_missing`); an asset that no shot made gets a row without a node,
so it is read once.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, Session, SQLModel, col, select

from mediastudio.common import utcnow
from mediastudio.db import insert_new
from mediastudio.media.assets import read_meta
from mediastudio.projects.tables import Asset, Project
from mediastudio.settings import Settings

TAKE_NUMBER = re.compile(r" · #(\d+)\.[^.]+$")
MODEL_MAX = 200


class Take(SQLModel, table=True):
    """One generated asset as a take of a shot (`node_id` null: no shot made it)."""

    __tablename__ = "takes"
    __table_args__ = (Index("ix_takes_shot", "project_id", "scene_id", "node_id"),)

    asset_id: str = Field(primary_key=True, foreign_key="assets.id", ondelete="CASCADE")
    project_id: str = Field(foreign_key="projects.id", ondelete="CASCADE")
    scene_id: str | None = None
    node_id: str | None = None
    number: int | None = None  # the take's number in its shot ('· #3')
    seed: int | None = None
    model: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


def take_of(meta: dict[str, Any], project_id: str) -> Take:
    """The index row of an asset file's meta (its provenance names the scene, the shot node, seed and model)."""
    provenance = meta.get("provenance") if isinstance(meta.get("provenance"), dict) else {}
    assert isinstance(provenance, dict)
    scene_id, node_id = provenance.get("scene_id"), provenance.get("node_id")
    seed, model = provenance.get("seed"), provenance.get("model")
    number = TAKE_NUMBER.search(str(meta.get("name") or ""))
    created = meta.get("created_at")
    try:
        created_at = datetime.fromisoformat(created) if isinstance(created, str) else utcnow()
    except ValueError:
        created_at = utcnow()
    shot = isinstance(scene_id, str) and isinstance(node_id, str)
    return Take(asset_id=str(meta["id"]), project_id=project_id, scene_id=scene_id if shot else None,
                node_id=node_id if shot else None, number=int(number.group(1)) if number else None,
                seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
                model=model[:MODEL_MAX] if isinstance(model, str) else None, created_at=created_at)


def record_takes(db: Session, project_id: str, metas: list[dict[str, Any]]) -> None:
    """Index new generated assets as takes, in the caller's transaction (the one that records their rows): rows
    of ids just made, which no row holds yet (added, not merged: no read of each first)."""
    db.flush()  # their assets' rows first, if the session holds them (the takes' foreign key)
    insert_new(db, [take_of(meta, project_id) for meta in metas])


def index_missing(db: Session, settings: Settings, project: Project) -> int:
    """Give every generated asset of the project that has no take row one, from its asset file; how many.
    Cheap when there are none: one query."""
    missing = db.exec(select(Asset.id).join(Take, col(Take.asset_id) == col(Asset.id), isouter=True).where(
        col(Asset.project_id) == project.id, col(Asset.category) == "generated", col(Take.asset_id).is_(None))).all()
    for asset_id in missing:
        try:
            meta = read_meta(settings, project, asset_id)
        except Exception:  # a missing or damaged file: indexed as no shot's, so it is not read again and again
            meta = {"id": asset_id}
        db.merge(take_of({**meta, "id": asset_id}, project.id))
    return len(missing)


def takes_of(db: Session, project_id: str, scene_id: str | None = None,
             node_id: str | None = None) -> list[tuple[Take, Asset]]:
    """The takes (not in the trash) of a project's shots, or of one scene, or of one shot: newest first."""
    query = select(Take, Asset).join(Asset, col(Asset.id) == col(Take.asset_id)).where(
        col(Take.project_id) == project_id, col(Take.node_id).is_not(None), col(Asset.trashed_at).is_(None))
    if scene_id is not None:
        query = query.where(col(Take.scene_id) == scene_id)
    if node_id is not None:
        query = query.where(col(Take.node_id) == node_id)
    rows = db.exec(query.order_by(col(Asset.created_at).desc(), col(Take.number).desc())).all()
    return [(take, asset) for take, asset in rows]
