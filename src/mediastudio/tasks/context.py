"""What a running task sees: progress, the cancel token, a scratch folder and the studio's services."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mediastudio.errors import Cancelled
from mediastudio.tasks.logs import TaskLog

if TYPE_CHECKING:
    from sqlmodel import Session

    from mediastudio.db import Database
    from mediastudio.settings import Settings
    from mediastudio.storage.blobs import BlobStore
    from mediastudio.tasks.runner import Runner

PROGRESS_INTERVAL = 0.1  # at most ~10 progress events per second per task
CANCEL_POLL_INTERVAL = 0.2  # how often a worker looks for a cancel made by another process
RATE_WINDOW = 24  # the recent steps the live rate is measured on (a moving window smooths it)


class OutcomeWrite(Protocol):
    """What a task made that is recorded with its outcome, in the transaction that records it (one commit for
    both, and nothing of it recorded for a task that a stop or a crash will run again)."""

    def files(self, db: Session) -> None:
        """Write its files (reads in `db` allowed; no row written yet, so no write lock is held meanwhile). It
        may refuse: `TaskFailed` (with what to do) leaves nothing of it (`drop`), and the task fails saying so."""

    def rows(self, db: Session) -> None:
        """Write its rows in `db`, the outcome's transaction."""

    def settle(self) -> None:
        """Wait until its files are durable (raising what writing them raised): last, before the transaction
        commits, so that the statements written after its rows (the outcome's) run while the disk syncs them."""

    def drop(self) -> None:
        """It is not recorded: the task runs again, or recording it failed (the transaction rolled back)."""


