"""A task's log lines in the database: written by the runner while the task runs and when it ends (`LogWriter`),
read by the API as JSON or as a text download."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from mediastudio.common import UtcDatetime
from mediastudio.db import insert_rows
from mediastudio.tasks.logs import MAX_LINES, SAVE_INTERVAL, LogLine, TaskLog
from mediastudio.tasks.tables import Task, TaskLogLine

if TYPE_CHECKING:
    from mediastudio.db import Database

log = logging.getLogger("mediastudio")


class TaskLogLineOut(BaseModel):
    attempt: int = Field(description="The run of the task it comes from (a restart runs a task once more)")
    seq: int
    at: UtcDatetime
    level: Literal["info", "warning", "error"]
    source: str = Field(description="task, mediastudio, a library's logger name (diffusers…), or warnings")
    message: str = Field(description=f"At most 1,000 characters; control characters shown escaped (\\x1b). A run "
                                     f"keeps at most {MAX_LINES} lines: its first and last ones")


class TaskLogOut(BaseModel):
    task_id: str
    status: str
    lines: list[TaskLogLineOut]


def add_rows(db: Session, task_id: str, attempt: int, lines: list[LogLine]) -> None:
    """The lines' rows in `db`'s transaction, in one statement compiled once (not as ORM objects, an INSERT
    each); their ids given by SQLite."""
    insert_rows(db, TaskLogLine, [
        {"id": None, "task_id": task_id, "attempt": attempt, "seq": line.seq, "at": line.at, "level": line.level,
         "source": line.source, "message": line.message} for line in lines])


def write(db: Database, task_id: str, attempt: int, lines: list[LogLine]) -> None:
    if not lines:
        return
    with db.transaction() as session:
        add_rows(session, task_id, attempt, lines)


def read(db: Session, task: Task) -> TaskLogOut:
    rows = db.exec(select(TaskLogLine).where(TaskLogLine.task_id == task.id)
                   .order_by(col(TaskLogLine.attempt), col(TaskLogLine.seq))).all()
    return TaskLogOut(task_id=task.id, status=task.status, lines=[
        TaskLogLineOut(attempt=r.attempt, seq=r.seq, at=r.at, level=r.level, source=r.source,
                       message=r.message) for r in rows])


def as_text(task: Task, out: TaskLogOut) -> str:
    """The download: a header, then one line per entry; a message's further lines indented, so that no message
    can pass for an entry of its own."""
    lines = [f"# {task.title} ({task.kind}, task {task.id}): {task.status}"]
    for line in out.lines:
        at = line.at.astimezone(UTC) if line.at.tzinfo else line.at.replace(tzinfo=UTC)
        first, *more = line.message.split("\n") or [""]
        lines.append(f"{at:%Y-%m-%d %H:%M:%S}.{at.microsecond // 1000:03d}Z {line.level.upper():7} "
                     f"[{line.source}] {first}")
        lines.extend(f"    {part}" for part in more)
    return "\n".join(lines) + "\n"


class LogWriter:
    """Writes a running task's new lines at most every SAVE_INTERVAL (on the runner's writer thread), and the rest
    when it ends (in the worker's thread: with its outcome, `last_rows`, or on their own, `close`)."""

    def __init__(self, db: Database, later: Callable[[float, Callable[[], None]], None]) -> None:
        self.db, self.later = db, later

    def open(self, task_id: str, attempt: int) -> TaskLog:
        pending = threading.Event()
        task_log = TaskLog(task_id, attempt)

        def save_soon() -> None:
            if not pending.is_set():
                pending.set()
                self.later(SAVE_INTERVAL, save)

        def save() -> None:
            pending.clear()
            try:
                write(self.db, task_id, attempt, task_log.unsaved())
            except Exception:  # those lines are lost, not the task
                log.warning("Could not write the log of task %s", task_id, exc_info=True)

        task_log.on_line = save_soon
        return task_log

    def last_rows(self, task_log: TaskLog) -> Callable[[Session], None]:
        """At the end: the lines not written yet, as a writer of their rows in the transaction that records the
        outcome."""
        task_log.on_line = None
        lines = task_log.rest()
        return lambda db: add_rows(db, task_log.task_id, task_log.attempt, lines)

    def close(self, task_log: TaskLog) -> None:
        task_log.on_line = None
        try:
            write(self.db, task_log.task_id, task_log.attempt, task_log.rest())
        except Exception:
            log.warning("Could not write the log of task %s", task_log.task_id, exc_info=True)


