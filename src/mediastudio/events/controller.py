"""`WS /api/v1/events`: the caller's events as JSON text messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from mediastudio.auth.identity import current_identity

log = logging.getLogger("mediastudio")


def tasks_snapshot(studio, user) -> dict:  # type: ignore[no-untyped-def]
    """The `hello` message (tasks/events.py) for `user`, as JSON."""
    from sqlmodel import col, select

    from mediastudio.events.bus import Subscriber, view_for
    from mediastudio.tasks.events import Hello, QueueSnapshot
    from mediastudio.tasks.tables import Task

    with studio.db.session() as db:
        active = db.exec(select(Task).where(col(Task.owner_id) == user.id,
                                            col(Task.status).in_(("queued", "running", "interrupted")))
                         .order_by(col(Task.created_at))).all()
        recent = db.exec(select(Task).where(col(Task.owner_id) == user.id,
                                            col(Task.status).in_(("succeeded", "failed", "cancelled")))
                         .order_by(col(Task.finished_at).desc()).limit(20)).all()
    tasks = studio.tasks.describe([*active, *recent])
    queue = view_for(Subscriber(user.id, set(), user.is_admin), {"type": "queue.changed", **studio.tasks.queue_state()})
    return Hello(user_id=user.id, tasks=tasks, queue=QueueSnapshot.model_validate(queue)).model_dump(mode="json")


def _rights(studio, identity) -> tuple[bool, set[str]] | None:  # type: ignore[no-untyped-def]
    """(is admin, workspace ids) of the caller now, or None when their session or token no longer holds."""
    from mediastudio.events.access import current_user
    from mediastudio.workspaces.service import list_for_user

    with studio.db.session() as db:
        user = current_user(db, identity)
        return None if user is None else (user.is_admin, {w.id for w, _ in list_for_user(db, user)})


@websocket("/api/v1/events")
async def events(socket: WebSocket) -> None:
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
    studio = socket.app.state.studio
    from anyio import to_thread

    checked_at = studio.events.live.signals
    rights = await to_thread.run_sync(_rights, studio, identity)
    if rights is None:
        await socket.accept()
        await socket.close(code=4401, reason="Log in again")
        return
    await socket.accept()
    subscriber = studio.events.subscribe(identity.user.id, rights[1], rights[0])
    closed = asyncio.Event()

    async def recheck() -> None:
        fresh = await to_thread.run_sync(_rights, studio, identity)
        if fresh is None:
            await _close_once(socket, closed, 4401, "Your session ended or your API token was revoked")
            return
        subscriber.is_admin, subscriber.workspace_ids = fresh

    from mediastudio.events.access import Connection

    connection = Connection(identity.user.id, recheck)
    studio.events.live.add(connection, studio.settings.live_recheck_seconds, checked_at)
    try:
        # The current state at once, so a client that reconnects needs nothing else: its active and recent tasks.
        hello = await to_thread.run_sync(tasks_snapshot, studio, identity.user)
        await socket.send_json(hello)
        await _serve(socket, subscriber, closed)
    except Exception:
        log.exception("The events socket of user %s failed", identity.user.id)
        await _close_once(socket, closed, 1011, "Server error")
    finally:
        studio.events.live.discard(connection)
        studio.events.unsubscribe(subscriber)


async def _close_once(socket: WebSocket, closed: asyncio.Event, code: int, reason: str) -> None:
    if closed.is_set():
        return
    closed.set()
    with contextlib.suppress(Exception):  # the client may be gone already
        await socket.close(code=code, reason=reason)


async def _serve(socket: WebSocket, subscriber, closed: asyncio.Event) -> None:  # type: ignore[no-untyped-def]
    async def relay() -> None:
        while True:
            event = await subscriber.queue.get()
            if closed.is_set():
                return
            await socket.send_json(event)

    sender = asyncio.create_task(relay())
    try:
        with contextlib.suppress(WebSocketDisconnect):
            while not closed.is_set():  # a handler that only sends never notices a closed client: keep receiving
                await socket.receive_data(mode="text")
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
