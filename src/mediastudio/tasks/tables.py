"""Tables owned by tasks/: task records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, text
from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")


class Task(SQLModel, table=True):
    """One long operation. Huey carries only its id; this row is the truth about it."""

    __tablename__ = "tasks"

    id: str = Field(primary_key=True)
    kind: str = Field(index=True)
    lane: str  # gpu | cpu
    title: str
    owner_id: str  # read on the OWNER_INDEXES (add_missing_indexes), never through an index of its own
    workspace_id: str | None = Field(default=None, index=True)
    project_id: str | None = Field(default=None, index=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    size: float = 1.0  # the kind's measure of work (ETA history is per unit of it)
    priority: int = 0  # Huey priority: -k for the owner's k-th pending task on the lane
    enqueued_at: float = 0.0  # time.time() of the last enqueue; orders tasks of one priority
    status: str = Field(default="queued", index=True)
    progress: float = 0.0
    step: int = 0
    total: int = 0
    message: str = ""
    eta_seconds: float | None = None  # while running: from the live step rate
    step_seconds: float | None = None  # while running: the measured time of one step (None until measured)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    run_seconds: float | None = None  # time spent running (for the ETA history)
    error_code: str | None = None
    error_message: str | None = None
    error_hint: str | None = None
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # per-node states
    attempts: int = 0
    worker: str | None = None  # "host:pid" of the process running it
    cancel_requested: bool = False
    revision: int = 0  # bumped by each change; events carry it so clients drop stale ones
    updated_at: datetime = Field(default_factory=utcnow)


class TaskLogLine(SQLModel, table=True):
    """One line of a task's own log (tasks/logs.py: bounded per run of the task). Removed with its task by the
    trigger `add_missing_indexes` makes, whoever deletes the task."""

    __tablename__ = "task_log"

    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(index=True)
    attempt: int = 1  # the run of the task it comes from (a task interrupted by a restart runs again)
    seq: int  # its order within the run
    at: datetime
    level: str  # info | warning | error
    source: str = ""  # "task", the logger's name, "warnings"
    message: str


HISTORY_INDEX = "ix_tasks_kind_status_finished"  # a kind's recent successes (estimates.py: its rate)
# A person's tasks, read on every task they ask for (their waiting and running ones: the queue's limits and fair
# priority), on every events connection (the active ones and the 20 last ended) and by the tasks page (newest
# first). With an index on the owner alone each of these read every task the person ever had, and a row holds its
# params (a run's graph, often on overflow pages) before its status: 12–18 ms on each run's request at 9,000 tasks
# of one person (tests/unit/test_run_indexes.py).
OWNER_ACTIVE_INDEX = "ix_tasks_owner_status"  # (owner, status, created_at): a status's tasks of a person
OWNER_FINISHED_INDEX = "ix_tasks_owner_finished"  # (owner, finished_at): a person's last ended tasks
OWNER_CREATED_INDEX = "ix_tasks_owner_created"  # (owner, created_at, id): a person's tasks, newest first
OWNER_INDEXES = {OWNER_ACTIVE_INDEX: "owner_id, status, created_at", OWNER_FINISHED_INDEX: "owner_id, finished_at",
                 OWNER_CREATED_INDEX: "owner_id, created_at, id"}


def add_missing_indexes(conn: Connection) -> None:
    """Indexes (and the trigger that removes a task's log with the task) added after the table's first release:
    made here for every database, new or older (create_all makes the indexes of the tables it creates, never
    those of a table already there)."""
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tasks'")).first():
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {HISTORY_INDEX} ON tasks (kind, status, finished_at)"))
        for name, columns in OWNER_INDEXES.items():
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON tasks ({columns})"))
        conn.execute(text("DROP INDEX IF EXISTS ix_tasks_owner_id"))  # the owner alone: each of those is better
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'task_log'")).first():
        conn.execute(text("CREATE TRIGGER IF NOT EXISTS task_log_goes_with_its_task AFTER DELETE ON tasks "
                          "BEGIN DELETE FROM task_log WHERE task_id = OLD.id; END"))


def add_missing_columns(conn: Connection) -> None:
    """Columns added after the table's first release, for databases made before them."""
    present = {row[1] for row in conn.execute(text("PRAGMA table_info(tasks)"))}
    if present and "step_seconds" not in present:
        conn.execute(text("ALTER TABLE tasks ADD COLUMN step_seconds FLOAT"))
