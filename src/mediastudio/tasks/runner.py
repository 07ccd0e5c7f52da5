"""Running one task in a worker thread: claim it, run its kind, record the outcome, announce each step.

The runner writes the task's row itself (the server, or a `mediastudio worker` sharing the data folder)
and publishes events after each commit, so a client never sees an event before the state it describes.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import queue
import shutil
import socket
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, func, null, or_, update
from sqlmodel import col

from mediastudio.auth.tables import User
from mediastudio.common import utcnow
from mediastudio.db import Database, Prepared, loaded
from mediastudio.errors import Cancelled, MediastudioError, TaskFailed
from mediastudio.events.bus import EventBus
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.tasks.context import PROGRESS_INTERVAL, TaskContext
from mediastudio.tasks.events import ENDED, TaskEvent, TaskProgress, TaskQueued, TaskStarted
from mediastudio.tasks.kinds import KindRegistry
from mediastudio.tasks.log_store import LogWriter
from mediastudio.tasks.logs import attach, detach, since
from mediastudio.tasks.tables import Task

log = logging.getLogger("mediastudio")
MAX_ATTEMPTS = 2  # a task interrupted by a restart runs once more, then fails
# A task's line once a worker took it (until the kind says more) and once it succeeded: "Waiting in the queue", what
# its row said since it was queued, stayed on the running task, and on the finished one its events and API show.
STARTING, FINISHED = "Starting", "Finished"
HANDED = 256  # tasks whose checked params are kept for their run (`Runner.hand`)
ROW_WRITE_INTERVAL = 0.5  # progress reaches the task's row at most this often (events: every 0.1 s)
# A task's follow-ups (a run's results joining the project's pending commit) start this long after its outcome
# was announced: begun at once, their thread took the interpreter from the event loop handing that event to the
# sockets (~0.4 ms later at the client, measured; benchmarks/README.md "Seventh round"). A follow-up late already
# (a batch's backlog) does not wait again.
FOLLOW_UP_DELAY = 0.005
# Bookkeeping follow-ups (a run's results joining the project's pending commit: ~1–2 ms of the interpreter each)
# wait while another task of this process runs — in a batch, the next run, whose pipeline shared the interpreter
# with them (~1 ms a picture measured, within the noise: benchmarks/README.md "Twenty-first round") — and run once
# none does, or this long after they were due. Announcements never wait for that.
FOLLOW_UP_HOLD = 2.0
_QUIET = ("", None, 0.0, False)  # a follow-up that is none: the runner may have gone quiet, look again


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def results_dir(settings: Settings, task_id: str) -> Path:
    return settings.data_dir / "tasks" / task_id


OWNER_NAME_SECONDS = 30.0  # how long a shared task's events reuse its owner's display name


class Later:
    """Runs work at its time, one piece after another, on one thread (started with the first piece)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._count = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def call(self, wait: float, work: Callable[[], None]) -> None:
        with self._changed:
            heapq.heappush(self._due, (time.monotonic() + wait, next(self._count), work))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._changed.notify()

    def _loop(self) -> None:
        while True:
            with self._changed:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._changed.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, _, work = heapq.heappop(self._due)
            try:
                work()
            except Exception:
                log.exception("Delayed work of the task runner failed")


