"""The task system of one process: runner, lanes, and (in the server) the watcher that sends queue.changed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from litestar.di import NamedDependency
from sqlmodel import Session, col, select

from mediastudio.auth.former import FORMER_MEMBER
from mediastudio.auth.tables import User
from mediastudio.db import Database, ReadCache
from mediastudio.events.bus import EventBus, Subscriber, view_for
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.tasks.estimates import LaneView, Placement, Rates, build_view
from mediastudio.tasks.events import (
    Hello,
    QueueChanged,
    QueuePaused,
    QueueSnapshot,
    TaskCancelled,
    TaskProgress,
    TaskQueued,
)
from mediastudio.tasks.kinds import LANES, KindRegistry
from mediastudio.tasks.queue import TaskQueue
from mediastudio.tasks.runner import Runner
from mediastudio.tasks.schemas import TaskOut, task_out
from mediastudio.tasks.service import ProjectNames, ProjectScope, new_task
from mediastudio.tasks.tables import Task

log = logging.getLogger("mediastudio")
HELLO_KEPT_S = 1.0  # a hello asked again within this, nothing written meanwhile, is the one made then
QUEUE_EVENT_INTERVAL = 0.25  # queue.changed at most 4 times a second


class TaskSystem:
    """The lanes, the runner and the queue watcher of one process, with the kinds it offers (built by the app's
    composition) and the projects feature's rights check (`scope`)."""

    def __init__(self, settings: Settings, db: Database, blobs: BlobStore, events: EventBus, kinds: KindRegistry,
                 scope: ProjectScope, project_names: ProjectNames | None = None) -> None:
        self.settings, self.db, self.events, self.kinds, self.scope = settings, db, events, kinds, scope
        self.project_names = project_names
        self.runner = Runner(settings, db, blobs, events, kinds)
        self.rates = Rates()  # each kind's measured rate, kept between views (ETAs)
        self.runner.succeeded = self.rates.succeeded  # a task that succeeded here: its run joins its kind's rate
        self.queue = TaskQueue(settings, self.runner)
        self._hellos: ReadCache[tuple[float, Hello]] = db.reads("hellos", size=1024)
        self._dirty: asyncio.Event | None = None
        self._watcher: asyncio.Task[None] | None = None

    @property
    def workers(self) -> dict[str, int]:
        return self.queue.workers

    # -- the server's side --------------------------------------------------------------------------
    async def start(self, consume: bool = True) -> None:
        recovered = await asyncio.to_thread(self.queue.recover)
        if recovered:
            log.warning("Re-queued %d task(s) that a stop or crash had interrupted", recovered)
        self._dirty = asyncio.Event()
        self.events.listeners.append(self._on_event)
        self._watcher = asyncio.create_task(self._watch())
        if consume:
            self.queue.start()
            self.runner.start_heartbeat()
        self._dirty.set()

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await asyncio.to_thread(self.queue.stop)

    def _on_event(self, event: dict[str, Any]) -> None:
        if event["type"] == "task.succeeded":  # also one another process ran (the Redis transport)
            task = event.get("task") or {}
            self.rates.heard(str(task.get("id")), str(task.get("kind")))
        if self._dirty is not None and (event["type"].startswith("task.") or event["type"] == "queue.paused"):
            self._dirty.set()

    async def _watch(self) -> None:
        assert self._dirty is not None
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                view = await asyncio.to_thread(self.queue_state)
                self.events.publish(QueueChanged(**view))
            except Exception:
                log.exception("Could not compute the queue's state")
            await asyncio.sleep(QUEUE_EVENT_INTERVAL)

    # -- reading ------------------------------------------------------------------------------------
    def paused(self) -> dict[str, bool]:
        return {lane: self.queue.paused(lane) for lane in LANES}

    def queue_state(self) -> dict[str, Any]:
        """Every lane's counts and every waiting/running task's place (the bus filters per subscriber)."""
        with self.db.session() as db:
            lanes, places = build_view(db, self.workers, self.paused(), self.rates)
        return _state(lanes, places)

    def visible_queue(self, user: User) -> tuple[list[dict[str, Any]], list[TaskOut]]:
        """The lanes, and the waiting/running tasks `user` may see (admins: all) in run order, described."""
        with self.db.session() as db:
            lanes, places = build_view(db, self.workers, self.paused(), self.rates)
            shown = [t.id for view in lanes.values() for t in [*view.running, *view.queued]
                     if user.is_admin or t.owner_id == user.id]
            whole = {t.id: t for start in range(0, len(shown), 900)  # (SQLite's limit of parameters a statement)
                     for t in db.exec(select(Task).where(col(Task.id).in_(shown[start:start + 900])))}
        tasks = [whole[task_id] for task_id in shown if task_id in whole]  # in run order; one ended meanwhile goes
        return _state(lanes, places)["lanes"], self.describe(tasks, places)

    def describe(self, tasks: list[Task], places: dict[str, Placement] | None = None, *,
                 owner_names: dict[str, str] | None = None,
                 project_names: dict[str, str] | None = None) -> list[TaskOut]:
        """Tasks as the API shows them: with owner names, positions and ETAs (a paused lane keeps its order and
        estimates, so its state is not read from the lanes here). Names the caller gives are not read again."""
        if not tasks:
            return []
        owners, projects = dict(owner_names or {}), dict(project_names or {})
        unknown = {t.owner_id for t in tasks} - owners.keys()
        wanted = {t.project_id for t in tasks if t.project_id} - projects.keys() if self.project_names else set()
        if places is None or unknown or wanted:  # (all given: a run's answer, `places` read as it was recorded)
            with self.db.session() as db:
                if places is None:
                    places = self.places(db)
                if unknown:
                    owners.update({u.id: u.display_name
                                   for u in db.exec(select(User).where(col(User.id).in_(unknown)))})
                if self.project_names and wanted:
                    projects.update(self.project_names(db, wanted))
        out = []
        for task in tasks:
            place = places.get(task.id)
            out.append(task_out(task, owner_name=owners.get(task.owner_id, FORMER_MEMBER),
                                project_name=projects.get(task.project_id or ""),
                                position=place.position if place and task.status != "running" else None,
                                starts_in=place.starts_in if place else None,
                                eta=place.eta if place else None))
        return out

    def places(self, db: Session) -> dict[str, Placement]:
        """Where every waiting and running task stands (`describe`'s positions and ETAs), as `db` reads it."""
        return build_view(db, self.workers, {}, self.rates)[1]

    def hello_for(self, user: User) -> Hello:
        """The feed's first message (tasks/events.py): what a client needs on (re)connecting, `user`'s active and
        20 most recent tasks and the queue as `user` may see it.

        Kept while nothing is written to the database and the lanes' pauses stay as they were, for at most
        `HELLO_KEPT_S` (the ETAs in it count down): the sockets of one person opened at once (tabs, devices, a
        restart that reconnects them all) are answered from one reading (~0.7 ms each before; the connect rate
        of the events socket, benchmarks/README.md)."""
        paused = tuple(sorted(self.paused().items()))
        key, version, now = (user.id, user.is_admin, paused), self.db.version(), time.monotonic()
        kept = self._hellos.get(key, version)
        if kept is not None and now - kept[0] < HELLO_KEPT_S:
            return kept[1]
        return self._hellos.put(key, version, (now, self._hello(user)))[1]

    def _hello(self, user: User) -> Hello:
        with self.db.session() as db:
            # A few rows, put in order here: ordered in SQLite, the planner read every task of the person in
            # order of creation rather than sort these (OWNER_ACTIVE_INDEX).
            active = sorted(db.exec(select(Task).where(col(Task.owner_id) == user.id,
                                                       col(Task.status).in_(("queued", "running", "interrupted")))
                                    ).all(), key=lambda task: (task.created_at, task.id))
            recent = db.exec(select(Task).where(col(Task.owner_id) == user.id,
                                                col(Task.status).in_(("succeeded", "failed", "cancelled")))
                             .order_by(col(Task.finished_at).desc()).limit(20)).all()
        tasks = self.describe([*active, *recent])
        queue = view_for(Subscriber(user.id, set(), user.is_admin), {"type": "queue.changed", **self.queue_state()})
        return Hello(user_id=user.id, tasks=tasks, queue=QueueSnapshot.model_validate(queue))

    # -- writing ------------------------------------------------------------------------------------
    def new(self, db: Session, actor: User, kind: str, params: dict[str, Any], project_id: str | None, *,
            system: bool = False, checked: tuple[str, str] | None = None) -> Task:
        """Check and record a task in `db` (see service.new_task); `submit` it once `db` has committed.
        `checked`: the caller has just checked `actor`'s right to start this kind in the project, which is
        (workspace id, name): not checked again."""
        scope: ProjectScope = (lambda *_: checked) if checked is not None else self.scope
        # Its params go to this process's worker as they were checked (`Runner.hand`) only where this process's
        # workers take the lanes' tasks: with Redis, workers elsewhere may, and a task they run would leave its
        # params here until pushed out.
        hand = None if self.settings.queue_url else self.runner.hand
        return new_task(db, self.settings, self.kinds, scope, actor, kind, params, project_id, system=system,
                        hand=hand)

    def submit(self, task: Task) -> None:
        """After the task's row is committed: announce it, then put it on its lane (in that order)."""
        self.runner.publish(TaskQueued, task)
        self.queue.enqueue(task)

    def cancel(self, task: Task, what: str) -> None:
        """After request_cancel committed: revoke a waiting task, or wake a running one at once."""
        if what in ("revoked", "ended"):
            self.queue.revoke(task)
            self.runner.unhand(task.id)  # it will not run: its checked params are not kept for it
            self.runner.publish(TaskCancelled, task)
        elif what == "stopping":
            self.runner.cancel_local(task.id)
            self.runner.publish(TaskProgress, task)

    def force_stopped(self, task: Task) -> None:
        """After force_stop committed: announce it, wake the task if it listens, and while its worker thread is
        still inside a step, let a stand-in worker serve its lane (only for a task running in this process: a
        `mediastudio worker` elsewhere frees its thread when the step returns)."""
        self.runner.publish(TaskCancelled, task)
        if self.runner.cancel_local(task.id):
            self.runner.abandon(task.id)
            self.queue.stand_in(task.lane, lambda: self.runner.still_running(task.id))

    def set_paused(self, paused: bool, lanes: tuple[str, ...]) -> None:
        self.queue.set_paused(paused, lanes)
        self.events.publish(QueuePaused(lanes=list(lanes), paused=paused))


def _state(lanes: dict[str, LaneView], places: dict[str, Placement]) -> dict[str, Any]:
    tasks = []
    for view in lanes.values():
        for task in [*view.running, *view.queued]:
            place = places.get(task.id)
            tasks.append({"id": task.id, "owner_id": task.owner_id, "lane": task.lane, "status": task.status,
                          "position": place.position if place else None,
                          "starts_in_seconds": place.starts_in if place else None,
                          "eta_seconds": place.eta if place else None,
                          "progress": task.progress})
    return {"lanes": [{"name": v.name, "workers": v.workers, "paused": v.paused, "running": len(v.running),
                       "queued": len(v.queued), "backlog_seconds": v.backlog_seconds} for v in lanes.values()],
            "tasks": tasks}


TasksDep = NamedDependency[TaskSystem]
