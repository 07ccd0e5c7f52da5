"""Rounds of live sockets opened and closed leave nothing behind in the server: no event-bus subscriber, no
watched connection, no room, no presence room, no task, no per-connection object. The app runs in this process
on a real uvicorn (so its registries can be read), the clients are real WebSockets, some closing cleanly and
some dropping the TCP connection without a close frame, as a browser tab that is killed does."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import websockets
from pycrdt import Doc, create_sync_message

from mediastudio.app import create_app
from mediastudio.settings import Settings
from support import free_port, run_async, set_up_admin, wait_until

ROUNDS = 3
EVENTS_PER_ROUND = 40
SCENE_PER_ROUND = 12
PRESENCE_PER_ROUND = 6


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, uvicorn.Server, str]]:
    port = free_port()
    app = create_app(Settings(data_dir=tmp_path / "data", host="127.0.0.1", port=port, probe_gpu=False,
                              rate_limit_user_per_minute=1_000_000, rate_limit_ip_per_minute=1_000_000))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=30, interval=0.05, message="uvicorn to start")
    yield app, server, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)


def _live_objects(before: set[int] | None = None) -> tuple[dict[str, int], list[str]]:
    """How many of the sockets' objects are alive, leaving out those alive `before` (another studio of this test
    process, e.g. an earlier test's, is not this one's leak), and what holds the ones found."""
    from mediastudio.collab.room import Member
    from mediastudio.events.access import Connection
    from mediastudio.events.bus import Subscriber

    gc.collect()
    counts = {"Subscriber": 0, "Member": 0, "Connection": 0}
    holders: list[str] = []
    for thing in gc.get_objects():
        for kind in (Subscriber, Member, Connection):
            if type(thing) is kind and id(thing) not in (before or set()):
                counts[kind.__name__] += 1
                holders += sorted({type(r).__name__ for r in gc.get_referrers(thing)} - {"list"})[:5]
    return counts, holders


async def _round(base: str, headers: dict[str, str], project_id: str, scene_id: str) -> None:
    async def events(index: int) -> None:
        socket = await websockets.connect(f"{base}/api/v1/events", additional_headers=headers)
        await socket.recv()  # hello: admitted and subscribed
        await _leave(socket, index)

    async def scene(index: int) -> None:
        socket = await websockets.connect(f"{base}/api/v1/projects/{project_id}/scenes/{scene_id}/sync",
                                          additional_headers=headers)
        await socket.send(create_sync_message(Doc()))
        await socket.recv()  # the server's step 1: joined the room
        await _leave(socket, index)

    async def presence(index: int) -> None:
        socket = await websockets.connect(f"{base}/api/v1/projects/{project_id}/presence", additional_headers=headers)
        await socket.recv()
        await _leave(socket, index)

    await asyncio.gather(*(events(i) for i in range(EVENTS_PER_ROUND)),
                         *(scene(i) for i in range(SCENE_PER_ROUND)),
                         *(presence(i) for i in range(PRESENCE_PER_ROUND)))


async def _leave(socket: Any, index: int) -> None:
    if index % 2:
        await socket.close()
    else:  # gone without a word: the TCP connection dropped
        socket.transport.abort()


def test_rounds_of_sockets_leave_no_subscriber_room_task_or_connection_behind(
        served: tuple[Any, uvicorn.Server, str], caplog: pytest.LogCaptureFixture) -> None:
    """A client leaving, even in the middle of the server sending to it, is no server error: nothing is logged
    (a logged traceback also kept the connection's objects alive for as long as the record lived)."""
    app, _server, url = served
    studio = app.state.studio
    admin = set_up_admin(url)
    project = admin.post("/api/v1/projects", json={"name": "Leaks"}).json()
    scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in admin.cookies.items())}
    base = url.replace("http://", "ws://")
    loop = studio.events.loop

    def registries() -> dict[str, int]:
        async def read() -> dict[str, int]:
            return {"subscribers": len(studio.events.subscribers), "watched": len(studio.events.live.connections),
                    "rechecks": len(studio.events.live._pending), "rooms": len(studio.rooms.live),
                    "presence rooms": len(studio.rooms.presence), "tasks": len(asyncio.all_tasks())}

        return asyncio.run_coroutine_threadsafe(read(), loop).result(10)

    idle = registries()
    alive_before = {id(o) for o in gc.get_objects()
                    if type(o).__name__ in ("Subscriber", "Member", "Connection")}
    for _ in range(ROUNDS):
        run_async(_round(base, headers, project["id"], scene["id"]))
    empty = {**idle, "subscribers": 0, "watched": 0, "rechecks": 0, "rooms": 0, "presence rooms": 0}
    deadline = time.monotonic() + 20  # the server notices a dropped TCP connection on its next read
    while registries() != empty and time.monotonic() < deadline:
        time.sleep(0.2)
    assert registries() == empty
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    counts, holders = _live_objects(alive_before)
    assert counts == {"Subscriber": 0, "Member": 0, "Connection": 0}, holders
