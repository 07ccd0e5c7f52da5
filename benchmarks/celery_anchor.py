"""The anchor of the tasks section: the same trivial task on Celery with a real Redis (broker and results).

A worker runs it with `celery -A benchmarks.celery_anchor worker`; the broker is read from BENCH_REDIS_URL.
"""

from __future__ import annotations

import os

from celery import Celery

REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
app = Celery("bench", broker=REDIS, backend=REDIS)
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                worker_prefetch_multiplier=4, broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)


@app.task(name="bench.noop")
def noop(steps: int = 0) -> dict[str, int]:
    """What `test.sleep_cpu` does with 0 steps: nothing, and a small result."""
    return {"steps": steps}
