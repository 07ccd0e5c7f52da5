"""Assets of a project: metadata in assets/<id>.json (versioned with the project), bytes in the blob store."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, or_, select

from mediastudio.auth.models import User
from mediastudio.common import new_id, utcnow
from mediastudio.errors import BadRequest, NotFound
from mediastudio.events.emit import emit
from mediastudio.media.models import Asset
from mediastudio.media.probe import Probe
from mediastudio.media.sniff import Sniffed
from mediastudio.projects.access import project_folder, require
from mediastudio.projects.files import read_json, write_json
from mediastudio.projects.models import Project
from mediastudio.projects.service import clean_tags, commit
from mediastudio.settings import Settings

CATEGORIES = ("image", "video", "audio", "model", "reference", "generated")
NAME_MAX = 200


def clean_filename(raw: str | None, fallback: str) -> str:
    """A display name from an uploaded file name: no folders, no control characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:NAME_MAX] or fallback


def asset_file(settings: Settings, project: Project, asset_id: str) -> Path:
    return project_folder(settings, project) / "assets" / f"{asset_id}.json"


def _index(db: Session, project: Project, meta: dict[str, Any]) -> Asset:
    asset = db.get(Asset, meta["id"]) or Asset(id=meta["id"], project_id=project.id, name=meta["name"],
                                              category=meta["category"], mime=meta["mime"], size=meta["size"],
                                              sha256=meta["sha256"], created_by=meta["created_by"])
    for key in ("name", "category", "mime", "size", "sha256", "width", "height", "duration", "created_by"):
        setattr(asset, key, meta.get(key))
    asset.tags = " ".join(meta.get("tags") or [])
    trashed = meta.get("trashed_at")
    asset.trashed_at = datetime.fromisoformat(trashed) if isinstance(trashed, str) else trashed
    db.add(asset)
    return asset


def add_assets(db: Session, settings: Settings, actor: User, project_id: str,
               files: list[tuple[str, str, Sniffed, Probe, int]], *, category: str | None = None,
               tags: list[str] | None = None, provenance: dict[str, Any] | None = None,
               message: str | None = None, commit_now: bool = True) -> list[Asset]:
    """Record uploaded (or generated) blobs as assets: (name, sha256, sniffed type, probe, size) each; one commit.

    `provenance` (generated assets): the graph snapshot, node, parameters, seed, model and task that made them.
    `commit_now=False`: the files are written (durable) and indexed; the caller commits them soon after
    (a crash before that is mended at start: recovery commits complete files).
    """
    project, _ = require(db, actor, project_id, "edit")
    if category is not None and category not in CATEGORIES:
        raise BadRequest(f"Unknown category '{category}'.", hint=f"Use one of: {', '.join(CATEGORIES)}.",
                         field="category")
    made = []
    for name, sha, sniffed, probed, size in files:
        meta = {"id": new_id("as"), "name": name, "category": category or sniffed.category, "mime": sniffed.mime,
                "size": size, "sha256": sha, "width": probed.width, "height": probed.height,
                "duration": probed.duration, "tags": clean_tags(tags or []), "created_by": actor.id,
                "created_at": utcnow().isoformat(), "provenance": provenance, "trashed_at": None}
        write_json(asset_file(settings, project, meta["id"]), meta)
        made.append(_index(db, project, meta))
    label = f"'{files[0][0]}'" if len(files) == 1 else f"{len(files)} assets"
    if commit_now:
        commit(db, settings, project, actor, message or f"Uploaded {label}")
    for asset in made:
        emit(db, "asset.created", project.workspace_id, project_id=project.id, asset_id=asset.id, by=actor.id)
    return made


def get_asset(db: Session, actor: User, project_id: str, asset_id: str) -> tuple[Project, Asset]:
    project, _ = require(db, actor, project_id, "view")
    asset = db.get(Asset, asset_id)
    if asset is None or asset.project_id != project.id:
        raise NotFound(f"Project '{project_id}' has no asset '{asset_id}'.",
                       hint=f"GET /api/v1/projects/{project_id}/assets lists its assets.")
    return project, asset


def read_meta(settings: Settings, project: Project, asset_id: str) -> dict[str, Any]:
    meta: dict[str, Any] = read_json(asset_file(settings, project, asset_id))
    return meta


def list_assets(db: Session, actor: User, project_id: str, *, q: str | None, category: str | None,
                tag: str | None, trashed: bool, limit: int, cursor: str | None) -> tuple[list[Asset], str | None]:
    project, _ = require(db, actor, project_id, "view")
    query = select(Asset).where(Asset.project_id == project.id)
    query = query.where(col(Asset.trashed_at).is_not(None) if trashed else col(Asset.trashed_at).is_(None))
    if category:
        query = query.where(Asset.category == category)
    if tag:
        query = query.where(col(Asset.tags).like(f"%{tag.lower()}%"))
    for word in (q or "").split()[:8]:
        like = f"%{word.replace('%', '').replace('_', '')}%"
        query = query.where(or_(col(Asset.name).like(like), col(Asset.tags).like(like)))
    offset = int(cursor) if cursor and cursor.isdigit() else 0
    rows = list(db.exec(query.order_by(col(Asset.created_at).desc(), col(Asset.id)).offset(offset)
                        .limit(limit + 1)).all())
    return rows[:limit], (str(offset + limit) if len(rows) > limit else None)


def update_asset(db: Session, settings: Settings, actor: User, project_id: str, asset_id: str,
                 changes: dict[str, Any]) -> Asset:
    project, _ = require(db, actor, project_id, "edit")
    _, asset = get_asset(db, actor, project_id, asset_id)
    meta = read_meta(settings, project, asset_id)
    said = []
    if changes.get("name") is not None:
        meta["name"] = clean_filename(changes["name"], meta["name"])
        said.append(f"Renamed asset '{asset.name}' to '{meta['name']}'")
    if changes.get("tags") is not None:
        meta["tags"] = clean_tags(changes["tags"])
        said.append(f"Tagged asset '{meta['name']}'")
    if changes.get("category") is not None:
        if changes["category"] not in CATEGORIES:
            raise BadRequest(f"Unknown category '{changes['category']}'.", field="category")
        meta["category"] = changes["category"]
        said.append(f"Moved asset '{meta['name']}' to {meta['category']}")
    if "trashed" in changes and changes["trashed"] is not None:
        meta["trashed_at"] = utcnow().isoformat() if changes["trashed"] else None
        said.append(f"{'Deleted' if changes['trashed'] else 'Restored'} asset '{meta['name']}'")
    if said:
        write_json(asset_file(settings, project, asset_id), meta)
        asset = _index(db, project, meta)
        commit(db, settings, project, actor, "; ".join(said))
        emit(db, "asset.updated", project.workspace_id, project_id=project.id, asset_id=asset.id, by=actor.id)
    return asset


def index_folder_assets(db: Session, project: Project, folder: Path) -> int:
    """(Re)index every assets/<id>.json of a project folder; drop index rows whose file is gone."""
    seen = set()
    for path in (folder / "assets").glob("*.json"):
        try:
            meta = read_json(path)
            _index(db, project, meta)
            seen.add(meta["id"])
        except (ValueError, KeyError):
            continue  # not an asset file of ours
    for asset in db.exec(select(Asset).where(Asset.project_id == project.id)).all():
        if asset.id not in seen:
            db.delete(asset)
    return len(seen)
