"""The task system's series for `GET /metrics`, read from the events every process publishes (with Redis,
a `mediastudio worker`'s tasks too): queue lengths per lane, how long tasks waited, how they ended and how
long they ran, by kind. An event bus listener the composition adds; the tasks themselves know nothing of it."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any

from mediastudio.metrics.registry import WAIT_BUCKETS, Registry

ENDINGS = {"task.succeeded": "succeeded", "task.failed": "failed", "task.cancelled": "cancelled"}
REMEMBERED = 2000  # ended task ids kept, so an ending announced twice (a force-stop) counts once


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


class TaskMetrics:
    def __init__(self, registry: Registry) -> None:
        self.queued = registry.gauge("mediastudio_queue_tasks", "Tasks on each lane now, waiting or running",
                                     ("lane", "state"))
        self.workers = registry.gauge("mediastudio_queue_workers", "Workers of each lane in this process",
                                      ("lane",))
        self.paused = registry.gauge("mediastudio_queue_paused", "1 while an administrator holds the lane",
                                     ("lane",))
        self.wait = registry.histogram("mediastudio_task_queue_wait_seconds",
                                       "From a task's submission to its start, by lane", ("lane",), WAIT_BUCKETS)
        self.ended = registry.counter("mediastudio_tasks_finished_total", "Tasks ended, by kind and outcome",
                                      ("kind", "outcome"))
        self.duration = registry.histogram("mediastudio_task_duration_seconds",
                                           "From a task's start to its end, by kind and outcome",
                                           ("kind", "outcome"), WAIT_BUCKETS)
        self._seen: OrderedDict[str, None] = OrderedDict()

    def on_event(self, event: dict[str, Any]) -> None:
        """An event bus listener (in the loop): cheap, and quiet on anything it does not know."""
        kind = event.get("type")
        if kind == "queue.changed":
            self._lanes(event.get("lanes") or [])
        elif kind == "task.started":
            task = event["task"]
            waited = _seconds(task.get("created_at"), task.get("started_at"))
            if waited is not None:
                self.wait.observe(waited, str(task.get("lane")))
        elif kind in ENDINGS:
            self._ended(event["task"], ENDINGS[kind])

    def _lanes(self, lanes: list[dict[str, Any]]) -> None:
        for lane in lanes:
            name = str(lane.get("name"))
            self.queued.set(lane.get("queued", 0), name, "queued")
            self.queued.set(lane.get("running", 0), name, "running")
            self.workers.set(lane.get("workers", 0), name)
            self.paused.set(1 if lane.get("paused") else 0, name)

    def _ended(self, task: dict[str, Any], outcome: str) -> None:
        task_id = str(task.get("id"))
        if task_id in self._seen:
            return
        self._seen[task_id] = None
        if len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        kind = str(task.get("kind"))
        self.ended.inc(kind, outcome)
        ran = _seconds(task.get("started_at"), task.get("finished_at"))
        if ran is not None:
            self.duration.observe(ran, kind, outcome)
