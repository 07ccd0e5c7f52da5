"""The write-ahead update log of a project's scene documents: <project>/.mediastudio/collab.sqlite.

Every update is appended, with who sent it and when, and committed before it is relayed to anyone.
Live updates (`log_soon`) go through the log's own writer thread, which commits whatever has queued up
meanwhile in one transaction (group commit): many scenes edited at once cost one commit and one thread
hand-over per batch, not per keystroke, and they never wait behind the file writes and fsyncs that the
shared worker threads do.
Compaction replaces a scene's updates by one snapshot in a single transaction. Rows that no longer
decode (a damaged file, or an update logged by an older server before it checked them) are moved to
the `quarantine` table on open, never deleted: the studio starts without them and a person can look.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT, scene_id TEXT NOT NULL, user_id TEXT NOT NULL,
    at REAL NOT NULL, data BLOB NOT NULL, changed INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS updates_scene ON updates (scene_id, id);
CREATE TABLE IF NOT EXISTS snapshots (
    scene_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL, upto INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT, scene_id TEXT NOT NULL, kind TEXT NOT NULL, row_id INTEGER,
    user_id TEXT, at REAL, data BLOB NOT NULL, reason TEXT NOT NULL, moved_at REAL NOT NULL);
"""
TO_QUARANTINE = "INSERT INTO quarantine (scene_id, kind, row_id, user_id, at, data, reason, moved_at) "
INSERT_UPDATE = "INSERT INTO updates (scene_id, user_id, at, data, changed) VALUES (?, ?, ?, ?, ?)"
WRITER_IDLE_S = 5.0  # the writer thread ends after this long with nothing to write; the next update starts one
MAX_BATCH = 500  # updates committed in one transaction at most

Row = tuple[str, str, bytes, bool]  # scene id, user id, update, whether it changed the document
Done = Callable[[int | BaseException], object]  # called with the row id once committed, or with the error


@dataclass
class Stored:
    snapshot: bytes | None
    epoch: int | None
    updates: list[tuple[int, bytes]]


