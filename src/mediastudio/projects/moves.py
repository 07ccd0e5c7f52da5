"""Moving a project's folder (trash, restore) while people may be editing it.

The project service runs in a worker thread; the rooms live in the server's event loop. `moving` is
the bridge: while it is held no room of the project opens, and on entry every open room of the project
has been saved, committed and closed (4410), so the move takes everything that reached the server
with it and nothing writes into the old place afterwards. The service holds the project's folder lock
around the move itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from mediastudio.errors import Conflict
from mediastudio.settings import Settings

CLOSE_TIMEOUT_S = 60.0
# The Rooms serving each data folder in this process (one per app; tests build several apps).
_serving: dict[str, Any] = {}
_guard = threading.Lock()


def _key(settings: Settings) -> str:
    return str(settings.data_dir.resolve())


def serve(settings: Settings, rooms: Any) -> None:
    with _guard:
        _serving[_key(settings)] = rooms


def unserve(settings: Settings, rooms: Any) -> None:
    with _guard:
        if _serving.get(_key(settings)) is rooms:
            del _serving[_key(settings)]


def _close_rooms(rooms: Any, project_id: str, reason: str) -> None:
    loop = rooms.loop
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:  # it would wait on itself forever
        raise RuntimeError("moving() is for worker threads, not the event loop")
    future = asyncio.run_coroutine_threadsafe(rooms.close_project(project_id, reason), loop)
    try:
        future.result(CLOSE_TIMEOUT_S)
    except TimeoutError as exc:
        future.cancel()
        raise Conflict("The project's open scenes are still being saved.", hint="Try again in a minute.") from exc


@contextlib.contextmanager
def moving(settings: Settings, project_id: str, reason: str) -> Iterator[None]:
    """Hold around moving a project's folder (from a worker thread); `reason` is what editors read."""
    with _guard:
        rooms = _serving.get(_key(settings))
        if rooms is not None:
            rooms.moving[project_id] += 1
    try:
        if rooms is not None and rooms.loop is not None and not rooms.loop.is_closed():
            _close_rooms(rooms, project_id, reason)
        yield
    finally:
        if rooms is not None:
            with _guard:
                rooms.moving[project_id] -= 1
                if rooms.moving[project_id] <= 0:
                    del rooms.moving[project_id]
