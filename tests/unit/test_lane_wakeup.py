"""A lane's worker takes a task enqueued in this process without waiting for its next poll, even when the task
arrives while the worker is not yet waiting (between finding the queue empty and going to sleep)."""

import threading
from pathlib import Path

from mediastudio.db import Database
from mediastudio.events.bus import EventBus
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.tables import open_database
from mediastudio.tasks.kinds import KindRegistry
from mediastudio.tasks.queue import LaneConsumer, TaskQueue
from mediastudio.tasks.runner import Runner
from mediastudio.tasks.tables import Task


def _queue(tmp_path: Path) -> tuple[TaskQueue, Database]:
    settings = Settings(data_dir=tmp_path)
    db = open_database(tmp_path / "studio.sqlite")
    runner = Runner(settings, db, BlobStore(tmp_path / "blobs"), EventBus(), KindRegistry())
    return TaskQueue(settings, runner), db


def test_a_task_enqueued_while_the_worker_is_between_its_look_and_its_sleep_ends_that_sleep(tmp_path: Path) -> None:
    queue, db = _queue(tmp_path)
    consumer = LaneConsumer(queue.lanes["gpu"], queue.doorbells["gpu"], workers=1, periodic=False,
                            initial_delay=0.01, max_delay=60.0, backoff=1.15, worker_type="thread")
    worker = consumer._create_worker()
    worker.delay = 60.0  # long idle: the next poll is a minute away
    assert queue.lanes["gpu"].dequeue() is None  # the worker looked: nothing waiting
    # ... and before it sleeps, a request of this process queues a task (rings the doorbell)
    queue.enqueue(Task(id="t_now", kind="noop", lane="gpu", title="t", owner_id="u", priority=0))
    slept = threading.Event()
    sleeper = threading.Thread(target=lambda: (worker.sleep(), slept.set()), daemon=True)
    sleeper.start()
    # The ring was not lost: the sleep ends at once instead of after a minute (10 s: any machine, however loaded).
    assert slept.wait(10), "the doorbell rung before the worker slept was lost: the task waits for the next poll"
    assert worker.delay == worker.default_delay
    assert queue.lanes["gpu"].dequeue() is not None
    for huey in queue.lanes.values():
        huey.storage.close()
    db.close()


def test_a_lanes_queue_storage_does_not_flush_to_disk_on_each_commit(tmp_path: Path) -> None:
    """The queue file (a lane paused or not) is in WAL mode with synchronous NORMAL, as the studio's database is:
    a killed process loses nothing it committed."""
    queue, db = _queue(tmp_path)
    for lane in queue.lanes.values():
        connection = lane.storage.conn
        assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert connection.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL: no fsync per commit
        lane.storage.close()
    db.close()


def test_an_idle_lane_is_looked_at_in_memory_and_its_paused_state_read_a_few_times_a_second(tmp_path: Path) -> None:
    """Only this process puts messages on its SQLite lanes, and each rings the doorbell: looking at an idle lane
    is a safety net, not how a task is found. The look is in memory; the file is read only for whether the lane
    is paused, at most every 0.25 s (a query under the storage's lock each time the worker looked, once)."""
    import time

    queue, db = _queue(tmp_path)
    storage = queue.lanes["gpu"].storage
    statements: list[str] = []
    storage.conn.set_trace_callback(statements.append)
    queue.start({"gpu": 1})
    time.sleep(0.5)  # the worker has started and looked
    statements.clear()
    time.sleep(1.0)  # a count of statements, never compared with a time: a loaded machine only makes fewer
    counted = list(statements)
    queue.stop(timeout=5)
    assert len(counted) <= 6, counted
    assert not [sql for sql in counted if " task " in sql], counted
    db.close()


def test_messages_are_handed_over_in_memory_in_hueys_order_and_a_revoked_one_leaves(tmp_path: Path) -> None:
    """A message never reaches the queue file (neither put nor taken: no commit on the way to a task's start);
    the lane serves higher priority first, then first put, as Huey's SQLite queue did; a cancelled waiting task's
    message leaves the lane."""
    queue, db = _queue(tmp_path)
    lane = queue.lanes["gpu"]
    statements: list[str] = []
    lane.storage.conn.set_trace_callback(statements.append)
    for task_id, priority in [("t_a", 0), ("t_b", -1), ("t_c", 0), ("t_d", -1), ("t_e", 0)]:
        queue.enqueue(Task(id=task_id, kind="noop", lane="gpu", title="t", owner_id="u", priority=priority))
    queue.revoke(Task(id="t_c", kind="noop", lane="gpu", title="t", owner_id="u"))
    assert queue.pending_ids("gpu") == {"t_a", "t_b", "t_d", "t_e"}
    taken = []
    while (message := lane.storage.dequeue()) is not None:
        taken.append(lane.deserialize_task(message).id)
    assert taken == ["t_a", "t_e", "t_b", "t_d"]
    assert not [sql for sql in statements if " task " in sql or "kv" in sql], statements
    for huey in queue.lanes.values():
        huey.storage.close()
    db.close()


def test_a_stop_does_not_wait_for_a_thread_an_administrator_force_stopped(tmp_path: Path) -> None:
    """A force-stopped task is ended and recorded; its thread, stuck inside a step, is left there. A stop of the
    process waits for the tasks still running (they stop at their next step), not for that thread: it waited out
    the whole stop timeout on it before."""
    import time

    from pydantic import BaseModel

    from mediastudio.tasks.system import TaskSystem

    class NoParams(BaseModel):
        pass

    class Stuck:
        seconds = 8.0

    def stuck(ctx: object, params: object) -> dict[str, object]:
        time.sleep(Stuck.seconds)  # a step that never looks at the cancel token (a long CPU step)
        return {}

    settings = Settings(data_dir=tmp_path)
    db = open_database(tmp_path / "studio.sqlite")
    kinds = KindRegistry()
    kinds.add("test.stuck", stuck, lane="gpu", params=NoParams, title=lambda _: "Stuck", needs="none", project=False)
    system = TaskSystem(settings, db, BlobStore(tmp_path / "blobs"), EventBus(), kinds, scope=lambda *_: None)
    queue, runner = system.queue, system.runner

    def start(task_id: str) -> Task:
        task = Task(id=task_id, kind="test.stuck", lane="gpu", title="t", owner_id="u", priority=0)
        with db.transaction() as session:
            session.add(Task(id=task_id, kind="test.stuck", lane="gpu", title="t", owner_id="u"))
        queue.enqueue(task)
        deadline = time.monotonic() + 10
        while not runner.still_running(task_id):
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.01)
        return task

    queue.start({"gpu": 1})
    task = start("t_stuck")
    system.force_stopped(task)  # what POST /tasks/{id}/force-stop does once the row says cancelled
    began = time.monotonic()
    queue.stop(timeout=10)
    took = time.monotonic() - began
    assert runner.still_running("t_stuck")  # left inside its step
    assert took < 4, f"the stop waited {took:.1f} s for a force-stopped thread"

    # A task still running (not force-stopped) is waited for, up to the timeout.
    Stuck.seconds = 3.0
    second = TaskSystem(settings, db, BlobStore(tmp_path / "blobs"), EventBus(), kinds, scope=lambda *_: None)
    queue, runner = second.queue, second.runner
    queue.start({"gpu": 1})
    start("t_running")
    began = time.monotonic()
    queue.stop(timeout=1.5)
    assert time.monotonic() - began >= 1.4
    db.close()
