"""Copying a sample: its bundle is imported like a .msproj (portability/service.py: the same checks, a new
project with the sample's scenes, media and history, charged to the person's storage quota)."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from sqlmodel import Session

from mediastudio.auth.tables import User
from mediastudio.db import Database
from mediastudio.errors import MediastudioError
from mediastudio.portability.service import import_from
from mediastudio.projects import content
from mediastudio.projects.files import read_json, write_json
from mediastudio.projects.tables import Project
from mediastudio.samples.catalog import all_samples, get_sample
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore

log = logging.getLogger("mediastudio")


def copy_sample(db: Session, settings: Settings, blobs: BlobStore, user: User, sample_id: str,
                workspace_id: str | None = None) -> Project:
    """A new project in `workspace_id` (default: the person's own) that is a copy of the sample."""
    sample = get_sample(sample_id)
    return import_from(db, settings, blobs, user, sample.bundle, workspace_id, adjust=partial(_make_own, user.id),
                       summary=f"Copied from the sample “{sample.name}”")


def _make_own(user_id: str, folder: Path) -> None:
    """The copy's project and assets are the person's own (the sample's maker is no account of this studio);
    who made each version stays in the history."""
    for path in [content.meta_path(folder), *sorted((folder / "assets").glob("*.json"))]:
        value = read_json(path)
        if isinstance(value, dict) and "created_by" in value:
            value["created_by"] = user_id
            write_json(content.inside(folder, *path.relative_to(folder).parts), value)


def _copy_for(database: Database, settings: Settings, blobs: BlobStore, user_id: str, sample_id: str) -> bool:
    try:
        with database.transaction() as db:
            user = db.get(User, user_id)
            if user is None:
                return False
            copy_sample(db, settings, blobs, user, sample_id)
        return True
    except MediastudioError as refused:  # the guest's quota, say: said plainly, no trace
        log.warning("The sample %s was not copied into a guest's sandbox: %s", sample_id, refused.detail)
    except Exception:
        log.exception("Copying the sample %s into a guest's sandbox failed", sample_id)
    return False


def copy_all_for_guest(database: Database, settings: Settings, blobs: BlobStore, user_id: str) -> int:
    """Put a copy of every sample in a new guest's sandbox (settings.guest_samples), side by side: most of a
    copy is git reading the bundle, in processes of its own, and only its last rows wait for the database's
    write lock. A sample that cannot be copied (a full disk, say) is logged and skipped: the guest is created
    anyway and can still open a copy from the gallery."""
    samples = all_samples()
    if not settings.guest_samples or not samples:
        return 0
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(samples), thread_name_prefix="guest-samples") as pool:
        copied = sum(pool.map(lambda sample: _copy_for(database, settings, blobs, user_id, sample.id), samples))
    log.info("Copied %d sample(s) into a guest's sandbox in %.2f s", copied, time.perf_counter() - started)
    return copied
