"""Starting, listing and cancelling tasks, with the rules on who may do what."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, case, literal_column, or_, union_all
from sqlmodel import Session, col, func, select

from mediastudio.auth.tables import User
from mediastudio.common import new_id, utcnow
from mediastudio.db import Prepared, fresh, insert_new
from mediastudio.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unprocessable
from mediastudio.quotas import service as quotas
from mediastudio.settings import Settings
from mediastudio.tasks.kinds import KindRegistry, TaskKind
from mediastudio.tasks.tables import ACTIVE, Task

STALE_RUNNING_SECONDS = 120  # a running task silent this long, cancelled, is ended without its worker


class ProjectScope(Protocol):
    """Checks that `user` holds `right` on the project and answers (its workspace id, its name); raises NotFound
    or Forbidden otherwise. The projects feature provides it (projects/access.py `task_scope`)."""

    def __call__(self, db: Session, user: User, project_id: str, right: str) -> tuple[str | None, str]: ...


class ProjectNames(Protocol):
    """The names of projects (to show on their tasks); the projects feature provides it (projects/access.py
    `project_names`)."""

    def __call__(self, db: Session, project_ids: set[str]) -> dict[str, str]: ...


def kind_or_422(kinds: KindRegistry, name: str) -> TaskKind:
    kind = kinds.get(name)
    if kind is None:
        raise Unprocessable(f"There is no task kind '{name}'.", hint=f"Known kinds: {', '.join(kinds.names())}.",
                            field="kind")
    return kind


def active_counts(db: Session, owner_id: str, lane: str) -> tuple[int, int]:
    """(the owner's tasks waiting or running, those of them on `lane`), in one query."""
    if db.new:  # tasks added and not flushed count too (as the session's autoflush made them before)
        db.flush()
    ((total, lane_count),) = _active_counts().tuples(db, {"owner_id": owner_id, "lane": lane})
    return int(total), int(lane_count)


@cache
def _active_counts() -> Prepared:
    """`active_counts`' query, prepared once (owner and lane bound when it runs: `Prepared`): on every task's
    request."""
    on_lane = func.coalesce(func.sum(case((col(Task.lane) == bindparam("lane"), 1), else_=0)), 0)
    status = col(Task.status)
    return Prepared(select(func.count(), on_lane).select_from(Task).where(
        col(Task.owner_id) == bindparam("owner_id"),
        or_(*(status == name for name in ("queued", "interrupted", "running")))))


def gpu_seconds_today(db: Session, owner_id: str, now: datetime | None = None) -> float:
    """The time the owner's tasks on the GPU lane ran in today's UTC day (since 00:00 UTC): each ended task from
    its start (or midnight) to its end, a running one up to now."""
    now = now or utcnow()
    start = quotas.day_start(now)
    # Those that ended today and those running, each part read on an index of the owner's tasks (as one OR, SQLite
    # read every task the owner ever had: tasks/tables.py, OWNER_INDEXES).
    mine = (col(Task.owner_id) == owner_id, col(Task.lane) == "gpu", col(Task.started_at).is_not(None))
    status, columns = col(Task.status), (col(Task.started_at), col(Task.finished_at), col(Task.status))
    rows = db.execute(union_all(select(*columns).where(*mine, col(Task.finished_at) >= start, status != "running"),
                                select(*columns).where(*mine, status == "running"))).all()
    used = 0.0
    for started, finished, status in rows:
        if started is None or (finished is None and status != "running"):
            continue
        end = min(_aware(finished), now) if finished is not None else now
        used += max(0.0, (end - max(_aware(started), start)).total_seconds())
    return used


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_quota(db: Session, actor: User, limits: quotas.Limits, lane: str, active: int) -> None:
    """Refuse (429) a task over `actor`'s limits: too many waiting or running, or no GPU minutes left today. Work
    already accepted is never stopped for a quota: a run may finish past the day's minutes."""
    guest = actor.is_guest
    if active >= limits.runs_at_once:
        register = " Register an account for a larger quota." if guest else ""
        if not limits.runs_at_once:
            raise TooManyRequests(f"{'Guests' if guest else 'Your account'} may not start tasks on this server.",
                                  retry_after=3600, hint=(register.strip() if guest else
                                                          "Ask an administrator (Server settings → Quotas)."))
        raise TooManyRequests(f"{'Guests' if guest else 'You'} can have at most {limits.runs_at_once} tasks waiting or "
                              "running at once.", retry_after=10,
                              hint="Wait for some to finish, or cancel ones you no longer need." + register)
    allowed = limits.gpu_seconds_per_day
    if lane != "gpu" or allowed is None:
        return
    now = utcnow()
    used = gpu_seconds_today(db, actor.id, now) if allowed else 0.0
    if allowed and used < allowed:
        return
    resets = quotas.next_reset(now)
    detail = (f"You have used {quotas.minutes(used)} of your {quotas.minutes(allowed)} GPU minutes today; they "
              f"reset at {quotas.RESETS} ({quotas.until(resets, now)})." if allowed else
              f"{'Guests' if guest else 'Your account'} may not run tasks on the GPU on this server.")
    hint = ("Register an account for more GPU time." if guest else
            "Ask an administrator for more GPU minutes (Server settings → Quotas).")
    raise GpuMinutesUsedUp(detail, retry_after=int((resets - now).total_seconds()) + 1, hint=hint,
                           used_gpu_minutes=round(used / 60, 2), gpu_minutes_per_day=round(allowed / 60, 2),
                           resets_at=resets.isoformat())


class GpuMinutesUsedUp(TooManyRequests):
    title = "GPU minutes used up"

    def __init__(self, detail: str, *, retry_after: int, hint: str, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, hint=hint)
        self.extra.update(extra)


def new_task(db: Session, settings: Settings, kinds: KindRegistry, scope: ProjectScope, actor: User, kind_name: str,
             params: dict[str, Any], project_id: str | None, *, system: bool = False,
             hand: Callable[[str, BaseModel, Task], None] | None = None) -> Task:
    """Check and record a task (status queued); the caller enqueues it after the commit. The row is written at once
    and the object returned belongs to no session: a change to it is not written (change the row by a statement).

    `system` = started by the studio itself on the user's behalf (previews after an upload): no quota.
    `hand`: given the task's id, its params as checked here (what its row holds) and its row as written, for this
    process's worker.
    """
    kind = kind_or_422(kinds, kind_name)
    workspace_id, project_name = None, ""
    if kind.needs == "admin" and not actor.is_admin:
        raise Forbidden("Only administrators can start this task.")
    if kind.project:
        if not project_id:
            raise Unprocessable(f"A '{kind.name}' task needs a project_id.", field="project_id")
        workspace_id, project_name = scope(db, actor, project_id,
                                           kind.needs if kind.needs in ("view", "edit", "run") else "view")
    elif project_id:
        raise Unprocessable(f"A '{kind.name}' task does not take a project_id.", field="project_id")
    try:
        parsed = kind.params.model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "params"
        raise Unprocessable(f"Parameter '{where}': {first['msg']}.", field=f"params.{where}") from exc
    active, waiting = active_counts(db, actor.id, kind.lane)
    if not system:
        check_quota(db, actor, quotas.limits(db, settings, actor), kind.lane, active)
    # Fairness: a task queued behind k unfinished tasks of its owner on the lane (waiting or already running)
    # gets Huey priority -k, so lanes serve users round-robin: someone with nothing queued goes ahead of the
    # second task of someone whose first one is running.
    title = kind.title(parsed).replace("{project}", project_name)[:200]
    task = fresh(Task, {"id": new_id("t"), "kind": kind.name, "lane": kind.lane, "title": title, "owner_id": actor.id,
                        "workspace_id": workspace_id, "project_id": project_id if kind.project else None,
                        "params": parsed.model_dump(mode="json"), "size": float(kind.size(parsed)),
                        "priority": -waiting, "enqueued_at": time.time(), "message": "Waiting in the queue"})
    # Written at once by one INSERT compiled once (`insert_new`), not by the session's unit of work at its next
    # flush (~0.5 ms on a small CPU, on every run's request): counted at once by what the transaction reads next
    # (a batch's next run index, quota and fair priority). The object stays outside the session.
    insert_new(db, [task])
    if hand is not None:
        hand(task.id, parsed, task)
    return task


def visible_task(db: Session, actor: User, task_id: str) -> Task:
    task = db.get(Task, task_id)
    if task is None or (task.owner_id != actor.id and not actor.is_admin):
        raise NotFound(f"No task '{task_id}' of yours.", hint="GET /api/v1/tasks lists your tasks.")
    return task


WAITING_OR_RUNNING = frozenset({"queued", "running", "interrupted"})


def list_tasks(db: Session, actor: User, *, project_id: str | None, statuses: list[str], everyone: bool,
               limit: int, cursor: str | None) -> tuple[list[Task], str | None]:
    query = select(Task)
    if not (everyone and actor.is_admin):
        query = query.where(col(Task.owner_id) == actor.id)
    if project_id:
        query = query.where(col(Task.project_id) == project_id)
    if statuses:
        query = query.where(col(Task.status).in_(statuses))
    if cursor:
        created_at, task_id = _from_cursor(cursor)
        query = query.where((col(Task.created_at) < created_at)
                            | ((col(Task.created_at) == created_at) & (col(Task.id) < task_id)))
    order: tuple[Any, ...] = (col(Task.created_at).desc(), col(Task.id).desc())
    if statuses and set(statuses) <= WAITING_OR_RUNNING:
        # Few tasks have these statuses: read on the status (and owner) and sorted, with the order's columns as
        # expressions ("+column") so that SQLite does not read every task in order of creation to find them.
        order = (literal_column("+tasks.created_at").desc(), literal_column("+tasks.id").desc())
    rows = list(db.exec(query.order_by(*order).limit(limit + 1)).all())
    next_cursor = _to_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


TASK_CURSOR = r"^[0-9]{1,17}-[A-Za-z0-9_]{1,64}$"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _to_cursor(task: Task) -> str:
    """Where the next page starts (keyset: the last task's time and id), so no cursor ever goes stale."""
    created_at = task.created_at if task.created_at.tzinfo else task.created_at.replace(tzinfo=UTC)
    return f"{(created_at - EPOCH) // timedelta(microseconds=1)}-{task.id}"


def _from_cursor(cursor: str) -> tuple[datetime, str]:
    micros, _, task_id = cursor.partition("-")
    refused = BadRequest("That cursor is not one this server gave out.", hint="Start again without a cursor.",
                         field="cursor")
    if not (micros.isascii() and micros.isdigit()) or not task_id:
        raise refused
    try:
        return EPOCH + timedelta(microseconds=int(micros)), task_id
    except OverflowError:  # a time past the year 9999 (the pattern allows up to the year 5138): never given out
        raise refused from None


def request_cancel(db: Session, actor: User, task_id: str) -> tuple[Task, str]:
    """Mark a task to stop. Answers (task, what happened): 'revoked' (it was waiting), 'stopping' (it runs;
    its worker stops at the next step), 'ended' (its worker is gone), or 'finished' (nothing to do)."""
    task = visible_task(db, actor, task_id)
    if task.status not in (*ACTIVE, "interrupted"):
        return task, "finished"
    from mediastudio.tasks.runner import age_seconds

    stale = task.status == "running" and age_seconds(task.updated_at) > STALE_RUNNING_SECONDS
    task.cancel_requested = True
    task.revision += 1
    task.updated_at = utcnow()
    if task.status in ("queued", "interrupted") or stale:
        task.status, task.message, task.finished_at, task.eta_seconds = "cancelled", "Cancelled", utcnow(), None
        task.worker = None
        what = "ended" if stale else "revoked"
    else:
        task.message, what = stopping_message(task), "stopping"
    db.add(task)
    return task, what


def stopping_message(task: Task) -> str:
    """Why a cancelled task still runs, and for about how long: a step is never cut in half."""
    if task.step_seconds is None:
        return "Stopping after the current step (its length is not measured yet)"
    return f"Stopping after this step, about {max(1, math.ceil(task.step_seconds))} s"


def force_stop(db: Session, actor: User, task_id: str) -> Task:
    """An administrator ends a running task now: its row says cancelled at once and its lane takes the next
    task; the worker still inside a step is left to return, and what it comes back with is discarded."""
    task = visible_task(db, actor, task_id)  # another user's task answers exactly like a missing one
    if not actor.is_admin:
        raise Forbidden("Only administrators can force-stop a task.", hint="Cancel it: it stops after its step.")
    if task.status != "running":
        raise Conflict(f"The task is {task.status}, not running: there is nothing to force-stop.",
                       hint="A waiting task is cancelled at once with POST …/cancel.")
    task.status, task.message = "cancelled", "Force-stopped by an administrator"
    task.cancel_requested, task.finished_at, task.worker = True, utcnow(), None
    task.eta_seconds = task.step_seconds = None
    task.revision += 1
    task.updated_at = utcnow()
    db.add(task)
    return task
