"""`WS /api/v1/events`: the caller's events as JSON text messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from mediastudio.auth.identity import Identity, current_identity
from mediastudio.auth.tables import User
from mediastudio.db import Database, DatabaseDep
from mediastudio.events.bus import EventsDep, Subscriber
from mediastudio.settings import SettingsDep
from mediastudio.tasks.system import TasksDep

log = logging.getLogger("mediastudio")


def _rights(database: Database, identity: Identity) -> tuple[bool, set[str]] | None:
    """(is admin, workspace ids) of the caller now, or None when their session or token no longer holds."""
    from mediastudio.auth.identity import current_user

    with database.session() as db:
        user = current_user(db, identity)
    return None if user is None else (user.is_admin, _workspace_ids(database, user))


def _workspace_ids(database: Database, user: User) -> set[str]:
    """The workspaces `user` belongs to, kept until the database changes (a membership is a row): the sockets
    of one person opened at once read them once."""
    from mediastudio.workspaces.service import list_for_user

    def read() -> frozenset[str]:
        with database.session() as db:
            return frozenset(w.id for w, _ in list_for_user(db, user))

    return set(database.reads("socket-workspaces", size=4096).get_or_compute(user.id, read))


@websocket("/api/v1/events")
async def events(socket: WebSocket, database: DatabaseDep, settings: SettingsDep, bus: EventsDep,
                 tasks: TasksDep) -> None:
    """Project, asset and task events of the caller's workspaces, as they happen.

    The first message, `hello`, carries the caller's active and recent tasks and the queue as they are now.
    Who hears what follows the caller's rights as they change: a workspace left is no longer heard, a
    revoked token or ended session closes the socket (4401).
    """
    identity = current_identity(socket)
    if identity is None:
        await socket.accept()  # accept, then close: only a close code reaches a browser's script
        await socket.close(code=4401, reason="Log in first")
        return
    from anyio import to_thread

    checked_at = bus.live.signals
    rights = await to_thread.run_sync(_rights, database, identity)
    if rights is None:
        await socket.accept()
        await socket.close(code=4401, reason="Log in again")
        return
    await socket.accept()
    subscriber = bus.subscribe(identity.user.id, rights[1], rights[0])
    closed = asyncio.Event()

    async def recheck() -> None:
        fresh = await to_thread.run_sync(_rights, database, identity)
        if fresh is None:
            await _close_once(socket, closed, 4401, "Your session ended or your API token was revoked")
            return
        subscriber.is_admin, subscriber.workspace_ids = fresh

    from mediastudio.events.access import Connection

    connection = Connection(identity.user.id, recheck)
    bus.live.add(connection, settings.live_recheck_seconds, checked_at)
    try:
        # The current state at once, so a client that reconnects needs nothing else: its active and recent tasks.
        hello = await to_thread.run_sync(tasks.hello_for, identity.user)
        await socket.send_json(hello.model_dump(mode="json"))
        await _serve(socket, subscriber, closed)
    except OSError:
        pass  # the client left while the server was sending to it (ASGI servers raise an IOError): no error
    except Exception:
        log.exception("The events socket of user %s failed", identity.user.id)
        await _close_once(socket, closed, 1011, "Server error")
    finally:
        bus.live.discard(connection)
        bus.unsubscribe(subscriber)


async def _close_once(socket: WebSocket, closed: asyncio.Event, code: int, reason: str) -> None:
    if closed.is_set():
        return
    closed.set()
    with contextlib.suppress(Exception):  # the client may be gone already
        await socket.close(code=code, reason=reason)


async def _serve(socket: WebSocket, subscriber: Subscriber, closed: asyncio.Event) -> None:
    async def relay() -> None:
        while True:
            text = await subscriber.queue.get()  # JSON already: encoded once for every socket that sees it
            if closed.is_set():
                return
            await socket.send_text(text)

    sender = asyncio.create_task(relay())
    try:
        with contextlib.suppress(WebSocketDisconnect):
            while not closed.is_set():  # a handler that only sends never notices a closed client: keep receiving
                await socket.receive_data(mode="text")
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
