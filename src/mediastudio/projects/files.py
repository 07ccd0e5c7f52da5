"""Atomic, canonical JSON files: a crash never leaves half a file behind."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def canonical_json(value: Any) -> str:
    """Sorted keys, two-space indent, trailing newline: stable text that diffs well in git."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def fsync_folder(folder: Path) -> None:
    """Make the names in `folder` durable (a rename into it survives a power cut)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """Write to a temporary file in the same folder, fsync it, rename it over `path`, fsync the folder.
    `sync_folder=False` leaves the last step to the caller (`fsync_folder(path.parent)`), who takes it before
    answering, after letting go of a lock: writers queued on that lock then need not wait for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_folder:
        fsync_folder(path.parent)


def write_json(path: Path, value: Any, *, sync_folder: bool = True) -> None:
    write_atomic(path, canonical_json(value).encode(), sync_folder=sync_folder)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def remove_stale_temp_files(root: Path) -> int:
    """Temporary files left by a crash mid-write (never renamed into place)."""
    removed = 0
    for tmp in root.rglob(".*.tmp"):
        if ".git" not in tmp.parts:
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def graph_hash(graph: dict[str, Any]) -> str:
    """A scene graph's fingerprint: equal for equal graphs, whatever the order of their keys."""
    return hashlib.sha256(json.dumps(graph, sort_keys=True).encode()).hexdigest()
