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


def test_a_lanes_queue_storage_does_not_flush_to_disk_on_each_enqueue_and_take(tmp_path: Path) -> None:
    """Each run puts a message on its lane and takes it off: two commits on the way to its start. The queue file
    is in WAL mode with synchronous NORMAL, as the studio's database is: a killed process loses nothing; after a
    power loss the tasks' rows (the truth) re-send any message lost (TaskQueue.recover)."""
    queue, db = _queue(tmp_path)
    for lane in queue.lanes.values():
        connection = lane.storage.conn
        assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert connection.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL: no fsync per commit
        lane.storage.close()
    db.close()


def test_an_idle_sqlite_lane_is_looked_at_a_few_times_a_second_not_every_few_milliseconds(tmp_path: Path) -> None:
    """Only this process puts messages on its SQLite lanes, and each rings the doorbell: looking at an idle lane
    is a safety net, not how a task is found, so it starts at 0.1 s apart (0.01 s before: some twenty looks, each
    a query under the storage's lock, in the second after every task)."""
    import time

    queue, db = _queue(tmp_path)
    storage = queue.lanes["gpu"].storage
    looks: list[str] = []
    storage.conn.set_trace_callback(lambda sql: looks.append(sql) if sql.startswith("select 1 from task") else None)
    queue.start({"gpu": 1})
    deadline = time.monotonic() + 30
    while not looks and time.monotonic() < deadline:  # the worker's first look: it has started
        time.sleep(0.01)
    assert looks, "the lane's worker never looked at its queue"
    looks.clear()
    time.sleep(1.0)  # a count of looks, never compared with a time: a loaded machine only makes fewer
    counted = len(looks)
    queue.stop(timeout=5)
    assert counted <= 12, counted
    db.close()
