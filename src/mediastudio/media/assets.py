"""Assets of a project: metadata in assets/<id>.json (versioned with the project), bytes in the blob store."""

from __future__ import annotations

import re
import unicodedata
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, or_, select

from mediastudio.auth.tables import User
from mediastudio.common import new_id, utcnow
from mediastudio.db import fresh, insert_new
from mediastudio.errors import BadRequest, Conflict, MediastudioError, NotFound
from mediastudio.events.emit import emit
from mediastudio.media.events import AssetCreated, AssetUpdated
from mediastudio.media.probe import Probe
from mediastudio.paging import offset_of
from mediastudio.projects import content
from mediastudio.projects.access import ProjectRow, project_folder, require, require_row
from mediastudio.projects.files import canonical_json, read_json, write_atomic_soon, write_json
from mediastudio.projects.service import clean_tags, commit, record, save
from mediastudio.projects.tables import Asset, Project
from mediastudio.settings import Settings
from mediastudio.storage.blobs import SHA256, BlobStore
from mediastudio.storage.sniff import HEAD_BYTES, Sniffed, sniff

CATEGORIES = ("image", "video", "audio", "model", "reference", "generated")
NAME_MAX = 200


def clean_filename(raw: str | None, fallback: str) -> str:
    """A display name from an uploaded file name: no folders, no control characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:NAME_MAX] or fallback


def asset_file(settings: Settings, project: Project | ProjectRow, asset_id: str) -> Path:
    """The asset's metadata file; the one way to it (the id is checked, the path stays in the project)."""
    return content.asset_path(project_folder(settings, project), asset_id)


def _index(db: Session, project: Project, meta: dict[str, Any]) -> Asset:
    """Copy checked metadata into the index row. A row is only ever this project's: an id another
    project holds is refused (Conflict), never rewritten."""
    asset = db.get(Asset, meta["id"])
    if asset is not None and asset.project_id != project.id:
        raise Conflict(f"The asset id '{meta['id']}' belongs to another project.")
    asset = _copied(asset, project, meta)
    db.add(asset)
    return asset


def _copied(asset: Asset | None, project: Project, meta: dict[str, Any]) -> Asset:
    """`asset` (a new row when None) with the metadata's values."""
    if asset is None:  # a new object, for the session to insert
        return Asset(id=meta["id"], project_id=project.id, **_values(meta))
    for key, value in _values(meta).items():
        setattr(asset, key, value)
    return asset


def _values(meta: dict[str, Any]) -> dict[str, Any]:
    """The columns an asset's row copies from its metadata."""
    trashed = meta.get("trashed_at")
    return {**{key: meta.get(key) for key in ("name", "category", "mime", "size", "sha256", "width", "height",
                                              "duration", "created_by")},
            "tags": " ".join(meta.get("tags") or []),
            "trashed_at": datetime.fromisoformat(trashed) if isinstance(trashed, str) else trashed}


def _new_row(project: Project | ProjectRow, meta: dict[str, Any]) -> Asset:
    """A new asset's row with the metadata's values, for `insert_new` (it is no session's), made by `fresh`:
    constructing one and setting its columns spent ~0.15 ms an asset, on every run's path."""
    return fresh(Asset, {"id": meta["id"], "project_id": project.id, **_values(meta)})


@dataclass
class NewAssets:
    """Assets checked (rights, category, quota) and given ids, not written yet: their files first
    (`write_files`, durable), then their rows and events in the caller's transaction (`record`)."""

    settings: Settings
    actor: User
    project: ProjectRow
    metas: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        return [meta["id"] for meta in self.metas]

    def write_files_soon(self, writing: list[Future[None]]) -> None:
        """`write_files` with the waits on the disk on a helper thread (`write_atomic_soon`): each file's future
        joins `writing` as soon as its bytes are written; the files are durable once every one has settled."""
        for meta in self.metas:
            writing.append(write_atomic_soon(asset_file(self.settings, self.project, meta["id"]),
                                             canonical_json(meta).encode()))

    def write_files(self) -> list[Path]:
        written = []
        for meta in self.metas:
            written.append(asset_file(self.settings, self.project, meta["id"]))
            write_json(written[-1], meta)
        return written

    def record(self, db: Session) -> list[Asset]:
        from mediastudio.media.quota import record_charge

        record_charge(db, self.actor, [(meta["sha256"], meta["size"]) for meta in self.metas])
        made = [_new_row(self.project, meta) for meta in self.metas]
        insert_new(db, made)  # ids made by prepare_assets: no row holds them
        return made

    def announce(self, db: Session, made: list[Asset]) -> None:
        for asset in made:
            emit(db, AssetCreated(workspace_id=self.project.workspace_id, project_id=self.project.id,
                                  asset_id=asset.id, by=self.actor.id))