class Runner:
    def __init__(self, settings: Settings, db: Database, blobs: BlobStore, events: EventBus,
                 kinds: KindRegistry) -> None:
        self.settings, self.db, self.blobs, self.events, self.kinds = settings, db, blobs, events, kinds
        self.active: dict[str, TaskContext] = {}
        self.abandoned: set[str] = set()  # force-stopped: ended and recorded, their threads still inside a step
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.name = worker_name()
        # Follow-ups (a run's git commit) run on a thread of their own, one after another: the lane's worker
        # takes its next task at once instead of waiting for the bookkeeping of the last one.
        self._follow_ups: queue.SimpleQueue[tuple[str, Any, float, bool] | None] = queue.SimpleQueue()
        self._follow_up_thread: threading.Thread | None = None
        self._holding = 0  # bookkeeping follow-ups waiting for no task to run (`_follow_ups_loop`)
        # Delayed progress announcements and row writes of every task, each on a thread of its own (a slow write
        # never holds up an announcement), started once: a report never starts a thread.
        self._announcer = Later("mediastudio-task-announcer")
        self._names: dict[str, tuple[str, float]] = {}  # shared tasks' owners: (display name, when asked)
        self._writer = Later("mediastudio-task-writer")
        self.logs = LogWriter(db, self._writer.call)  # each task's own log, written on the same thread
        # task id → its params, checked, and its row as recorded (`hand`)
        self._handed: OrderedDict[str, tuple[BaseModel, Task | None]] = OrderedDict()

    def hand(self, task_id: str, params: BaseModel, row: Task | None = None) -> None:
        """The params of a task recorded in this process, as they were checked before its row was written (the
        row holds their dump): its run here takes them as they are instead of validating the row's again (a
        scene's graph: ~0.2 ms of every run's way to the GPU, and the engine's plan of that very graph object is
        still at hand, `Engine.plan`). Kept for the last `HANDED` tasks (let go when one is cancelled before it ran:
        `unhand`); a task recorded elsewhere, run again after a restart, or whose transaction rolled back (its row
        never claimed) is read from its row. Not used with Redis (`TaskSystem.new`): workers elsewhere may run it.

        `row`: the task's row as it was written (never changed afterwards by the caller): its claim then reads back
        only what the claim counts (`_claim_handed`) and takes the rest from it, unless the row changed meanwhile."""
        with self.lock:
            self._handed[task_id] = (params, row)
            while len(self._handed) > HANDED:
                self._handed.popitem(last=False)

    def unhand(self, task_id: str) -> None:
        with self.lock:
            self._handed.pop(task_id, None)

    def _params(self, task: Task, kind: Any) -> Any:
        with self.lock:
            handed = self._handed.pop(task.id, None)
        if handed is not None and type(handed[0]) is kind.params:
            return handed[0]
        return kind.params.model_validate(task.params)

    def _claim(self, task_id: str) -> Task | None:
        """Take the task if it still waits to run (not cancelled, not taken by another worker): its row as the claim
        leaves it, or None. A task recorded in this process (`hand`) reads back only the claim's counts (its row's
        columns, a scene's graph among them, were ~0.15 ms of every run's way to the GPU, read and converted
        again); should its revision show another change since it was recorded, the whole row is read."""
        now = utcnow()
        with self.lock:
            handed = self._handed.get(task_id)
        recorded = handed[1] if handed is not None else None
        values = {"task_id": task_id, "now": now, "worker": self.name}
        if recorded is None:
            claimed = _claim().run(self.db, values)
            return loaded(Task, claimed[0]) if claimed else None  # the claim and the row it leaves, in one statement
        counts = _claim_handed().run(self.db, values)
        if not counts:
            return None
        if counts[0]["revision"] != recorded.revision + 1:  # changed since it was recorded: as the database has it
            with self.db.session() as db:
                return db.get(Task, task_id)
        columns = {key: recorded.__dict__[key] for key in _claim().columns}  # every column of the row
        return loaded(Task, {**columns, **_claimed_values(now, self.name), **counts[0]})

    # -- announcing -------------------------------------------------------------------------------
    def publish(self, event: type[TaskEvent], task: Task) -> None:
        kind = self.kinds.get(task.kind)
        leave_out = kind.queued_only_params if kind is not None and event is not TaskQueued else frozenset()
        if kind is None or not kind.shared:
            self.events.publish(event.about(task, leave_out=leave_out))
            return
        # Heard by every member of the workspace: with the name of who started it.
        self.events.publish(event.about(task, shared=True, owner_name=self._owner_name(task.owner_id),
                                        leave_out=leave_out))

    def _owner_name(self, user_id: str) -> str | None:
        """The display name of a shared task's owner: asked at most every `OWNER_NAME_SECONDS` per person (a
        run's progress events come ten times a second; a renamed person is named anew soon after)."""
        now = time.monotonic()
        known = self._names.get(user_id)
        if known is not None and now - known[1] < OWNER_NAME_SECONDS:
            return known[0]
        with self.db.session() as db:
            user = db.get(User, user_id)
        name = user.display_name if user is not None else None
        if len(self._names) > 10_000:
            self._names.clear()
        if name is not None:
            self._names[user_id] = (name, now)
        return name

    # -- liveness -------------------------------------------------------------------------------------
    def start_heartbeat(self, interval: float = 20.0) -> None:
        """Touch the rows of running tasks now and then, so a task whose worker died can be told apart."""

        def beat() -> None:
            while not self.stopping.wait(interval):
                with self.lock:
                    ids = list(self.active)
                if not ids:
                    continue
                try:
                    with self.db.session() as db:
                        db.exec(update(Task).where(col(Task.id).in_(ids), col(Task.status) == "running")
                                .values(updated_at=utcnow()))
                        db.commit()
                except Exception:  # the next beat tries again
                    log.debug("Task heartbeat failed", exc_info=True)

        threading.Thread(target=beat, name="mediastudio-task-heartbeat", daemon=True).start()

    # -- the cancel token -------------------------------------------------------------------------
    def cancel_local(self, task_id: str) -> bool:
        """Wake a task running in this process at once (the row already says cancel_requested)."""
        with self.lock:
            ctx = self.active.get(task_id)
        if ctx is not None:
            ctx.cancel_event.set()
        return ctx is not None

    def abandon(self, task_id: str) -> None:
        """An administrator force-stopped the task (its row says so): its thread, still inside a step, is not waited
        for by a stop of the process (`TaskQueue.stop`); its lane is served meanwhile by a stand-in worker."""
        with self.lock:
            if task_id in self.active:
                self.abandoned.add(task_id)

    def waited_for(self) -> list[str]:
        """The tasks running in this process that a stop waits for: all but those force-stopped."""
        with self.lock:
            return [task_id for task_id in self.active if task_id not in self.abandoned]

    def still_running(self, task_id: str) -> bool:
        """Whether a worker thread of this process is still inside the task (a step that has not returned)."""
        with self.lock:
            return task_id in self.active

    def cancel_requested(self, task_id: str) -> bool:
        with self.db.session() as db:
            task = db.get(Task, task_id)
            return task is None or task.cancel_requested

    # -- progress ---------------------------------------------------------------------------------
    def report_progress(self, ctx: TaskContext) -> None:
        """Take the reported state into the task's row kept in memory; announce it at most every 0.1 s and write
        it at most every 0.5 s, each from a timer when it is not due yet (the worker never waits for either).

        A run of many quick nodes reports a dozen states in a few milliseconds: one announcement carries the
        latest, and none goes out once the outcome is being recorded (its event tells the final state). The last
        state reported is never left untold nor unwritten: a page opened while a step or a model load takes
        long reads the state the events last told. The row (REST, a reconnecting client) lags at most 0.5 s.
        """
        with ctx.lock:
            row = ctx.row
            if row is None or ctx.ended or ctx.cancel_event.is_set():
                return  # stopping: the cancel (or force-stop) announced the task's state itself
            total = max(ctx.total, 0)
            per_step = ctx.step_seconds()
            # Placed in the row's values directly: it belongs to no session (its writes are UPDATEs of their own,
            # `_write_progress`), so SQLAlchemy's change tracking, column by column on each of the dozen reports
            # of a short run, was spent for nothing.
            row.__dict__.update(
                step=ctx.step, total=total, message=ctx.message,
                progress=min(1.0, ctx.step / total) if total else 0.0, eta_seconds=ctx.eta_seconds(),
                step_seconds=None if per_step is None else round(per_step, 3), revision=row.revision + 1,
                updated_at=utcnow(), **({"detail": ctx.detail} if ctx.detail is not None else {}))
            self._announce_soon(ctx)
            self._write_soon(ctx)

    def _announce_soon(self, ctx: TaskContext) -> None:
        """(Under ctx.lock.) Announce the row now, or once the interval has passed (the latest state then)."""
        wait = PROGRESS_INTERVAL - (time.monotonic() - ctx.last_publish)
        if wait <= 0:
            ctx.last_publish = time.monotonic()
            ctx.published_revision = ctx.row.revision
            self.publish(TaskProgress, ctx.row)
            return
        if ctx.publish_pending:
            return
        ctx.publish_pending = True

        def later() -> None:
            with ctx.lock:
                ctx.publish_pending = False
                # A report whose turn had come published this state already (this timer ran late): not twice.
                if ctx.ended or ctx.cancel_event.is_set() or ctx.row.revision == ctx.published_revision:
                    return
                ctx.last_publish = time.monotonic()
                ctx.published_revision = ctx.row.revision
                self.publish(TaskProgress, ctx.row)

        self._announcer.call(wait, later)

    def _write_soon(self, ctx: TaskContext) -> None:
        """(Under ctx.lock.) Write the row once the interval since the last write has passed (the state reported
        last then)."""
        if ctx.write_pending:
            return
        ctx.write_pending = True

        def later() -> None:
            with ctx.lock:
                ctx.write_pending = False
                if ctx.ended or ctx.cancel_event.is_set():
                    return
                ctx.last_write = time.monotonic()
                row = ctx.row
                values = {"step": row.step, "total": row.total, "message": row.message, "progress": row.progress,
                          "eta_seconds": row.eta_seconds, "step_seconds": row.step_seconds, "detail": row.detail,
                          "revision": row.revision, "updated_at": row.updated_at}
            try:
                self._write_progress(ctx.task_id, values)
            except Exception:  # the next report writes it again
                log.debug("A delayed progress write failed", exc_info=True)

        self._writer.call(max(0.0, ROW_WRITE_INTERVAL - (time.monotonic() - ctx.last_write)), later)

    @staticmethod
    def _end_reports(ctx: TaskContext) -> None:
        """The outcome is being recorded: the run's pending announcements and writes are dropped (the outcome's
        row and event carry the final state; a progress event after it would take the task back)."""
        with ctx.lock:
            ctx.ended = True

    def _write_progress(self, task_id: str, values: dict[str, Any]) -> None:
        with self.db.session() as db:
            db.exec(update(Task).where(col(Task.id) == task_id, col(Task.status) == "running").values(**values))
            db.commit()

    # -- running ----------------------------------------------------------------------------------
    def execute(self, task_id: str) -> None:
        """The body of every Huey message: run task `task_id` if it is still waiting to run."""
        task = self._claim(task_id)
        if task is None:
            return  # cancelled while queued, or already taken by another worker
        self.publish(TaskStarted, task)
        kind = self.kinds.get(task.kind)
        folder = results_dir(self.settings, task_id)
        if task.attempts > 1:
            shutil.rmtree(folder, ignore_errors=True)  # what the interrupted attempt left
        ctx = TaskContext(task_id=task.id, owner_id=task.owner_id, project_id=task.project_id,
                          scratch_folder=folder / "scratch",
                          runner=self, row=task, task_log=self.logs.open(task.id, task.attempts))
        again = f", run {task.attempts} (a restart interrupted the last one)" if task.attempts > 1 else ""
        _say(ctx, "info", f"Started: {task.kind} on the {task.lane} lane{again}")
        with self.lock:
            self.active[task_id] = ctx
        started = time.monotonic()
        outcome: dict[str, Any]
        try:
            if kind is None:
                raise TaskFailed(f"This server does not know the task kind '{task.kind}'.", code="unknown_kind",
                                 hint="Update Mediastudio on this machine, or cancel the task.")
            params = self._params(task, kind)
            if self.stopping.is_set():
                raise Cancelled()
            assert ctx.task_log is not None
            attach(ctx.task_log)  # what this thread logs and warns while the kind runs goes into the task's log
            try:
                result = kind.run(ctx, params if kind.takes_model else params.model_dump()) or {}
            finally:
                detach(ctx.task_log)
            if ctx.cancel_event.is_set():  # a cancel asked elsewhere meanwhile: the outcome's write sees it
                raise Cancelled()
            if "file" in result:
                ctx.scratch.rename(folder / "result")
                result = {**result, "download": f"/api/v1/tasks/{task_id}/result"}
            elif ctx.scratch_made:
                shutil.rmtree(folder, ignore_errors=True)
            outcome = {"status": "succeeded", "result": result, "progress": 1.0, "eta_seconds": 0.0,
                       "message": FINISHED, "step": max(ctx.step, ctx.total), "total": ctx.total, "detail": ctx.detail}
        except Cancelled:
            shutil.rmtree(folder, ignore_errors=True)  # partial outputs are discarded
            if self.stopping.is_set() and not self.cancel_requested(task_id):
                outcome = {"status": "interrupted", "message": "Stopped by a server shutdown; it runs again on start"}
            else:
                outcome = {"status": "cancelled", "message": "Cancelled", "eta_seconds": None}
        except TaskFailed as exc:
            shutil.rmtree(folder, ignore_errors=True)
            outcome = {"status": "failed", "error_code": exc.code, "error_message": exc.message,
                       "error_hint": exc.hint, "eta_seconds": None, "detail": ctx.detail}
        except (ValidationError, MediastudioError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            message = exc.detail if isinstance(exc, MediastudioError) else f"Bad parameters: {exc.errors()[0]['msg']}"
            hint = exc.hint if isinstance(exc, MediastudioError) else None
            outcome = {"status": "failed", "error_code": "refused", "error_message": message, "error_hint": hint,
                       "eta_seconds": None}
        except Exception as exc:  # a bug or an environment problem: recorded, never lost
            log.exception("Task %s (%s) failed", task_id, task.kind)
            shutil.rmtree(folder, ignore_errors=True)
            outcome = {"status": "failed", "error_code": "internal", "error_message": f"{type(exc).__name__}: {exc}",
                       "error_hint": "This looks like a bug or a problem with this machine; the server log has "
                                     "the details.", "eta_seconds": None}
        except BaseException:
            self._end_reports(ctx)
            self._drop_outcome_writes(ctx)
            self._forget(task_id, ctx)
            _say(ctx, "error", f"Stopped after {since(started)}: the worker thread ended")
            self._close_log(ctx)
            raise
        self._end_reports(ctx)
        if ctx.detail is not None:
            outcome.setdefault("detail", ctx.detail)
        if outcome["status"] == "interrupted":
            self._drop_outcome_writes(ctx)  # it runs again and makes them anew
            self._forget(task_id, ctx)
            _say(ctx, "warning", f"Stopped by a server shutdown after {since(started)}; it runs again on start")
            self._close_log(ctx)
            self.requeue_interrupted(task_id)
            return
        elapsed = time.monotonic() - started
        revision = ctx.row.revision if ctx.row is not None else 0
        # The log's last lines are written in the outcome's own transaction: whoever reads the ended task reads its
        # whole log, and the log costs a task no commit of its own. Its last line says how it ended as recorded
        # (what it made may be refused there: `OutcomeWrite.files`), once per outcome a try records.
        said: list[str | None] = []
        writers: list[Callable[[Any], None]] = []

        def last_lines(db: Any, fields: dict[str, Any]) -> None:
            if said[-1:] != [fields.get("status")]:
                self._log_outcome(ctx, fields, elapsed)
                said.append(fields.get("status"))
                if ctx.task_log is not None:
                    writers.append(self.logs.last_rows(ctx.task_log))
            for writer in writers:  # again in a try after a rollback
                writer(db)

        held: list[Any] = []  # what the outcome's transaction announces (the assets it recorded): see below
        try:
            finished = self._finish(task_id, revision, ctx, finished_at=utcnow(), run_seconds=elapsed, worker=None,
                                    step_seconds=None, log_rows=last_lines, held=held, **outcome)
            if finished is None and outcome["status"] == "succeeded":  # cancelled elsewhere before it ended
                shutil.rmtree(folder, ignore_errors=True)
                finished = self._finish(task_id, revision, None, finished_at=utcnow(), run_seconds=elapsed,
                                        worker=None, step_seconds=None, status="cancelled", message="Cancelled",
                                        eta_seconds=None, detail=ctx.detail)
        finally:
            # Only once the final row is written: until then the live context is the fresher record
            # (the pictures a run's nodes made are looked up in it).
            self._forget(task_id, ctx)
        if finished is None or finished.status != (said[-1] if said else None):  # recorded otherwise than said
            self._log_outcome(ctx, _recorded(finished), elapsed)
            self._close_log(ctx)
        if finished is not None:
            if finished.status == "succeeded":
                self.succeeded(finished)
            self.publish(ENDED[finished.status], finished)
        # After the outcome's own event, which is what a client waits for (its result names the assets), and off its
        # way, with the follow-ups: each event ahead of it held it up by its publishing, delivery, send and the
        # client's reading of it.
        if held:
            self._follow_up(task_id, lambda: self._publish_all(held))
        for follow_up in ctx.afterwards:  # bookkeeping that need not hold up the result (a git commit)
            self._follow_up(task_id, follow_up, hold=True)
        if self._holding and not ctx.afterwards:  # bookkeeping held for this task's end: tell it there is one
            self._follow_ups.put(_QUIET)

    @staticmethod
    def _log_outcome(ctx: TaskContext, outcome: dict[str, Any], elapsed: float) -> None:
        """The task's last line: how it ended and after how long; a failure with what to do about it."""
        took = f"{elapsed:.1f} s"
        status = outcome.get("status")
        if status is None:
            _say(ctx, "warning", "An administrator had force-stopped it meanwhile: what it made was discarded")
        elif status == "failed":
            hint = f"\nWhat to do: {outcome['error_hint']}" if outcome.get("error_hint") else ""
            _say(ctx, "error",
                 f"Failed after {took} ({outcome.get('error_code')}): {outcome.get('error_message')}{hint}")
        elif status == "cancelled":
            _say(ctx, "info", f"Cancelled after {took}")
        else:
            _say(ctx, "info", f"Succeeded in {took}")

    def _close_log(self, ctx: TaskContext) -> None:
        if ctx.task_log is not None:
            self.logs.close(ctx.task_log)

    def _finish(self, task_id: str, after_revision: int, ctx: TaskContext | None,
                log_rows: Callable[[Any, dict[str, Any]], None] | None = None, held: list[Any] | None = None,
                **fields: Any) -> Task | None:
        """Record the outcome, with what the task made (`ctx.outcome_writes`, whatever the outcome: in the same
        transaction), unless the row stopped being a running one meanwhile (an administrator force-stopped it):
        then what the worker came back with is discarded and nothing is announced. A success is not recorded
        over a cancel someone asked for meanwhile (in another process: this one's wake the task at once); then
        nothing of the row is written and the caller records the cancel. When what the task made cannot be
        recorded (a full disk), nothing of it is, and the task fails saying why. `held`: given, the events the
        transaction queued are put there once it committed, for the caller to publish, instead of at its commit."""
        writes, ctx_writes = (list(ctx.outcome_writes), ctx) if ctx is not None else ([], None)
        began = time.monotonic()
        queued: list[Any] = []
        try:
            with self.db.transaction() as db:
                refusal = None
                for write in list(writes):
                    try:
                        write.files(db)  # before any row: no write lock held while they go to the disk
                    except TaskFailed as exc:  # refused (`OutcomeWrite.files`): the task fails saying so
                        assert ctx_writes is not None
                        writes.remove(write)
                        ctx_writes.outcome_writes.remove(write)
                        write.drop()
                        refusal = refusal or exc
                if refusal is not None:
                    fields.update(_unrecorded(refusal))
                if log_rows is not None:
                    log_rows(db, fields)  # written anew by each try: a retry after a rollback adds them again
                for write in writes:
                    write.rows(db)
                if writes and "run_seconds" in fields:  # the run ends once what it made is saved, as before
                    fields.update(finished_at=utcnow(), run_seconds=fields["run_seconds"] + time.monotonic() - began)
                statement = _outcome(tuple(sorted((k, v is None) for k, v in fields.items())),
                                     fields.get("status") == "succeeded")
                rows = statement.rows(db, {**{f"v_{k}": v for k, v in fields.items() if v is not None},
                                           "task_id": task_id, "now": utcnow(), "after_revision": after_revision})
                row = loaded(Task, rows[0]) if rows else None
                for write in writes:  # their files durable before the commit (written while the above ran)
                    write.settle()
                if held is not None:
                    queued, db.info["events"] = db.info["events"], []
        except Exception as exc:
            if ctx_writes is None or not writes:
                raise
            log.exception("Task %s: recording what it made failed", task_id)
            self._drop_outcome_writes(ctx_writes)
            ctx_writes.afterwards.clear()
            return self._finish(task_id, after_revision, None, log_rows, held, **{**fields, **_unrecorded(exc)})
        if held is not None:
            held.extend(queued)
        if ctx_writes is not None:
            ctx_writes.outcome_writes = []
        return row

    @staticmethod
    def _drop_outcome_writes(ctx: TaskContext) -> None:
        writes, ctx.outcome_writes = ctx.outcome_writes, []
        for write in writes:
            try:
                write.drop()
            except Exception:
                log.exception("Task %s: discarding what it made failed", ctx.task_id)

    def _publish_all(self, events: list[Any]) -> None:
        for event in events:
            self.events.publish(event)

    def _follow_up(self, task_id: str, work: Any, *, hold: bool = False) -> None:
        """Run `work` on the follow-ups' thread, FOLLOW_UP_DELAY from now; `hold`: bookkeeping, which also waits
        until no task of this process runs (at most FOLLOW_UP_HOLD longer)."""
        with self.lock:
            if self._follow_up_thread is None or not self._follow_up_thread.is_alive():
                self._follow_up_thread = threading.Thread(target=self._follow_ups_loop, daemon=True,
                                                          name="mediastudio-follow-ups")
                self._follow_up_thread.start()
        self._follow_ups.put((task_id, work, time.monotonic() + FOLLOW_UP_DELAY, hold))

    def _follow_ups_loop(self) -> None:
        held: deque[tuple[str, Any, float]] = deque()  # (task id, work, when it runs even if a task runs), in order
        while True:
            try:
                item = self._follow_ups.get(timeout=max(0.0, held[0][2] - time.monotonic()) if held else None)
            except queue.Empty:
                item = _QUIET
            if item is None:  # a clean stop: what is held runs now, then the thread ends
                self._run_held(held, everything=True)
                return
            task_id, work, due, hold = item
            if work is not None:
                if (wait := due - time.monotonic()) > 0:  # the outcome's event goes out first (FOLLOW_UP_DELAY)
                    time.sleep(wait)
                if hold:
                    held.append((task_id, work, due + FOLLOW_UP_HOLD))
                else:
                    _run_follow_up(task_id, work)
            self._run_held(held, everything=not self.active)

    def _run_held(self, held: deque[tuple[str, Any, float]], *, everything: bool) -> None:
        """Run the held bookkeeping: all of it, or what waited its longest."""
        while held and (everything or held[0][2] <= time.monotonic()):
            task_id, work, _ = held.popleft()
            _run_follow_up(task_id, work)
        self._holding = len(held)

    def drain_follow_ups(self, timeout: float = 30.0) -> None:
        """Let the follow-ups queued so far finish (on a clean stop), then end their thread."""
        thread = self._follow_up_thread
        if thread is None or not thread.is_alive():
            return
        self._follow_ups.put(None)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("Follow-ups of finished tasks did not end within %.0f s (a git commit?)", timeout)

    def _forget(self, task_id: str, ctx: TaskContext) -> None:
        with self.lock:
            if self.active.get(task_id) is ctx:
                del self.active[task_id]
                self.abandoned.discard(task_id)

    # -- restarts ---------------------------------------------------------------------------------
    def requeue_interrupted(self, task_id: str) -> Task | None:
        """A task stopped by a restart: queued again once, then failed with a clear message."""
        with self.db.session() as db:
            task = db.get(Task, task_id)
            if task is None:
                return None
            if task.cancel_requested:
                task.status, task.message, task.finished_at = "cancelled", "Cancelled", utcnow()
            elif task.attempts >= MAX_ATTEMPTS:
                task.status, task.finished_at = "failed", utcnow()
                task.error_code = "interrupted"
                task.error_message = (f"The server stopped while this task ran, {task.attempts} times; "
                                      "it is not started again automatically.")
                task.error_hint = "Start it again when the machine is stable; the server log says why it stopped."
            else:
                task.status = "interrupted"
                task.message = "Interrupted by a server restart; it runs again"
                task.enqueued_at = time.time()
            task.worker, task.step, task.progress, task.eta_seconds, task.step_seconds = None, 0, 0.0, None, None
            task.revision += 1
            task.updated_at = utcnow()
            db.add(task)
            db.commit()
        if task.status == "interrupted":
            self.publish(TaskQueued, task)
            self.requeue(task)
        else:
            self.publish(ENDED[task.status], task)
        return task

    requeue: Any = None  # set by the queue: puts a task's message back on its lane
    succeeded: Callable[[Task], None] = staticmethod(lambda task: None)  # set by the task system: a kind's rate changed


@lru_cache(maxsize=64)
def _outcome(names: tuple[tuple[str, bool], ...], succeeded: bool) -> Prepared:
    """The outcome's statement for these fields ((name, whether it is None): a None is written as SQL NULL, the
    others `v_<name>`, given when it runs with the task, the time and the revision it follows), prepared once per
    set of fields (`Prepared`: run in the outcome's transaction, on its connection): writes only a row still
    running, and a success only over no cancel asked meanwhile."""
    task = Task.__table__  # type: ignore[attr-defined]
    where = [task.c.id == bindparam("task_id"), task.c.status == "running"]
    if succeeded:
        where.append(task.c.cancel_requested == False)  # noqa: E712
    return Prepared(update(task).where(*where)
                    .values({**{name: null() if empty else bindparam(f"v_{name}") for name, empty in names},
                             "updated_at": bindparam("now"),
                             "revision": func.max(task.c.revision, bindparam("after_revision")) + 1})
                    .returning(*task.columns))


def _run_follow_up(task_id: str, work: Any) -> None:
    try:
        work()
    except Exception:
        log.exception("A follow-up of task %s failed", task_id)


def _claimed_values(now: Any, worker: Any) -> dict[str, Any]:
    """What a claim writes in a task's row, but its counts (attempts, revision): the same values the statement
    writes (`_claim_statement`) and the row a handed task's claim leaves in memory (`Runner._claim`)."""
    return {"status": "running", "started_at": now, "worker": worker, "step": 0, "progress": 0.0,
            "message": STARTING, "eta_seconds": None, "step_seconds": None, "updated_at": now}


def _claim_statement() -> Any:
    task = Task.__table__  # type: ignore[attr-defined]
    return (update(task).where(task.c.id == bindparam("task_id"),
                               or_(task.c.status == "queued", task.c.status == "interrupted"),
                               task.c.cancel_requested == False)  # noqa: E712
            .values(**_claimed_values(bindparam("now", type_=task.c.started_at.type), bindparam("worker")),
                    attempts=task.c.attempts + 1, revision=task.c.revision + 1))


@cache
def _claim() -> Prepared:
    """The claim, prepared once (the task, the time and the worker given when it runs): at the start of every task,
    where the request thread describing the run's answer shares the interpreter with it, a Session spent ~0.35 ms
    on it of this CPU against ~0.06 on the connection itself."""
    return Prepared(_claim_statement().returning(*Task.__table__.columns))  # type: ignore[attr-defined]


@cache
def _claim_handed() -> Prepared:
    """The claim of a task whose recorded row is at hand (`Runner.hand`): only its counts come back."""
    task = Task.__table__  # type: ignore[attr-defined]
    return Prepared(_claim_statement().returning(task.c.attempts, task.c.revision))


def _say(ctx: TaskContext, level: str, message: str) -> None:
    """A line of the runner's own in the task's log (the kind's lines say "task")."""
    if ctx.task_log is not None:
        ctx.task_log.add(level, message, "mediastudio")


def _recorded(task: Task | None) -> dict[str, Any]:
    """How a task's end was recorded, as an outcome (an empty one: nothing was, it had been force-stopped)."""
    if task is None:
        return {}
    return {"status": task.status, "error_code": task.error_code, "error_message": task.error_message,
            "error_hint": task.error_hint}


def _unrecorded(exc: Exception) -> dict[str, Any]:
    """The outcome of a task whose results could not be recorded."""
    if isinstance(exc, TaskFailed):
        return {"status": "failed", "error_code": exc.code, "error_message": exc.message, "error_hint": exc.hint,
                "eta_seconds": None, "result": None}
    message = exc.detail if isinstance(exc, MediastudioError) else f"{type(exc).__name__}: {exc}"
    return {"status": "failed", "error_code": "internal", "error_message": f"Its results could not be saved: {message}",
            "error_hint": "Free some disk space or look at the server log, then run it again.", "eta_seconds": None,
            "result": None}


def age_seconds(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (utcnow() - moment).total_seconds()
