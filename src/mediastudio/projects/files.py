"""Atomic, canonical JSON files: a crash never leaves half a file behind."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any
from weakref import WeakValueDictionary

import msgspec


def canonical_json(value: Any) -> str:
    """Sorted keys, two-space indent, trailing newline: stable text that diffs well in git.

    The text of `json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`, made faster: with an indent,
    the standard library encodes in Python (a run's asset file, its graph inside, ~0.14 ms on a small CPU); here
    its C encoder writes compact text and msgspec indents it, which leaves numbers and strings as written (the
    same bytes: tests/unit/test_canonical_json.py). What the fast path refuses (NaN, a lone surrogate) is written
    as the standard library writes it."""
    try:
        compact = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return msgspec.json.format(compact.encode(), indent=2).decode() + "\n"
    except (ValueError, UnicodeEncodeError, msgspec.DecodeError):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def fsync_folder(folder: Path) -> None:
    """Make the names in `folder` durable (a rename into it survives a power cut)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SyncGroup:
    """The fsyncs of one file or folder asked by many threads at once, made as few calls.

    A writer takes a `ticket` once its change is made (bytes written, a name renamed: in the page cache), and
    `sync(ticket)` before it answers. An fsync that starts after a ticket was taken makes that change durable
    with all the others made before it started, so a writer whose ticket an fsync started after has covered
    returns without a call of its own; one fsync runs at a time, and the writers that arrive while it runs are
    covered by the next, one call for all of them. At 100 writers of one project, most of them found their
    change already made durable: the disk's journal flushed once for a batch, not once per writer."""

    def __init__(self, fsync: Callable[[], None]) -> None:
        self._fsync = fsync
        self._counting = threading.Lock()
        self._syncing = threading.Lock()
        self._asked = 0  # tickets given
        self._done = 0  # every ticket up to this one is durable

    def ticket(self) -> int:
        with self._counting:
            self._asked += 1
            return self._asked

    def sync(self, ticket: int) -> None:
        if ticket <= self._done:
            return
        with self._syncing:
            if ticket <= self._done:  # the fsync this writer waited for covered it
                return
            with self._counting:
                covers = self._asked  # all of these were made before the call below starts
            self._fsync()
            self._done = max(self._done, covers)


_groups: WeakValueDictionary[str, SyncGroup] = WeakValueDictionary()
_groups_guard = threading.Lock()


def sync_group(path: Path, fsync: Callable[[], None]) -> SyncGroup:
    """The `SyncGroup` of `path` (made with `fsync` the first time), one per path in this process while a
    writer holds it: take it before the ticket and keep it until `sync`."""
    with _groups_guard:
        group = _groups.get(str(path))
        if group is None:
            group = _groups[str(path)] = SyncGroup(fsync)
        return group


def folder_syncs(folder: Path) -> SyncGroup:
    """The `SyncGroup` of a folder's names (a file renamed into it is durable once it is synced)."""
    return sync_group(folder, partial(fsync_folder, folder))


def write_atomic(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """Write to a temporary file in the same folder, fsync it, rename it over `path`, fsync the folder.
    `sync_folder=False` leaves the last step to the caller (`fsync_folder(path.parent)`), who takes it before
    answering, after letting go of a lock: writers queued on that lock then need not wait for it."""
    fd, tmp = _written_aside(path, data)
    _put_in_place(fd, tmp, path, sync_folder)


def write_atomic_soon(path: Path, data: bytes) -> Future[None]:
    """`write_atomic` done on a helper thread while the caller goes on: a run's outcome writes its rows meanwhile,
    where it waited ~0.5 ms for the disk (and spent ~0.2 ms creating the temporary file, which the helper now
    does too: creating a file is a wait on the file system as well). The file is in place and durable once the
    future's `result()` returns, which raises what `write_atomic` would have (and then no file is left behind)."""
    return _sync_pool().submit(write_atomic, path, data)


def _written_aside(path: Path, data: bytes) -> tuple[int, str]:
    """`data` in a new temporary file beside `path`: its descriptor (open) and name."""
    fd, tmp = _new_aside(path)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, tmp


ASIDE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0))


def _new_aside(path: Path) -> tuple[int, str]:
    """A new file of our own beside `path` (its folder made if missing), named `.<name>.<random>.tmp`, open for
    writing: `tempfile.mkstemp`'s file, without its name generator and its checks (~0.2 ms of this CPU, on the
    way of every run's asset file)."""
    for _ in range(100):
        tmp = os.path.join(path.parent, f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, ASIDE_FLAGS, 0o600), tmp
        except FileExistsError:
            continue
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                return os.open(tmp, ASIDE_FLAGS, 0o600), tmp
            except FileExistsError:
                continue
    raise FileExistsError(f"No free name for a temporary file beside {path}.")


def _put_in_place(fd: int, tmp: str, path: Path, sync_folder: bool) -> None:
    """The temporary file fsynced, closed and renamed over `path` (removed if any of it fails), then the folder
    fsynced unless the caller does it."""
    try:
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_folder:
        fsync_folder(path.parent)


_syncer: ThreadPoolExecutor | None = None
_syncer_lock = threading.Lock()


def _sync_pool() -> ThreadPoolExecutor:
    global _syncer
    with _syncer_lock:
        if _syncer is None:
            _syncer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mediastudio-fsync")
        return _syncer


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