def prepare_assets(db: Session, settings: Settings, actor: User, project_id: str,
                   files: list[tuple[str, str, Sniffed, Probe, int]], *, category: str | None = None,
                   tags: list[str] | None = None, provenance: dict[str, Any] | None = None,
                   ids: list[str] | None = None) -> NewAssets:
    """Check that `actor` may add these (name, sha256, sniffed type, probe, size) blobs as assets of the project
    (refused before anything is written) and describe them; nothing is written. `ids`: theirs, given before (one
    per file, new ones), else made here."""
    project, _ = require_row(db, actor, project_id, "edit")  # a plain row: loading the ORM object was most of it
    if category is not None and category not in CATEGORIES:
        raise BadRequest(f"Unknown category '{category[:40]}'.", hint=f"Use one of: {', '.join(CATEGORIES)}.",
                         field="category")
    from mediastudio.media.quota import charge

    charge(db, settings, actor, [(sha, size) for _, sha, _, _, size in files], record=False)
    given = ids if ids is not None else [new_id("as") for _ in files]
    metas = [{"id": asset_id, "name": name, "category": category or sniffed.category, "mime": sniffed.mime,
              "size": size, "sha256": sha, "width": probed.width, "height": probed.height,
              "duration": probed.duration, "tags": clean_tags(tags or []), "created_by": actor.id,
              "created_at": utcnow().isoformat(), "provenance": provenance, "trashed_at": None,
              **({"fps": probed.fps} if probed.fps else {})}  # a clip's frame rate (Compare steps by its frames)
             for asset_id, (name, sha, sniffed, probed, size) in zip(given, files, strict=True)]
    return NewAssets(settings, actor, project, metas)


def add_assets(db: Session, settings: Settings, actor: User, project_id: str,
               files: list[tuple[str, str, Sniffed, Probe, int]], *, category: str | None = None,
               tags: list[str] | None = None, provenance: dict[str, Any] | None = None,
               message: str | None = None) -> list[Asset]:
    """Record uploaded blobs as assets: (name, sha256, sniffed type, probe, size) each; one commit.

    `provenance` (generated assets): the graph snapshot, node, parameters, seed, model and task that made them.
    """
    new = prepare_assets(db, settings, actor, project_id, files, category=category, tags=tags,
                         provenance=provenance)
    # The files first, then the rows: the database's write lock (one for every project) is taken by the first
    # row written and held until the transaction ends, so it is not held while files are written and fsynced.
    written = new.write_files()
    label = f"'{files[0][0]}'" if len(files) == 1 else f"{len(files)} assets"
    saved = save(settings, new.project, actor, message or f"Uploaded {label}", kind="upload", deferred=written)
    made = new.record(db)
    record(db, settings, new.project, actor, saved, refresh="none")  # the project's row holds nothing of assets
    new.announce(db, made)
    return made


def get_asset(db: Session, actor: User, project_id: str, asset_id: str) -> tuple[Project, Asset]:
    project, _ = require(db, actor, project_id, "view")
    asset = db.get(Asset, asset_id)
    if asset is None or asset.project_id != project.id:
        raise NotFound(f"Project '{project_id}' has no asset '{asset_id}'.",
                       hint=f"GET /api/v1/projects/{project_id}/assets lists its assets.")
    return project, asset