class UpdateLog:
    def __init__(self, project_folder: Path) -> None:
        folder = project_folder / ".mediastudio"
        # Never `parents=True`: a project folder moved away (trash) must not be recreated as a stray.
        folder.mkdir(exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(folder / "collab.sqlite", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a committed update survives the process being killed (the kill -9 test);
        # only a power cut can lose the last few, and FULL would cost ~10 ms per keystroke.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(updates)")}
        if "changed" not in columns:  # a log written before updates said whether they changed the scene
            self._db.execute("ALTER TABLE updates ADD COLUMN changed INTEGER NOT NULL DEFAULT 1")
        self._queue: list[tuple[Row, Done]] = []  # updates waiting for the writer thread
        self._queued = threading.Condition(threading.Lock())
        self._writer: threading.Thread | None = None
        self._closed = False

    def append(self, scene_id: str, user_id: str, data: bytes, changed: bool = True) -> int:
        """Log an update; `changed` False for one that held nothing new (a client's answer on joining):
        it is kept (it may hold parts the document still waits for) but earns no credit."""
        with self._lock:
            cursor = self._db.execute(INSERT_UPDATE, (scene_id, user_id, time.time(), data, int(changed)))
            return int(cursor.lastrowid or 0)

    def log_soon(self, scene_id: str, user_id: str, data: bytes, changed: bool = True) -> asyncio.Future[int]:
        """Queue `append` for the writer thread now (updates are logged in the order they are queued); the
        future answers the row id once the transaction holding the update committed, or raises what failed it."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[int] = loop.create_future()

        def settle(result: int | BaseException) -> None:
            if answer.done():  # the caller was cancelled meanwhile: the update is logged all the same
                return
            if isinstance(result, BaseException):
                answer.set_exception(result)
            else:
                answer.set_result(result)

        self.submit((scene_id, user_id, data, changed), lambda result: loop.call_soon_threadsafe(settle, result))
        return answer

    def submit(self, row: Row, done: Done) -> None:
        """Queue one update for the writer thread (started when none runs); `done` is called in that thread."""
        with self._queued:
            if self._closed:
                raise RuntimeError("The update log is closed")
            self._queue.append((row, done))
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_queued, name="collab-log", daemon=True)
                self._writer.start()
            else:
                self._queued.notify()

    def _write_queued(self) -> None:
        """The writer thread: commit what is queued, as one transaction per batch, until idle or closed."""
        while True:
            with self._queued:
                if not self._queue and not self._closed:
                    self._queued.wait(WRITER_IDLE_S)
                if not self._queue:
                    self._writer = None
                    self._queued.notify_all()  # close() waits for the queue to be written
                    return
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                ids: list[int | BaseException] = list(self.append_many([row for row, _ in batch]))
            except BaseException as exc:  # nothing of the batch was committed
                ids = [exc] * len(batch)
            for (_, done), result in zip(batch, ids, strict=True):
                with contextlib.suppress(Exception):  # a caller whose event loop has ended waits for nothing
                    done(result)

    def append_many(self, rows: list[Row]) -> list[int]:
        """Log these updates in one transaction; answers their row ids."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                ids = [int(self._db.execute(INSERT_UPDATE, (scene_id, user_id, now, data, int(changed))).lastrowid
                           or 0) for scene_id, user_id, data, changed in rows]
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            return ids

    def load(self, scene_id: str) -> Stored:
        with self._lock:
            row = self._db.execute("SELECT data, epoch, upto FROM snapshots WHERE scene_id = ?",
                                   (scene_id,)).fetchone()
            upto = row[2] if row else 0
            updates = self._db.execute("SELECT id, data FROM updates WHERE scene_id = ? AND id > ? ORDER BY id",
                                       (scene_id, upto)).fetchall()
        return Stored(row[0] if row else None, row[1] if row else None, [(i, bytes(d)) for i, d in updates])

    def start(self, scene_id: str, state: bytes, epoch: int) -> None:
        """A new epoch: the document was (re)built; older updates no longer apply."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM updates WHERE scene_id = ?", (scene_id,))
            self._db.execute("INSERT OR REPLACE INTO snapshots (scene_id, epoch, upto, data) VALUES (?, ?, 0, ?)",
                             (scene_id, epoch, state))
            self._db.execute("COMMIT")

    def compact(self, scene_id: str, state: bytes, upto: int) -> None:
        """Replace the updates up to `upto` by `state` (which must include them), atomically."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            epoch = self._db.execute("SELECT epoch FROM snapshots WHERE scene_id = ?", (scene_id,)).fetchone()
            self._db.execute("INSERT OR REPLACE INTO snapshots (scene_id, epoch, upto, data) VALUES (?, ?, ?, ?)",
                             (scene_id, epoch[0] if epoch else 1, upto, state))
            self._db.execute("DELETE FROM updates WHERE scene_id = ? AND id <= ?", (scene_id, upto))
            self._db.execute("COMMIT")

    def quarantine_updates(self, scene_id: str, ids: list[int], reason: str) -> None:
        """Move these update rows to the quarantine table, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for row_id in ids:
                self._db.execute(TO_QUARANTINE + "SELECT scene_id, 'update', id, user_id, at, data, ?, ? FROM updates "
                                 "WHERE id = ? AND scene_id = ?", (reason, time.time(), row_id, scene_id))
                self._db.execute("DELETE FROM updates WHERE id = ? AND scene_id = ?", (row_id, scene_id))
            self._db.execute("COMMIT")

    def quarantine_scene(self, scene_id: str, reason: str) -> None:
        """An undecodable snapshot: move it and every update of the scene aside (they build on it)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            now = time.time()
            self._db.execute(TO_QUARANTINE + "SELECT scene_id, 'snapshot', upto, NULL, NULL, data, ?, ? FROM snapshots "
                             "WHERE scene_id = ?", (reason, now, scene_id))
            self._db.execute(TO_QUARANTINE + "SELECT scene_id, 'update', id, user_id, at, data, ?, ? FROM updates "
                             "WHERE scene_id = ?", (reason, now, scene_id))
            self._db.execute("DELETE FROM updates WHERE scene_id = ?", (scene_id,))
            self._db.execute("DELETE FROM snapshots WHERE scene_id = ?", (scene_id,))
            self._db.execute("COMMIT")

    def authors_since(self, scene_id: str, since: float) -> Counter[str]:
        with self._lock:
            rows = self._db.execute("SELECT user_id, COUNT(*) FROM updates WHERE scene_id = ? AND at >= ? "
                                    "AND changed = 1 GROUP BY user_id", (scene_id, since)).fetchall()
        return Counter(dict(rows))

    def close(self) -> None:
        """Write what is queued, then close."""
        with self._queued:
            self._closed = True
            self._queued.notify()
            while self._writer is not None and self._writer is not threading.current_thread():
                self._queued.wait()
        with self._lock:
            self._db.close()


class WrittenMarks:
    """Which graph (by hash) the studio itself last wrote to each scene file, kept in the same database:
    a file whose hash differs was changed outside the studio (git restore, a hand edit)."""

    def __init__(self, update_log: UpdateLog) -> None:
        self.log = update_log
        with update_log._lock:
            update_log._db.execute("CREATE TABLE IF NOT EXISTS written (scene_id TEXT PRIMARY KEY, hash TEXT)")

    def get(self, scene_id: str) -> str | None:
        with self.log._lock:
            row = self.log._db.execute("SELECT hash FROM written WHERE scene_id = ?", (scene_id,)).fetchone()
        return row[0] if row else None

    def set(self, scene_id: str, value: str) -> None:
        with self.log._lock:
            self.log._db.execute("INSERT OR REPLACE INTO written (scene_id, hash) VALUES (?, ?)", (scene_id, value))
