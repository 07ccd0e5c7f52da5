"""Leftovers: what failed requests and crashes leave on disk, removed on failure and swept at start.

On failure: an upload removes the blobs it created that no asset names (media/controller.py). At start
(before serving, once interrupted tasks are settled) and hourly after that, `sweep_leftovers` removes:
partial uploads in blobs/incoming, stale files and folders in tmp/ (exports, unpacked imports, uploaded
imports no waiting task needs), half-written previews, and the folders of tasks that failed, were
cancelled or are gone. What a `mediastudio worker` sharing the data folder may be writing (blobs, previews,
an import it unpacks) is left alone until it is `Ages.shared` old; what only this process writes (export
zips, uploaded imports) until `Ages.own`: at start nothing of this process is in flight. Uploads this
process has open are always spared.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from mediastudio.db import Database
from mediastudio.projects.tables import Asset
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore

log = logging.getLogger("mediastudio")

SWEEP_EVERY_S = 3600.0


@dataclass(frozen=True)
class Ages:
    """How old (seconds since the last change) a leftover must be before it is removed."""

    shared: float  # blobs/incoming, previews, unpacked imports: a worker process may be writing them
    own: float  # export zips, uploaded imports: only this process writes them


AT_START = Ages(shared=60.0, own=0.0)  # a worker writes a blob in well under a minute
HOURLY = Ages(shared=3600.0, own=3600.0)  # a slow upload, an export still being downloaded
KEEP_TASK_FOLDERS = ("queued", "running", "interrupted", "succeeded")  # succeeded: the result to download


@dataclass
class Swept:
    incoming: int = 0
    tmp: int = 0
    previews: int = 0
    tasks: int = 0

    @property
    def total(self) -> int:
        return self.incoming + self.tmp + self.previews + self.tasks


def discard_new_blobs(db: Database, blobs: BlobStore, created: Iterable[tuple[str, int]]) -> int:
    """After a failed request: remove the blobs it created (sha256, mtime) unless an asset names one, or
    someone stored the same bytes meanwhile. Blobs that were in the store before the request are never
    in `created`, so deduplicated uploads stay."""

    def in_use(sha: str) -> bool:
        with db.session() as session:
            return session.exec(select(Asset.id).where(col(Asset.sha256) == sha).limit(1)).first() is not None

    removed = 0
    for sha, mtime in created:
        try:
            removed += blobs.discard(sha, mtime, in_use)
        except OSError:  # best effort: the hourly garbage collection finds it later
            log.warning("Could not remove blob %s… of a failed upload", sha[:12], exc_info=True)
    return removed


def _age(path: Path, now: float) -> float:
    """Seconds since anything in `path` (a file, or a folder tree) last changed."""
    try:
        newest = path.lstat().st_mtime
        if path.is_dir() and not path.is_symlink():
            for inner in path.rglob("*"):
                newest = max(newest, inner.lstat().st_mtime)
        return now - newest
    except FileNotFoundError:
        return 0.0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _sweep(entries: Iterable[Path], min_age: float, now: float, spare: set[Path] | None = None) -> int:
    removed = 0
    for path in entries:
        if (spare and path in spare) or _age(path, now) < min_age:
            continue
        _remove(path)
        removed += 1
    return removed


def _task_statuses(db: Database, ids: list[str]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    from mediastudio.tasks.tables import Task

    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    with db.session() as session:
        for start in range(0, len(ids), 500):  # SQLite bounds the variables of one statement
            for task in session.exec(select(Task).where(col(Task.id).in_(ids[start:start + 500]))).all():
                found[task.id] = (task.status, task.kind, task.params or {})
    return found


def _pending_imports(db: Database) -> set[str]:
    from mediastudio.tasks.tables import Task

    with db.session() as session:
        rows = session.exec(select(Task.params).where(col(Task.kind) == "project.import", col(Task.status).in_(
            ("queued", "running", "interrupted")))).all()
    return {str(params.get("file")) for params in rows if isinstance(params, dict)}


def _sweep_tasks(settings: Settings, db: Database, now: float) -> int:
    """A task's folder outlives it only after a crash: a failed or cancelled task (or one whose row is gone)
    never runs again, so its folder goes at once."""
    folders = [p for p in (settings.data_dir / "tasks").glob("*") if p.is_dir()]
    statuses = _task_statuses(db, [p.name for p in folders])
    ended = [p for p in folders if statuses.get(p.name, ("gone",))[0] not in KEEP_TASK_FOLDERS]
    return _sweep(ended, 0.0, now)


def _sweep_tmp(settings: Settings, db: Database, ages: Ages, now: float) -> int:
    tmp = settings.data_dir / "tmp"
    waiting = _pending_imports(db)
    imports = [p for p in (tmp / "imports").glob("*") if p.name not in waiting]
    others = [p for p in tmp.glob("*") if p.name not in ("imports", "exports")]
    return _sweep(imports, ages.own, now) + _sweep(list((tmp / "exports").glob("*")), ages.own, now) + \
        _sweep(others, ages.shared, now)


def sweep_leftovers(settings: Settings, db: Database, blobs: BlobStore, ages: Ages) -> Swept:
    now = time.time()
    swept = Swept()
    swept.incoming = _sweep(list(blobs.incoming.glob("*")), ages.shared, now, spare=set(blobs.open_files))
    swept.tmp = _sweep_tmp(settings, db, ages, now)
    swept.previews = _sweep(list((settings.data_dir / "previews").rglob(".*.tmp")), ages.shared, now)
    swept.tasks = _sweep_tasks(settings, db, now)
    if swept.total:
        log.info("Removed leftovers: %d partial upload(s), %d temporary file(s), %d half-drawn preview(s), "
                 "%d folder(s) of ended tasks", swept.incoming, swept.tmp, swept.previews, swept.tasks)
    return swept


async def sweep_at_start(settings: Settings, db: Database, blobs: BlobStore) -> Swept:
    """Before serving: what a crash left behind (and, once, the quota ledger of an older data folder)."""
    from mediastudio.media.quota import backfill

    def run() -> Swept:
        with db.transaction() as session:
            if backfill(session):
                log.info("Counted the media users added before storage quotas existed")
        return sweep_leftovers(settings, db, blobs, AT_START)

    return await asyncio.to_thread(run)


async def leftover_sweeper(settings: Settings, db: Database, blobs: BlobStore) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        try:
            await asyncio.to_thread(sweep_leftovers, settings, db, blobs, HOURLY)
        except Exception:
            log.exception("Sweeping leftovers failed")
