"""The lanes: one Huey per lane (`gpu`: one worker per GPU, `cpu`: a few threads) and their consumers.

By default a lane's messages are handed to this process's workers in memory (only the server consumes them),
and its state (paused or not) lives in `data_dir/queue.sqlite`; with `queue_url = redis://…` the same code runs
on PriorityRedisHuey (plain RedisHuey ignores priority) and `mediastudio worker` can consume elsewhere.
A Huey message carries only a task id; the task row in the studio database is the truth.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from huey import PriorityRedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer, Worker
from huey.storage import SqliteStorage
from sqlmodel import col, select

from mediastudio.settings import Settings
from mediastudio.tasks.kinds import LANES, Lane
from mediastudio.tasks.runner import Runner
from mediastudio.tasks.tables import Task

log = logging.getLogger("mediastudio")
logging.getLogger("huey").setLevel(logging.WARNING)  # its start banner repeats what we log in one line
PAUSE_KEY = "mediastudio:paused"
PAUSE_CACHE_SECONDS = 0.25
IDLE_EXIT_SECONDS = 2.0  # a stop's wait for the lanes' idle workers (woken by their doorbell, they end at once)


class _Pausable(Huey):
    """Mixin for a Huey: while the lane is paused its workers take nothing new off the queue."""

    _paused_at = 0.0
    _paused = False

    def dequeue(self) -> Any:  # huey has no type hints: its message, or None
        if self.is_paused():
            return None
        return super().dequeue()

    def is_paused(self, fresh: bool = False) -> bool:
        now = time.monotonic()
        if fresh or now - self._paused_at > PAUSE_CACHE_SECONDS:
            self._paused = self.storage.peek_data(PAUSE_KEY) == b"1"
            self._paused_at = now
        return self._paused

    def set_paused(self, paused: bool) -> None:
        if paused:
            self.storage.put_data(PAUSE_KEY, b"1")
        else:
            self.storage.pop_data(PAUSE_KEY)
        self._paused, self._paused_at = paused, time.monotonic()


class LaneStorage(SqliteStorage):
    """A lane whose messages only this process puts and takes: they are handed over in memory (a heap in Huey's
    order: higher priority first, then first put), never written to the queue file. A message is a copy of what
    the task's row says (its id, its priority), and the row is the truth: a process that stops or is killed
    loses its messages, and on start `TaskQueue.recover` puts back every waiting task's (the rows say which).
    Only what must outlive the process lives in the file (the lane paused or not, revocations), in WAL mode
    with synchronous NORMAL, as the studio's database."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: list[tuple[int, int, bytes]] = []
        self._order = itertools.count()
        self._waiting_lock = threading.Lock()
        super().flush_queue()  # messages an older version left in the file: recover() puts them back

    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn

    def enqueue(self, data: bytes, priority: int | None = None) -> None:
        with self._waiting_lock:
            heapq.heappush(self._waiting, (-(priority or 0), next(self._order), data))

    def dequeue(self) -> bytes | None:
        with self._waiting_lock:
            return heapq.heappop(self._waiting)[2] if self._waiting else None

    def queue_size(self) -> int:
        with self._waiting_lock:
            return len(self._waiting)

    def enqueued_items(self, limit: int | None = None) -> list[bytes]:
        with self._waiting_lock:
            items = [data for _, _, data in sorted(self._waiting)]
        return items[:limit] if limit else items

    def flush_queue(self) -> None:
        with self._waiting_lock:
            self._waiting.clear()

    def drop(self, wanted: Callable[[bytes], bool]) -> None:
        """Take the messages `wanted` says of off the lane."""
        with self._waiting_lock:
            self._waiting = [item for item in self._waiting if not wanted(item[2])]
            heapq.heapify(self._waiting)


class SqliteLane(_Pausable, SqliteHuey):
    storage_class = LaneStorage

    def revoke_by_id(self, id: str, revoke_until: Any = None, revoke_once: bool = False) -> None:
        """A waiting task's message leaves the lane (nothing to remember: the lane is in memory)."""
        self.storage.drop(lambda data: self.deserialize_task(data).id == id)

    def is_revoked(self, task: Any, timestamp: Any = None, peek: bool = True) -> bool:
        return False  # a revoked message is no longer on the lane (`revoke_by_id`): no look at the file per task

    def delete(self, key: str) -> bool:
        """Huey clears a task's revocation after running it: nothing of the kind is kept here (`revoke_by_id`),
        so the lane's worker goes on to its next message without a transaction on the queue file per task."""
        if key.startswith("r:"):
            return False
        return bool(super().delete(key))


