"""Taking a snapshot of a data folder while the studio runs (`mediastudio backup DEST`).

The backup writes nothing into the data folder: it reads, in an order that makes every reference in the
snapshot point at something the snapshot holds.

1. The database, through SQLite's online backup API: one consistent picture of every row.
2. Each project folder (and each trashed one): its history as `git bundle create --all`, read as it is (nothing
   pending is committed: the backup never competes with the studio for git's index); then the live documents'
   update log (`.mediastudio/collab.sqlite`, by the online backup API too), the pending journal and the
   project's files as they are on disk. Each of these is as new as the bundle or newer, and the studio writes a
   file before the journal line or the commit that names it, so a restore that commits what the journal and
   the files hold beyond the bundle (`ProjectRepo.recover`, the path a start after a crash takes) brings
   every answered change into the history.
3. The other files the studio needs (previews, LoRAs, TLS, anything at the folder's top), and models with `--models`.
4. Blobs last: the studio stores a blob before any file or row names it, so every blob named by what was
   copied before is there by now. Only blobs the backup folder lacks are copied.

The database is older than the folders: a project made meanwhile has a folder and no row, and a restore
re-indexes the projects from their folders (the folders are the truth for projects and assets).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mediastudio import __version__
from mediastudio.backups.manifest import (
    COLLAB_LOG,
    JOURNAL,
    MANIFEST,
    SNAPSHOT_NAME,
    BadBackup,
    Blob,
    Manifest,
    ProjectEntry,
    Stored,
    read_manifest,
    snapshot_names,
)
from mediastudio.backups.objects import Objects
from mediastudio.projects.repo import ProjectRepo
from mediastudio.projects.unbundle import ENTRY_NAME
from mediastudio.storage.blobs import BlobStore

SKIPPED_ROOTS = {"blobs", "workspaces", "models", "tasks", "tmp"}  # own sections, or scratch a studio remakes
SKIPPED_TOP_FILES = {"mediastudio.sqlite", "queue.sqlite", "auth.changed", ".write-test", ".doctor-write-test"}


@dataclass
class Taken:
    """A snapshot written, and what it cost: bytes and files copied, bundles made or kept."""

    manifest: Manifest
    copied_bytes: int
    copied_files: int
    bundles_made: int
    bundles_kept: int
    damaged_blobs: list[str] = field(default_factory=list)


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API: one read transaction)."""
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()


def _stored(objects: Objects, source: Path, path: str) -> Stored:
    sha, size = objects.put(source)
    return Stored(path=path, sha256=sha, size=size)


def _sqlite_entry(objects: Objects, source: Path, path: str) -> Stored:
    scratch = objects.scratch()
    try:
        scratch.unlink()
        copy_sqlite(source, scratch)
        return _stored(objects, scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
        for extra in ("-wal", "-shm", "-journal"):
            Path(f"{scratch}{extra}").unlink(missing_ok=True)


def project_folders(data_dir: Path) -> list[Path]:
    """Every project folder, trashed ones too, that is a repository (no link is followed)."""
    return [folder for where in ("projects", "trash")
            for folder in sorted((data_dir / "workspaces").glob(f"*/{where}/*"))
            if not folder.is_symlink() and (folder / ".git").is_dir()]


def _project_files(folder: Path) -> Iterator[Path]:
    """The project's own files as they are on disk (each written atomically: a copy is never half a file)."""
    meta = folder / "project.json"
    if meta.is_file() and not meta.is_symlink():
        yield meta
    for sub in ("scenes", "assets"):
        for path in sorted((folder / sub).glob("*.json")):
            if path.is_file() and not path.is_symlink() and ENTRY_NAME.match(path.name.encode()):
                yield path


def _bundle(objects: Objects, repo: ProjectRepo, before: ProjectEntry | None) -> tuple[Blob, list[str], bool]:
    """The history's bundle: the previous snapshot's when the heads have not moved (True), else a new one."""
    heads = repo.refs()
    if before is not None and before.heads == heads and objects.has(before.bundle.sha256, before.bundle.size):
        return before.bundle, heads, True
    scratch = objects.scratch()
    try:
        scratch.unlink()
        repo.bundle_as_is(scratch)
        heads = bundle_heads(scratch)
        sha, size = objects.put(scratch)
        return Blob(sha256=sha, size=size), heads, False
    finally:
        scratch.unlink(missing_ok=True)


def bundle_heads(bundle: Path) -> list[str]:
    """The `<sha> <ref>` lines of a v2 bundle's header, sorted (as `ProjectRepo.refs` answers them)."""
    heads: list[str] = []
    with bundle.open("rb") as handle:
        handle.readline()
        while (line := handle.readline().strip()) and len(heads) < 10_000:
            if not line.startswith(b"-"):
                heads.append(line.decode("utf-8", "replace"))
    return sorted(heads)


def _project(objects: Objects, data_dir: Path, folder: Path, before: ProjectEntry | None,
             files: list[Stored]) -> tuple[ProjectEntry, bool] | None:
    relative = folder.relative_to(data_dir).as_posix()
    repo = ProjectRepo(folder)
    if not repo.refs():
        return None  # a folder being made (no first commit yet): the next snapshot has it
    bundle, heads, kept = _bundle(objects, repo, before)
    # After the bundle, each as new as it or newer (see the module).
    if (folder / COLLAB_LOG).is_file():
        files.append(_sqlite_entry(objects, folder / COLLAB_LOG, f"{relative}/{COLLAB_LOG}"))
    journal = folder / JOURNAL
    if journal.is_file() and not journal.is_symlink():
        # Committed and removed this instant: its changes are in the history, their files on disk.
        with contextlib.suppress(FileNotFoundError):
            files.append(_stored(objects, journal, f"{relative}/{JOURNAL}"))
    for path in _project_files(folder):
        with contextlib.suppress(FileNotFoundError):  # removed this instant (a scene deleted): the journal says so
            files.append(_stored(objects, path, path.relative_to(data_dir).as_posix()))
    return ProjectEntry(path=relative, bundle=bundle, heads=heads), kept


def _other_files(objects: Objects, data_dir: Path, models: bool) -> list[Stored]:
    """Everything else the studio keeps: top-level files (settings), previews, LoRAs, TLS…; models if asked."""
    found: list[Stored] = []
    for entry in sorted(data_dir.iterdir()):
        if entry.is_symlink() and entry.name != "models":
            continue
        if entry.is_file() and entry.name not in SKIPPED_TOP_FILES and not entry.name.endswith(
                ("-wal", "-shm", "-journal")):
            found.append(_stored(objects, entry, entry.name))
        elif entry.is_dir() and (entry.name not in SKIPPED_ROOTS or (models and entry.name == "models")):
            for root, dirs, names in os.walk(entry, followlinks=entry.name == "models"):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".partial-", ".git")))
                for name in sorted(names):
                    path = Path(root) / name
                    if name.endswith(".tmp") or (path.is_symlink() and entry.name != "models"):
                        continue
                    relative = (Path(entry.name) / path.relative_to(entry)).as_posix()
                    with contextlib.suppress(FileNotFoundError):  # removed this instant (a temporary file)
                        found.append(_stored(objects, path, relative))
    return found


