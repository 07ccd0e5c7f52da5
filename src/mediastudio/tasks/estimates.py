"""Queue positions and ETAs.

Running: seconds left from the live step rate (the runner stores it with each progress write).
Queued: the kind's measured seconds per unit of size (recent successes) × this task's size; the time
until it starts is the work ahead of it on its lane, spread over the lane's workers.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from mediastudio.db import Prepared
from mediastudio.tasks.runner import age_seconds
from mediastudio.tasks.tables import Task

HISTORY = 20  # recent successful runs of a kind that its rate is measured on
RATE_SECONDS = 5.0  # a kind's rate is read again at most this often, unless a task of it succeeded elsewhere
COUNTED = 1024  # successes of this process remembered until their event is heard


@dataclass
class Placement:
    position: int | None = None  # 1 = next to start on its lane
    starts_in: float | None = None
    eta: float | None = None  # until finished


@dataclass(frozen=True, slots=True)
class Active:
    """What the queue's view needs of a waiting or running task: its columns but its params (a scene run's whole
    graph), read as a plain row. Loading whole tasks was most of the view's cost, and the view is made for every
    run's answer and on each task event."""

    id: str
    owner_id: str
    lane: str
    kind: str
    status: str
    size: float
    priority: int
    enqueued_at: float
    created_at: datetime
    started_at: datetime | None
    eta_seconds: float | None
    progress: float


@dataclass
class LaneView:
    name: str
    workers: int
    paused: bool
    running: list[Active] = field(default_factory=list)
    queued: list[Active] = field(default_factory=list)  # in the order the lane will take them
    backlog_seconds: float | None = 0.0  # until the last queued task is done


@cache
def _history() -> Any:
    """A kind's latest successes (`seconds_per_unit`), built once: the kind is bound when it runs."""
    return (select(Task.run_seconds, Task.size)
            .where(col(Task.kind) == bindparam("kind"), col(Task.status) == "succeeded",
                   col(Task.run_seconds).is_not(None))
            .order_by(col(Task.finished_at).desc()).limit(HISTORY))


@cache
def _active() -> Prepared:
    """The tasks waiting or running (`build_view`), `Active`'s columns, prepared once (`Prepared`: every run's
    answer, each task event's queue summary, each events socket's hello)."""
    columns = [col(getattr(Task, name)) for name in Active.__slots__]
    status = col(Task.status)
    waiting_or_running = or_(*(status == name for name in ("queued", "running", "interrupted")))
    return Prepared(core_select(*columns).where(waiting_or_running))


def latest_runs(db: Session, kind: str) -> list[tuple[float, float]]:
    """The kind's latest successes as (run_seconds, size), newest first (`HISTORY` at most)."""
    return [(float(seconds or 0), float(size or 0)) for seconds, size in db.exec(_history(), params={"kind": kind})]


def _rate(runs: list[tuple[float, float]]) -> float | None:
    if not runs:
        return None
    return sum(seconds for seconds, _ in runs) / sum(max(size, 1e-9) for _, size in runs)


def seconds_per_unit(db: Session, kind: str) -> float | None:
    return _rate(latest_runs(db, kind))


