"""`mediastudio worker`: consumers for a Redis queue, in a process of their own (another machine, more GPUs).

The worker writes task rows into the studio's database and reads projects and blobs from its data
folder, so it needs that folder (the same path, e.g. a shared mount); events go over Redis pub/sub.
"""

from __future__ import annotations

import logging
import signal
import threading

from mediastudio.engine.service import Engine
from mediastudio.events.bus import EventBus
from mediastudio.events.redis_transport import RedisTransport
from mediastudio.kinds import build_kinds
from mediastudio.models.registry import ModelRegistry
from mediastudio.projects.access import task_scope
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.tables import open_database
from mediastudio.tasks.system import TaskSystem

log = logging.getLogger("mediastudio")


def run_worker(settings: Settings) -> int:
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:  %(message)s")
    if not settings.database_path.is_file():
        log.error("No studio database at %s: point --data-dir at the studio's data folder.", settings.database_path)
        return 2
    db = open_database(settings.database_path)
    transport = RedisTransport(settings.queue_url or "")
    try:
        transport.client.ping()
    except Exception as exc:
        log.error("Cannot reach the queue at %s: %s", settings.queue_url, exc)
        return 2
    blobs = BlobStore(settings.data_dir / "blobs")
    models = ModelRegistry(settings.data_dir)
    engine = Engine(settings, db, blobs, models)
    system = TaskSystem(settings, db, blobs, EventBus(transport), build_kinds(settings, engine), task_scope)
    recovered = system.queue.recover()
    if recovered:
        log.warning("Re-queued %d task(s) that a stop or crash had interrupted", recovered)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    system.queue.start()
    system.runner.start_heartbeat()
    log.info("Worker ready on %s (gpu × %d, cpu × %d); Ctrl+C stops it", settings.queue_url,
             settings.gpu_workers, settings.cpu_workers)
    done.wait()
    log.info("Stopping: running tasks stop at their next step and run again later")
    system.queue.stop()
    transport.stop()
    db.close()
    return 0