def _blobs(objects: Objects, data_dir: Path) -> tuple[list[Blob], list[str]]:
    store = BlobStore(data_dir / "blobs")
    blobs: list[Blob] = []
    damaged: list[str] = []
    for sha in sorted(store.all_hashes()):
        try:
            sha, size = objects.put(store.path(sha), expected=sha)
        except FileNotFoundError:
            continue  # collected this instant (`mediastudio blobs gc`): nothing copied before names it
        except ValueError:
            damaged.append(sha)  # `mediastudio blobs verify` says the same; the backup carries no bad copy
            continue
        blobs.append(Blob(sha256=sha, size=size))
    return blobs, damaged


def _new_name(dest: Path, now: datetime) -> str:
    base = now.strftime("%Y%m%dT%H%M%SZ")
    taken = set(snapshot_names(dest)) | {p.name for p in (dest / "snapshots").glob("*")}
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _previous(dest: Path) -> dict[str, ProjectEntry]:
    """The latest snapshot's projects, to keep the bundles of histories that did not move."""
    try:
        return {p.path: p for p in read_manifest(dest).projects}
    except BadBackup:
        return {}


def take_backup(data_dir: Path, dest: Path, *, models: bool = False) -> Taken:
    """Write a snapshot of `data_dir` into `dest` (see the module); the studio may be running."""
    if not (data_dir / "mediastudio.sqlite").is_file():
        raise BadBackup(f"{data_dir} holds no studio (no mediastudio.sqlite).")
    if dest.resolve().is_relative_to(data_dir.resolve()):
        raise BadBackup("The backup folder is inside the data folder; choose a folder outside it "
                        "(best on another disk).")
    dest.mkdir(parents=True, exist_ok=True)
    with _only_backup(dest):
        return _take(data_dir, dest, models)


@contextlib.contextmanager
def _only_backup(dest: Path) -> Iterator[None]:
    """One backup at a time into a folder (a flock on `DEST/.lock`); what a stopped one left in `DEST/tmp` goes."""
    fd = os.open(dest / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BadBackup(f"Another backup is writing into {dest}; wait for it to end.") from None
        shutil.rmtree(dest / "tmp", ignore_errors=True)
        yield
    finally:
        os.close(fd)


def _take(data_dir: Path, dest: Path, models: bool) -> Taken:
    objects, previous, now = Objects(dest), _previous(dest), datetime.now(UTC)
    database = _sqlite_entry(objects, data_dir / "mediastudio.sqlite", "mediastudio.sqlite")
    files: list[Stored] = []
    projects: list[ProjectEntry] = []
    kept = 0
    for folder in project_folders(data_dir):
        relative = folder.relative_to(data_dir).as_posix()
        done = _project(objects, data_dir, folder, previous.get(relative), files)
        if done is not None:
            projects.append(done[0])
            kept += done[1]
    files += _other_files(objects, data_dir, models)
    blobs, damaged = _blobs(objects, data_dir)
    manifest = Manifest(name=_new_name(dest, now), created_at=now, version=__version__, models=models,
                        database=database, projects=projects, files=files, blobs=blobs)
    _write_manifest(dest, manifest)
    return Taken(manifest, objects.copied_bytes, objects.copied_files, len(projects) - kept, kept, damaged)


def _write_manifest(dest: Path, manifest: Manifest) -> None:
    assert SNAPSHOT_NAME.match(manifest.name)
    folder = dest / "snapshots" / manifest.name
    folder.mkdir(parents=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".manifest-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(manifest.model_dump_json(indent=1))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / MANIFEST)