@dataclass
class TaskContext:
    task_id: str
    owner_id: str
    project_id: str | None
    scratch_folder: Path  # made on first use of `scratch`
    runner: Runner
    cancel_event: threading.Event = field(default_factory=threading.Event)
    step: int = 0
    total: int = 0
    message: str = ""
    detail: dict[str, Any] | None = None  # kind-specific live detail, written with each progress report
    row: Any = None  # the task's row as last reported (kept in memory while it runs)
    # The runner's bookkeeping of reports (runner.py `report_progress`), under `lock`: when the row was last
    # announced and written (the claim wrote it and task.started announced it at the start: a run's first report
    # goes out PROGRESS_INTERVAL after it, and a run shorter than that sends none), which delayed announcement or
    # write is pending, and whether the outcome is being recorded (then nothing of the run's progress goes out).
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_publish: float = field(default_factory=time.monotonic)
    published_revision: int | None = None  # the row's revision its last progress event carried
    last_write: float = field(default_factory=time.monotonic)
    publish_pending: bool = False
    write_pending: bool = False
    ended: bool = False
    task_log: TaskLog | None = None  # the run's own log (tasks/logs.py), written by the runner
    afterwards: list[Any] = field(default_factory=list)  # run by the runner once the outcome is announced
    outcome_writes: list[OutcomeWrite] = field(default_factory=list)  # recorded with the outcome (`with_outcome`)
    first_step_at: float | None = None
    scratch_made: bool = False
    started: float = field(default_factory=time.monotonic)
    # (time, step) when each new step was reported: the rate is measured between completed steps only, so the
    # time before the first step (loading a model) never counts as stepping.
    step_times: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=RATE_WINDOW))
    _phase_start: int = 0  # the step a phase of its own began at (`measure_anew`)
    _last_rate: float | None = None  # the rate of the phase before, until this one's is measured
    _last_report: float = 0.0
    # The first look for a cancel asked elsewhere comes CANCEL_POLL_INTERVAL after the start (the claim saw none).
    _last_cancel_poll: float = field(default_factory=time.monotonic)

    @property
    def scratch(self) -> Path:
        """The task's scratch folder, made on first use (most runs write none: a folder made and removed per run
        was two directory writes and a tree walk on the run's path)."""
        if not self.scratch_made:
            self.scratch_folder.mkdir(parents=True, exist_ok=True)
            self.scratch_made = True
        return self.scratch_folder

    @property
    def settings(self) -> Settings:
        return self.runner.settings

    @property
    def db(self) -> Database:
        return self.runner.db

    @property
    def blobs(self) -> BlobStore:
        return self.runner.blobs

    def log(self, level: str, message: str) -> None:
        """A line in the task's own log, which its owner reads (level: info, warning or error). Say what a person
        can act on; never a secret. Lines are cleaned and bounded (tasks/logs.py)."""
        if self.task_log is not None:
            self.task_log.add(level, message, "task")

    def progress(self, step: int, total: int, message: str | None = None, *, force: bool = False) -> None:
        """Report step of total (at most every 0.1 s unless the message changes, and always the last step): the
        runner announces the latest state at most every 0.1 s and writes it to the row at most every 0.5 s."""
        now = time.monotonic()
        if self.first_step_at is None:
            self.first_step_at = now
        self._note_step(now, step)
        changed_message = message is not None and message != self.message
        self.step, self.total = step, total
        if message is not None:
            self.message = message
        if force or changed_message or step >= total or now - self._last_report >= PROGRESS_INTERVAL:
            self._last_report = now
            self.runner.report_progress(self)

    def _note_step(self, now: float, step: int) -> None:
        last = self.step_times[-1][1] if self.step_times else self._phase_start
        if step < last:  # counting started again (a kind that reports phases): measure anew
            self.step_times.clear()
            self._phase_start = last = 0
        if step > last:
            self.step_times.append((now, step))

    def measure_anew(self) -> None:
        """Steps from here on cost differently (the next node of a run, with its own model to load): measure
        their rate from their own steps, the time until the first one left out; the rate measured so far
        stands until then."""
        self._last_rate = self.step_seconds()
        self.step_times.clear()
        self._phase_start = self.step

    def step_seconds(self) -> float | None:
        """Seconds per step over the recent window of completed steps (until two are done in this phase:
        the last phase's rate, or None)."""
        if len(self.step_times) < 2:
            return self._last_rate
        (first_at, first), (last_at, last) = self.step_times[0], self.step_times[-1]
        return (last_at - first_at) / (last - first)

    def eta_seconds(self) -> float | None:
        """Seconds left from the measured rate of the steps themselves (None until it is measured: then the
        queue's estimate from the kind's history, loading included, stands in).

        The time since the last step counts down the current one, but never below the steps after it."""
        per_step = self.step_seconds()
        if per_step is None or self.total <= 0:
            return None
        left = max(0, self.total - self.step)
        since_last = time.monotonic() - self.step_times[-1][0] if len(self.step_times) >= 2 else 0.0
        return max(per_step * max(0, left - 1), per_step * left - since_last, 0.0)

    def check_cancelled(self) -> None:
        """Raise `Cancelled` when someone asked to stop this task. Call it at every step."""
        if self.cancel_event.is_set():
            raise Cancelled()
        now = time.monotonic()
        if now - self._last_cancel_poll >= CANCEL_POLL_INTERVAL:
            self._last_cancel_poll = now
            if self.runner.cancel_requested(self.task_id):
                self.cancel_event.set()
                raise Cancelled()

    def sleep(self, seconds: float) -> None:
        """Wait, but wake at once (and raise `Cancelled`) when the task is cancelled."""
        if self.cancel_event.wait(seconds):
            raise Cancelled()
        self.check_cancelled()

    def with_outcome(self, write: OutcomeWrite) -> None:
        """Record `write` in the transaction that records this task's outcome (whatever it is), not before."""
        self.outcome_writes.append(write)

    def record_made(self) -> None:
        """Record what the task made so far (`with_outcome`) now, in a transaction of its own, rather than with
        the outcome: a long task keeps what it finished when a stop or a crash interrupts it later. Follow-ups
        that recording it asked for run at once. When it cannot be recorded (a full disk), nothing of it is."""
        from mediastudio.errors import TaskFailed

        writes, self.outcome_writes = self.outcome_writes, []
        follow_ups = len(self.afterwards)
        try:
            with self.db.transaction() as db:
                for write in writes:
                    write.files(db)
                for write in writes:
                    write.rows(db)
                for write in writes:
                    write.settle()
        except TaskFailed:  # refused (`OutcomeWrite.files`): said as it is
            del self.afterwards[follow_ups:]
            for write in writes:
                write.drop()
            raise
        except Exception as exc:
            del self.afterwards[follow_ups:]
            for write in writes:
                write.drop()
            raise TaskFailed(f"Its results could not be saved: {type(exc).__name__}: {exc}"[:500], code="unrecorded",
                             hint="Free some disk space or look at the server log, then run it again.") from exc
        done, self.afterwards[follow_ups:] = self.afterwards[follow_ups:], []
        for follow_up in done:
            follow_up()

    def publish_result_file(self, path: Path) -> dict[str, Any]:
        """A file made under scratch that becomes the task's downloadable result when it succeeds."""
        return {"file": path.relative_to(self.scratch).as_posix()}
