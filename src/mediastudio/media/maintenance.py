"""Blob store upkeep: verify every hash, and collect blobs no commit of any project references."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from mediastudio.media.previews import preview_path
from mediastudio.projects.bundle import referenced_blobs
from mediastudio.projects.repo import ProjectRepo
from mediastudio.storage.blobs import BlobStore

# A blob younger than this may belong to an upload whose asset is not committed yet.
GRACE_SECONDS = 3600


@dataclass
class Collected:
    referenced: int = 0
    removed: list[str] = field(default_factory=list)
    kept_young: int = 0


def referenced_everywhere(data_dir: Path) -> set[str]:
    """sha256 named by any version of any asset file in any project, the trash included."""
    shas: set[str] = set()
    for git_dir in (data_dir / "workspaces").glob("*/*/*/.git"):
        shas |= referenced_blobs(ProjectRepo(git_dir.parent))
    return shas


def collect_garbage(data_dir: Path, blobs: BlobStore, *, dry_run: bool = False,
                    grace_seconds: float = GRACE_SECONDS) -> Collected:
    referenced = referenced_everywhere(data_dir)
    result = Collected(referenced=len(referenced))
    now = time.time()
    for sha in list(blobs.all_hashes()):
        if sha in referenced:
            continue
        if now - blobs.path(sha).stat().st_mtime < grace_seconds:
            result.kept_young += 1
            continue
        result.removed.append(sha)
        if not dry_run:
            blobs.remove(sha)
            for size in (256, 1024):
                preview_path(data_dir, sha, size).unlink(missing_ok=True)
    return result


def verify_all(blobs: BlobStore) -> tuple[int, list[str]]:
    """(blobs checked, hashes whose bytes no longer match)."""
    checked, damaged = 0, []
    for sha in blobs.all_hashes():
        checked += 1
        if not blobs.verify(sha):
            damaged.append(sha)
    return checked, damaged