def clip_fps(meta: dict[str, Any]) -> float | None:
    """A clip's frame rate: its asset file's `fps` (read from the stream when it was added), else the one its run
    recorded (`provenance.clip.fps`: clips made before the first was kept). Read as untrusted: a sensible number
    or None (a picture, or a clip whose file says none)."""
    provenance = meta.get("provenance")
    clip = provenance.get("clip") if isinstance(provenance, dict) else None
    for said in (meta.get("fps"), clip.get("fps") if isinstance(clip, dict) else None):
        if isinstance(said, (int, float)) and not isinstance(said, bool) and 1 <= said <= 1000:
            return round(float(said), 3)
    return None


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
    offset = offset_of(cursor)
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
            raise BadRequest(f"Unknown category '{str(changes['category'])[:40]}'.", field="category",
                             hint=f"Use one of: {', '.join(CATEGORIES)}.")
        meta["category"] = changes["category"]
        said.append(f"Moved asset '{meta['name']}' to {meta['category']}")
    if "trashed" in changes and changes["trashed"] is not None:
        meta["trashed_at"] = utcnow().isoformat() if changes["trashed"] else None
        said.append(f"{'Deleted' if changes['trashed'] else 'Restored'} asset '{meta['name']}'")
    if said:
        write_json(asset_file(settings, project, asset_id), meta)
        asset = _index(db, project, meta)
        commit(db, settings, project, actor, "; ".join(said), kind="asset",
               deferred=[asset_file(settings, project, asset_id)], refresh="none")
        emit(db, AssetUpdated(workspace_id=project.workspace_id, project_id=project.id, asset_id=asset.id,
                              by=actor.id))
    return asset


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _when(value: Any) -> str | None:
    try:
        return datetime.fromisoformat(value).isoformat() if isinstance(value, str) else None
    except ValueError:
        return None


def _checked_meta(path: Path, blobs: BlobStore | None) -> dict[str, Any] | None:
    """An asset file's metadata as the index may trust it, or None when it is not an asset file of ours.
    The id is the file's name; the MIME type comes from the stored bytes (sniffed like an upload), never
    from the file, so imported metadata cannot choose how the studio serves a blob."""
    meta = read_json(path)
    sha = meta.get("sha256") if isinstance(meta, dict) else None
    if not isinstance(sha, str) or not SHA256.match(sha):
        return None
    blob = blobs.path(sha) if blobs is not None else None
    sniffed: Sniffed | None = None
    size: float = _number(meta.get("size")) or 0  # no store given, blob missing, or not media
    if blob is not None:
        try:
            with blob.open("rb") as handle:
                sniffed = sniff(handle.read(HEAD_BYTES))
            size = blob.stat().st_size
        except (OSError, MediastudioError):
            sniffed, size = None, _number(meta.get("size")) or 0
    category = meta.get("category")
    tags = meta.get("tags") if isinstance(meta.get("tags"), list) else []
    return {"id": path.stem, "sha256": sha, "size": int(size),
            "mime": sniffed.mime if sniffed else "application/octet-stream",
            "category": category if category in CATEGORIES else (sniffed.category if sniffed else "reference"),
            "name": clean_filename(meta.get("name") if isinstance(meta.get("name"), str) else None, path.stem),
            "width": _number(meta.get("width")), "height": _number(meta.get("height")),
            "duration": _number(meta.get("duration")), "tags": [t for t in tags if isinstance(t, str)][:20],
            "created_by": meta.get("created_by") if isinstance(meta.get("created_by"), str) else "",
            "trashed_at": _when(meta.get("trashed_at"))}


def index_folder_assets(db: Session, project: Project, folder: Path, blobs: BlobStore | None = None) -> int:
    """(Re)index every assets/<id>.json of a project folder; drop index rows whose file is gone.
    Files that are not asset files of ours, or whose id another project holds, are skipped."""
    seen = set()
    for path in sorted((folder / "assets").glob("*.json")):
        if not content.is_id(path.stem) or path.is_symlink() or not path.is_file():
            continue
        try:
            meta = _checked_meta(content.asset_path(folder, path.stem), blobs)
            if meta is not None:
                _index(db, project, meta)
                seen.add(meta["id"])
        except (ValueError, RecursionError, OSError, MediastudioError):
            continue  # not an asset file of ours, or not this project's id
    for asset in db.exec(select(Asset).where(Asset.project_id == project.id)).all():
        if asset.id not in seen:
            db.delete(asset)
    return len(seen)
