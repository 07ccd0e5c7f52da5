"""A snapshot's manifest (`<dest>/snapshots/<name>/manifest.json`) and the rules a restore holds it to.

A backup folder is data that may come from elsewhere: every path it names is checked here before anything is
written (relative, plain names, never into a repository's `.git` but for the pending journal, never out of the
folder being restored), every size is bounded, every hash is 64 hex digits, and a snapshot's name is one a
backup writes. Nothing named by a manifest reaches git but a bundle file of the store (by its hash) and a
project folder whose path has the one shape a project folder has.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediastudio.projects.unbundle import ENTRY_NAME

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_MAX_BYTES = 256 * 1024**2  # ~2 million blobs; a bigger manifest.json is refused unread
ENTRIES_MAX = 5_000_000
FILE_MAX_BYTES = 1024**4  # one file of a snapshot (a model's weights, the database): 1 TiB at most
SNAPSHOT_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}Z(?:-[0-9]{1,3})?$")
SHA256 = r"^[0-9a-f]{64}$"
PROJECT_PATH = re.compile(r"^workspaces/[A-Za-z0-9_-]{1,64}/(?:projects|trash)/[A-Za-z0-9_-]{1,64}$")
PART = re.compile(r"^[^\x00-\x1f\x7f/\\]{1,255}$")
JOURNAL = ".git/mediastudio-pending.jsonl"
COLLAB_LOG = ".mediastudio/collab.sqlite"
OWN_ROOTS = {"blobs", "workspaces"}  # restored from their own sections, never as plain files

Sha = Annotated[str, Field(pattern=SHA256)]
Size = Annotated[int, Field(ge=0, le=FILE_MAX_BYTES)]


class BadBackup(Exception):
    """The backup cannot be restored; the message says why, in words a person can act on."""


class Stored(BaseModel):
    """One file of the snapshot: where it goes (relative to the data folder), its bytes' sha256 and size."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: Annotated[str, Field(max_length=1024)]
    sha256: Sha
    size: Size


class Blob(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sha256: Sha
    size: Size


class ProjectEntry(BaseModel):
    """A project folder: its history as one bundle (`git bundle create --all`) and the heads it holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: Annotated[str, Field(pattern=PROJECT_PATH.pattern)]
    bundle: Blob
    heads: Annotated[list[Annotated[str, Field(max_length=300)]], Field(max_length=10_000)]


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal[1] = 1
    name: Annotated[str, Field(pattern=SNAPSHOT_NAME.pattern)]
    created_at: datetime
    version: Annotated[str, Field(max_length=64)]
    models: bool
    database: Stored
    projects: Annotated[list[ProjectEntry], Field(max_length=ENTRIES_MAX)]
    files: Annotated[list[Stored], Field(max_length=ENTRIES_MAX)]
    blobs: Annotated[list[Blob], Field(max_length=ENTRIES_MAX)]

    def total_bytes(self) -> int:
        return (self.database.size + sum(p.bundle.size for p in self.projects) + sum(f.size for f in self.files)
                + sum(b.size for b in self.blobs))


def snapshot_names(dest: Path) -> list[str]:
    """The snapshots of a backup folder, oldest first (names are UTC times)."""
    folder = dest / "snapshots"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if SNAPSHOT_NAME.match(p.name) and (p / MANIFEST).is_file())


def read_manifest(dest: Path, name: str | None = None) -> Manifest:
    """The named snapshot's manifest (the latest without a name), checked: `BadBackup` otherwise."""
    names = snapshot_names(dest)
    if name is None:
        if not names:
            raise BadBackup(f"{dest} holds no snapshot (no snapshots/<name>/manifest.json).")
        name = names[-1]
    elif not SNAPSHOT_NAME.match(name) or name not in names:
        raise BadBackup(f"{dest} holds no snapshot named '{name[:40]}'. Its snapshots: {', '.join(names) or 'none'}.")
    path = dest / "snapshots" / name / MANIFEST
    if path.is_symlink() or path.stat().st_size > MANIFEST_MAX_BYTES:
        raise BadBackup(f"The manifest of snapshot {name} is not a plain file under {MANIFEST_MAX_BYTES} bytes.")
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadBackup(f"The manifest of snapshot {name} is not valid: "
                        f"{'.'.join(map(str, first['loc']))[:80]}: {first['msg']}") from None
    if manifest.name != name:
        raise BadBackup(f"The manifest of snapshot {name} names another snapshot.")
    check_paths(manifest)
    return manifest


def _parts(path: str) -> tuple[str, ...]:
    """The names of a relative path, or BadBackup: no absolute path, no `.`/`..`, no empty or control names."""
    pure = PurePosixPath(path)
    parts = tuple(path.split("/"))
    if pure.is_absolute() or not path or any(p in ("", ".", "..") or not PART.match(p) for p in parts):
        raise BadBackup(f"The manifest names a path that is not a plain relative path: {path[:120]!r}.")
    return parts


def own_file(rest: tuple[str, ...]) -> bool:
    """Whether a path inside a project folder is one of the project's own files (project.json, a scene, an
    asset), as git tracks them."""
    if rest == ("project.json",):
        return True
    return len(rest) == 2 and rest[0] in ("scenes", "assets") and bool(ENTRY_NAME.match(rest[1].encode()))


def project_file(rest: tuple[str, ...]) -> bool:
    """Whether a file of a project folder is one a backup writes there: the project's own files, its journal and
    its live documents' log."""
    return "/".join(rest) in (JOURNAL, COLLAB_LOG) or own_file(rest)


def check_paths(manifest: Manifest) -> None:
    """Every path the manifest names stays inside the data folder and has the shape its section allows."""
    projects = {tuple(p.path.split("/")) for p in manifest.projects}
    if len(projects) != len(manifest.projects):
        raise BadBackup("The manifest names a project folder twice.")
    if manifest.database.path != "mediastudio.sqlite":
        raise BadBackup("The manifest's database is not mediastudio.sqlite.")
    seen: set[str] = set()
    for stored in manifest.files:
        parts = _parts(stored.path)
        if stored.path in seen:
            raise BadBackup(f"The manifest names {stored.path[:120]!r} twice.")
        seen.add(stored.path)
        if parts[0] == "workspaces":
            if parts[:4] not in projects or not project_file(parts[4:]):
                raise BadBackup(f"The manifest names {stored.path[:120]!r}, which is not a file of a project "
                                "it holds.")
        elif parts[0] in OWN_ROOTS or stored.path == "mediastudio.sqlite" \
                or any(p.lower() == ".git" for p in parts):
            raise BadBackup(f"The manifest names {stored.path[:120]!r}, which a snapshot never holds as a file.")


def inside(root: Path, relative: str) -> Path:
    """`root/relative`, checked (after `_parts`) to resolve inside `root`, following no link that leads out."""
    target = root.joinpath(*_parts(relative))
    resolved_root = root.resolve()
    if not target.resolve().is_relative_to(resolved_root):
        raise BadBackup(f"The manifest names {relative[:120]!r}, which leads out of the restored folder.")
    return target