class Rates:
    """Each kind's `seconds_per_unit`, kept between views with the runs it is measured on: read again once
    `RATE_SECONDS` have passed, or at once after `forget` (a task of the kind succeeded in another process: the
    bus tells it through Redis). A task that succeeds in this process joins the kept runs as a read would find
    it (`succeeded`, with no read): a run's answer describes its new task while the lane's worker claims it, and
    the history's query on every answer after a success was CPU taken from that worker."""

    def __init__(self) -> None:
        # kind -> (its latest successes as (run_seconds, size), newest first; when they were read)
        self._known: dict[str, tuple[list[tuple[float, float]], float]] = {}
        self._changes: dict[str, int] = {}  # kind -> changes told so far (a read older than one is not kept)
        self._counted: OrderedDict[str, None] = OrderedDict()  # tasks `succeeded` took in (their event is heard)
        self._lock = threading.Lock()

    def get(self, db: Session, kind: str) -> float | None:
        now = time.monotonic()
        with self._lock:
            known = self._known.get(kind)
            changes = self._changes.get(kind, 0)
        if known is not None and now - known[1] < RATE_SECONDS:
            return _rate(known[0])
        runs = latest_runs(db, kind)
        with self._lock:
            if self._changes.get(kind, 0) == changes:  # nothing was told while it was read
                self._known[kind] = (runs, now)
        return _rate(runs)

    def succeeded(self, task: Task) -> None:
        """A task of this process succeeded (its row committed): its run is the kind's newest."""
        if task.status != "succeeded" or task.run_seconds is None:
            return
        with self._lock:
            self._counted[task.id] = None
            while len(self._counted) > COUNTED:
                self._counted.popitem(last=False)
            self._changes[task.kind] = self._changes.get(task.kind, 0) + 1
            known = self._known.get(task.kind)
            if known is not None:
                self._known[task.kind] = ([(float(task.run_seconds), float(task.size)), *known[0]][:HISTORY],
                                          known[1])

    def heard(self, task_id: str, kind: str) -> None:
        """The bus told of a success: read the kind again, unless it was this process's (`succeeded` took it)."""
        with self._lock:
            if task_id in self._counted:
                del self._counted[task_id]
                return
        self.forget(kind)

    def forget(self, kind: str) -> None:
        with self._lock:
            self._known.pop(kind, None)
            self._changes[kind] = self._changes.get(kind, 0) + 1


def waiting_order(tasks: list[Active]) -> list[Active]:
    """The order Huey serves a lane: higher priority first, then first enqueued."""
    return sorted(tasks, key=lambda t: (-t.priority, t.enqueued_at, t.created_at))


def build_view(db: Session, workers: dict[str, int], paused: dict[str, bool], kept: Rates | None = None
               ) -> tuple[dict[str, LaneView], dict[str, Placement]]:
    active = [Active(*row) for row in _active().tuples(db, {})]
    rates: dict[str, float | None] = {}  # read for this view (from `kept` where given)

    def estimate(task: Active) -> float | None:
        if task.kind not in rates:
            rates[task.kind] = kept.get(db, task.kind) if kept is not None else seconds_per_unit(db, task.kind)
        rate = rates[task.kind]
        return None if rate is None else rate * max(task.size, 0.0)

    lanes: dict[str, LaneView] = {}
    placements: dict[str, Placement] = {}
    for lane, count in workers.items():
        view = LaneView(lane, max(count, 1), paused.get(lane, False))
        view.running = [t for t in active if t.lane == lane and t.status == "running"]
        view.queued = waiting_order([t for t in active if t.lane == lane and t.status != "running"])
        free: list[float | None] = []
        for task in view.running:
            left = task.eta_seconds
            if left is None:
                whole = estimate(task)
                left = None if whole is None else max(0.0, whole - age_seconds(task.started_at))
            placements[task.id] = Placement(eta=left)
            free.append(left)
        known = [f for f in free if f is not None]
        heap: list[float] = [*known, *[0.0] * max(0, view.workers - len(free))]
        heap = sorted(heap)[: view.workers] if len(heap) > view.workers else heap
        unknown = len(known) < len(free)
        heapq.heapify(heap)
        finish_last: float = max(heap) if heap else 0.0
        for position, task in enumerate(view.queued, start=1):
            start = heapq.heappop(heap) if heap else 0.0
            duration = estimate(task)
            if duration is None:
                unknown = True
            placement = Placement(position=position)
            if not unknown:
                placement.starts_in = start
                placement.eta = start + (duration or 0.0)
                finish_last = max(finish_last, placement.eta)
            placements[task.id] = placement
            heapq.heappush(heap, start + (duration or 0.0))
        view.backlog_seconds = None if unknown else finish_last
        lanes[lane] = view
    return lanes, placements