class RedisLane(_Pausable, PriorityRedisHuey):
    pass


class Doorbell:
    """Rung by this process each time it enqueues on a lane: a worker of the lane that looked at the queue since
    the last ring goes on at once instead of sleeping until its next poll. The rings are counted, so one that
    comes while a worker is between its look (an empty queue) and its sleep is not lost."""

    def __init__(self) -> None:
        self.rings = 0
        self._changed = threading.Condition()

    def ring(self) -> None:
        with self._changed:
            self.rings += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Sleep up to `timeout` unless rung since the count `seen`; whether it was rung."""
        with self._changed:
            return self._changed.wait_for(lambda: self.rings != seen, timeout)


class LaneWorker(Worker):
    """A worker whose idle wait ends as soon as this process enqueues a task (no polling delay)."""

    doorbell: Doorbell
    delay: float  # set by Worker.__init__
    _seen = 0  # the doorbell's count when the worker last looked at the queue

    def loop(self, now: Any = None) -> None:
        self._seen = self.doorbell.rings  # before the look: a ring from here on ends the sleep that may follow
        super().loop(now)

    def sleep(self) -> None:
        if self.delay > self.max_delay:
            self.delay = self.max_delay
        rung = self.doorbell.wait(self._seen, self.delay)
        self._seen = self.doorbell.rings
        self.delay = self.default_delay if rung else self.delay * self.backoff


class LaneConsumer(Consumer):
    """Huey's consumer without its signal handlers: they would steal uvicorn's SIGINT/SIGTERM."""

    def __init__(self, huey: Huey, doorbell: Doorbell, **options: Any) -> None:
        self.worker_class = type("BoundLaneWorker", (LaneWorker,), {"doorbell": doorbell})
        super().__init__(huey, **options)

    def _set_signal_handlers(self) -> None:
        pass


def make_lane(settings: Settings, lane: Lane) -> _Pausable:
    name = f"mediastudio-{lane}"
    if settings.queue_url:
        # Polling, not BZPOPMIN: a worker blocked in a pop would take a task after an admin paused the lane.
        return RedisLane(name, url=settings.queue_url, results=False, blocking=False)
    return SqliteLane(name, filename=str(settings.data_dir / "queue.sqlite"), results=False)


class TaskQueue:
    def __init__(self, settings: Settings, runner: Runner) -> None:
        self.settings = settings
        self.runner = runner
        runner.requeue = self.enqueue
        self.lanes: dict[str, _Pausable] = {lane: make_lane(settings, lane) for lane in LANES}
        self.workers = {"gpu": settings.gpu_workers, "cpu": settings.cpu_workers}
        # The consumer finds `run` in each lane's registry; producers build its messages from the wrapper.
        self.wrappers = {lane: huey.task(name="run")(self._run) for lane, huey in self.lanes.items()}
        self.consumers: list[LaneConsumer] = []
        self.doorbells = {lane: Doorbell() for lane in self.lanes}

    def _run(self, task_id: str) -> None:
        self.runner.execute(task_id)

    # -- producing --------------------------------------------------------------------------------
    def enqueue(self, task: Task) -> None:
        wrapper = self.wrappers[task.lane]
        self.lanes[task.lane].enqueue(wrapper.task_class(args=(task.id,), id=task.id, priority=task.priority))
        self.doorbells[task.lane].ring()

    def revoke(self, task: Task) -> None:
        self.lanes[task.lane].revoke_by_id(task.id, revoke_once=True)

    def pending_ids(self, lane: str) -> set[str]:
        return {message.id for message in self.lanes[lane].pending()}

    # -- pausing ----------------------------------------------------------------------------------
    def paused(self, lane: str) -> bool:
        return self.lanes[lane].is_paused(fresh=True)

    def set_paused(self, paused: bool, lanes: tuple[str, ...] = LANES) -> None:
        for lane in lanes:
            self.lanes[lane].set_paused(paused)
            if not paused:
                self.doorbells[lane].ring()

    # -- consuming --------------------------------------------------------------------------------
    def start(self, workers: dict[str, int] | None = None) -> None:
        """Start consumers in this process (threads): `workers` lane → count (0 = this lane is served elsewhere)."""
        for lane, count in (workers or self.workers).items():
            if count <= 0:
                continue
            # An idle worker looks at its lane again after `initial_delay`, then less and less often (at most
            # every 0.5 s). A SQLite lane gets messages only from this process, which rings the doorbell each
            # time: looking is a safety net there. A Redis lane is also fed by other processes: looked at sooner.
            first_look = 0.01 if self.settings.queue_url else 0.1
            consumer = LaneConsumer(self.lanes[lane], self.doorbells[lane], workers=count, periodic=False,
                                    initial_delay=first_look, max_delay=0.5, backoff=1.15, worker_type="thread",
                                    check_worker_health=True)
            consumer.start()
            self.consumers.append(consumer)
        log.info("Task lanes started: %s", ", ".join(f"{lane} × {n}" for lane, n in (workers or self.workers).items()))

    def stand_in(self, lane: str, busy: Callable[[], bool]) -> None:
        """One more worker on `lane` while `busy()` (a force-stopped task's thread is still inside a step).

        It takes tasks as the lane's own workers do and ends after the task it holds once `busy()` is over, so
        the lane runs one task more than its count for at most that long."""
        consumer = next((c for c in self.consumers if c.huey is self.lanes[lane]), None)
        if consumer is None:
            return
        worker = consumer._create_worker()

        def serve() -> None:
            while busy() and not consumer.stop_flag.is_set():
                worker.loop()

        threading.Thread(target=serve, name=f"mediastudio-{lane}-stand-in", daemon=True).start()

    def stop(self, timeout: float = 10.0) -> None:
        """Running tasks stop at their next step (and run again on start); then the consumers end, within
        `timeout` in all. A thread an administrator force-stopped (its task ended and recorded) is not waited for:
        it is left inside its step and the process ends without it (the lanes' threads are daemons); before, a
        stop waited out the whole `timeout` on it."""
        deadline = time.monotonic() + timeout
        self.runner.stopping.set()
        with self.runner.lock:
            contexts = list(self.runner.active.values())
        for ctx in contexts:
            ctx.cancel_event.set()
        for consumer in self.consumers:
            consumer.stop_flag.set()  # no worker takes another task
        for doorbell in self.doorbells.values():
            doorbell.ring()  # an idle worker sees the stop now, not at its next look
        while self.runner.waited_for() and time.monotonic() < deadline:
            time.sleep(0.02)
        for consumer in self.consumers:
            left = max(0.0, deadline - time.monotonic())
            # Once the tasks waited for have ended, the threads left are idle ones (woken above) or abandoned.
            consumer.shutdown_timeout = left if self.runner.waited_for() else min(left, IDLE_EXIT_SECONDS)
            consumer.stop(graceful=True)
        self.consumers.clear()
        self.runner.drain_follow_ups(timeout)
        for huey in self.lanes.values():
            huey.storage.close()

    # -- after a crash ----------------------------------------------------------------------------
    def recover(self) -> int:
        """Tasks left `running` by a dead process of this host run again (once); lost messages are re-sent."""
        host = socket.gethostname()
        fixed = 0
        with self.runner.db.session() as db:
            running = db.exec(select(Task).where(col(Task.status) == "running")).all()
        for task in running:
            worker_host, _, pid = (task.worker or ":").rpartition(":")
            if task.worker and (worker_host != host or _alive(int(pid or 0))):
                continue
            self.runner.requeue_interrupted(task.id)
            fixed += 1
        with self.runner.db.session() as db:
            waiting = db.exec(select(Task).where(col(Task.status).in_(("queued", "interrupted")))
                              .order_by(col(Task.enqueued_at))).all()
        pending = {lane: self.pending_ids(lane) for lane in self.lanes}
        for task in waiting:
            if task.id not in pending.get(task.lane, set()):
                self.enqueue(task)
                fixed += 1
        return fixed


def _alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
