"""The interpreter's cycle collector, kept off the studio's latency.

Python's collector walks every object it tracks when it collects its oldest generation: about 180,000 objects in a
started studio and 500,000 once torch and diffusers are loaded (a model's first run), 110 and 300 ms on a small
CPU, during which no thread runs — not the event loop handing out a run's progress or a collaborator's edit, not
the request being answered. It runs whenever the objects that outlived two collections have grown by a quarter,
which a busy studio reaches again and again (63 such pauses of 25–340 ms in one quick benchmark run).

Nearly all those objects live as long as the process: modules, classes, the app, a loaded model. `settle` collects
once and moves every object alive then into the permanent generation (`gc.freeze`), which the collector never
walks: its later collections walk only what was made since. A frozen object is still freed when nothing refers to
it any more (reference counting); only a frozen *cycle* stays, until a `settle(thaw=True)` collects it. The studio
settles once started, after it imports torch and diffusers, after a model is loaded, and with a thaw after one is
unloaded (its modules may hold cycles: the GPU memory they hold is given back by that collection). While it
starts, imports those libraries or loads a model it does not collect at all (`paused`): those make hundreds of
thousands of objects that all live on, and each full collection meanwhile walked them all for nothing.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("mediastudio")
_lock = threading.Lock()
PAUSE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


_paused = 0  # how many `paused` blocks are running (the collector runs again when the last one ends)


def settle(why: str, *, thaw: bool = False) -> float:
    """Collect, then freeze what is alive (see the module's text); the seconds it took. `thaw`: the frozen objects
    are collected too (walked again: ~0.3 s with a model loaded), for when some may have become garbage (a model
    unloaded); otherwise only what was made since the last settle is walked."""
    with _lock:
        started = time.perf_counter()
        if thaw:
            gc.unfreeze()
        gc.collect()
        gc.freeze()
        took = time.perf_counter() - started
    log.debug("Settled the heap (%s) in %.0f ms: %d objects the collector no longer walks", why, took * 1000,
              gc.get_freeze_count())
    return took


@contextmanager
def paused(why: str) -> Iterator[None]:
    """No automatic collection while the block runs, then `settle`: for work that makes a great many objects
    that live on (a model's first load imports torch and diffusers: six full collections of 100–300 ms each
    while the objects grow, 0.8 s of a first run on a small CPU, for nothing to collect)."""
    global _paused
    with _lock:
        _paused += 1
        gc.disable()
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            last = _paused == 0
        settle(why)
        if last:
            gc.enable()


class Pauses:
    """The collector's pauses of its oldest generation, timed (`gc.callbacks`, in whichever thread collects) and
    kept until `drain` hands them over (GET /metrics, at a scrape: a callback never touches a metric mid-scrape)."""

    KEPT = 10_000

    def __init__(self) -> None:
        self.seconds: deque[float] = deque(maxlen=self.KEPT)
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.seconds.append(time.perf_counter() - self._started)
            self._started = None

    def drain(self) -> list[float]:
        taken = []
        while self.seconds:
            taken.append(self.seconds.popleft())
        return taken

    def install(self) -> Pauses:
        if self not in gc.callbacks:
            gc.callbacks.append(self)
        return self

    def remove(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)
