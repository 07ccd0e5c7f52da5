"""Queue positions and ETAs.

Running: seconds left from the live step rate (the runner stores it with each progress write).
Queued: the kind's measured seconds per unit of size (recent successes) × this task's size; the time
until it starts is the work ahead of it on its lane, spread over the lane's workers.
"""

from __future__ import annotations

import heapq
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from mediastudio.tasks.runner import age_seconds
from mediastudio.tasks.tables import Task

HISTORY = 20  # recent successful runs of a kind that its rate is measured on
RATE_SECONDS = 5.0  # a kind's rate is read again at most this often, unless a task of it succeeded meanwhile


@dataclass
class Placement:
    position: int | None = None  # 1 = next to start on its lane
    starts_in: float | None = None
    eta: float | None = None  # until finished


@dataclass
class LaneView:
    name: str
    workers: int
    paused: bool
    running: list[Task] = field(default_factory=list)
    queued: list[Task] = field(default_factory=list)  # in the order the lane will take them
    backlog_seconds: float | None = 0.0  # until the last queued task is done


@cache
def _history() -> Any:
    """A kind's latest successes (`seconds_per_unit`), built once: the kind is bound when it runs."""
    return (select(Task.run_seconds, Task.size)
            .where(col(Task.kind) == bindparam("kind"), col(Task.status) == "succeeded",
                   col(Task.run_seconds).is_not(None))
            .order_by(col(Task.finished_at).desc()).limit(HISTORY))


@cache
def _active() -> Any:
    """The tasks waiting or running (`build_view`), built once."""
    return select(Task).where(col(Task.status).in_(("queued", "running", "interrupted")))


def seconds_per_unit(db: Session, kind: str) -> float | None:
    rows = db.exec(_history(), params={"kind": kind}).all()
    if not rows:
        return None
    seconds = sum(float(r[0] or 0) for r in rows)
    units = sum(max(float(r[1] or 0), 1e-9) for r in rows)
    return seconds / units


class Rates:
    """Each kind's `seconds_per_unit`, kept between views: read again once `RATE_SECONDS` have passed, or at once
    after `forget` (a task of the kind succeeded: the bus tells it, also from other processes through Redis). A
    run's answer describes its new task while the lane's worker claims it, and the history's query, on every
    answer before, was CPU taken from that worker."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[float | None, float]] = {}
        self._lock = threading.Lock()

    def get(self, db: Session, kind: str) -> float | None:
        now = time.monotonic()
        with self._lock:
            known = self._known.get(kind)
        if known is not None and now - known[1] < RATE_SECONDS:
            return known[0]
        rate = seconds_per_unit(db, kind)
        with self._lock:
            self._known[kind] = (rate, now)
        return rate

    def forget(self, kind: str) -> None:
        with self._lock:
            self._known.pop(kind, None)


def waiting_order(tasks: list[Task]) -> list[Task]:
    """The order Huey serves a lane: higher priority first, then first enqueued."""
    return sorted(tasks, key=lambda t: (-t.priority, t.enqueued_at, t.created_at))


def build_view(db: Session, workers: dict[str, int], paused: dict[str, bool], kept: Rates | None = None
               ) -> tuple[dict[str, LaneView], dict[str, Placement]]:
    active = db.exec(_active()).all()
    rates: dict[str, float | None] = {}  # read for this view (from `kept` where given)

    def estimate(task: Task) -> float | None:
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
