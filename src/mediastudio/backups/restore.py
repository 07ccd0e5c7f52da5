"""Rebuilding a data folder from a snapshot (`mediastudio restore SRC TARGET`).

The folder is built beside the target (`.<name>.restoring-…`), so a restore that stops half way leaves the
target as it was; `put_in_place` then moves it in (a forced restore moves the old folder aside first, it is
never deleted). Every file is copied from the backup's store with its size bounded and its sha256 checked;
every path comes from the manifest through `manifest.inside` (after `check_paths`); histories come back
through `ProjectRepo.from_bundle`, which trusts nothing in a bundle. Last, each project commits what its
journal and its files hold beyond its history (`ProjectRepo.recover`), as a start after a crash would.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from mediastudio.backups.manifest import JOURNAL, BadBackup, Manifest, inside, own_file
from mediastudio.backups.objects import Objects
from mediastudio.projects.repo import PendingChange, ProjectRepo
from mediastudio.projects.unbundle import UnsafeHistory
from mediastudio.storage.blobs import BlobStore

ROOM_MARGIN_BYTES = 64 * 1024**2  # left free on the target's disk beyond what the snapshot holds
JOURNAL_MAX_BYTES = 64 * 1024**2


def is_empty(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()))


def check_target(target: Path, manifest: Manifest, *, force: bool) -> None:
    if not force and not is_empty(target):
        raise BadBackup(f"{target} is not empty. Restore into a new folder, or pass --force to move what is "
                        "there aside (to a '.before-restore-…' folder beside it) and restore in its place; "
                        "stop the studio on that folder first.")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise BadBackup(f"{target} is not a folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if manifest.total_bytes() + ROOM_MARGIN_BYTES > free:
        raise BadBackup(f"The snapshot holds {manifest.total_bytes() / 1e9:.1f} GB and {target.parent} has "
                        f"{free / 1e9:.1f} GB free. Free some room or restore onto another disk.")


def build(source: Path, manifest: Manifest, staging: Path) -> None:
    """Write the snapshot's data folder into `staging` (a new, empty folder of the caller's)."""
    objects = Objects(source)
    for project in manifest.projects:
        folder = inside(staging, project.path)
        bundle = inside(staging, f"tmp/restore-{project.bundle.sha256}.bundle")
        if not bundle.exists():
            objects.copy_out(project.bundle.sha256, project.bundle.size, bundle)
        try:
            ProjectRepo.from_bundle(bundle, folder)
        except UnsafeHistory as exc:
            raise BadBackup(f"The history of {project.path} cannot be restored: {exc}") from None
    shutil.rmtree(staging / "tmp", ignore_errors=True)
    _overlay_project_files(manifest, staging)
    for stored in [manifest.database, *manifest.files]:
        target = inside(staging, stored.path)
        objects.copy_out(stored.sha256, stored.size, target)
    check_database(staging / manifest.database.path)
    store = BlobStore(staging / "blobs")
    for blob in manifest.blobs:
        objects.copy_out(blob.sha256, blob.size, store.path(blob.sha256))
    for project in manifest.projects:
        folder = inside(staging, project.path)
        check_journal(folder / JOURNAL, project.path)
        try:
            ProjectRepo(folder).recover()
        except RuntimeError as exc:
            raise BadBackup(f"The pending changes of {project.path} cannot be committed: {exc}") from None


def check_database(path: Path) -> None:
    """The restored database is whole (SQLite's own check), before the studio or the index rebuild reads it."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            answer = connection.execute("PRAGMA quick_check").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        answer = None
    if answer != ("ok",):
        raise BadBackup("The snapshot's database is damaged (SQLite's check fails): restore another snapshot.")


def check_journal(journal: Path, where: str) -> None:
    """A restored pending journal names only files of the project's layout (its lines reach git)."""
    if not journal.is_file():
        return
    if journal.stat().st_size > JOURNAL_MAX_BYTES:
        raise BadBackup(f"The pending journal of {where} is over {JOURNAL_MAX_BYTES} bytes.")
    for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
        change = PendingChange.parse(line)
        if change is not None and not all(own_file(tuple(p.split("/"))) for p in change.paths):
            raise BadBackup(f"The pending journal of {where} names a file that is not one of a project.")


def _overlay_project_files(manifest: Manifest, staging: Path) -> None:
    """Make each project's scenes and assets the files the snapshot saw on disk: the checked-out history's are
    removed first where the snapshot has the project's files (a scene deleted after the last commit stays
    deleted); the files themselves are written with the others."""
    saved = {f.path for f in manifest.files}
    for project in manifest.projects:
        if f"{project.path}/project.json" not in saved:
            continue  # an older kind of snapshot, or none seen: the history's files stand
        folder = inside(staging, project.path)
        for path in [folder / "project.json", *(folder / "scenes").glob("*.json"), *(folder / "assets").glob("*.json")]:
            path.unlink(missing_ok=True)


def staging_for(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.restoring-"))


def put_in_place(staging: Path, target: Path) -> Path | None:
    """Move the built folder to `target`; what was there (a forced restore) is moved aside, never deleted.
    Returns where the old folder went, if anywhere."""
    aside = None
    if target.exists():
        if is_empty(target):
            target.rmdir()
        else:
            aside = target.with_name(f"{target.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
            os.replace(target, aside)
    os.replace(staging, target)
    return aside
