"""`WS /api/v1/events`: the caller's events as JSON text messages."""

from __future__ import annotations

import asyncio
import contextlib

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from mediastudio.auth.identity import current_identity


def tasks_snapshot(studio, user) -> dict:  # type: ignore[no-untyped-def]
    from sqlmodel import col, select

    from mediastudio.events.bus import Subscriber, view_for
    from mediastudio.tasks.models import Task

    with studio.db.session() as db:
        active = db.exec(select(Task).where(col(Task.owner_id) == user.id,
                                            col(Task.status).in_(("queued", "running", "interrupted")))
                         .order_by(col(Task.created_at))).all()
        recent = db.exec(select(Task).where(col(Task.owner_id) == user.id,
                                            col(Task.status).in_(("succeeded", "failed", "cancelled")))
                         .order_by(col(Task.finished_at).desc()).limit(20)).all()
    tasks = [t.model_dump(mode="json") for t in studio.tasks.describe([*active, *recent])]
    queue = view_for(Subscriber(user.id, set(), user.is_admin), {"type": "queue.changed", **studio.tasks.queue_state()})
    return {"tasks": tasks, "queue": queue}


@websocket("/api/v1/events")
async def events(socket: WebSocket) -> None:
    """Project, asset and task events of the caller's workspaces, as they happen.

    The first message, `hello`, carries the caller's active and recent tasks and the queue as they are now.
    """
    identity = current_identity(socket)
    if identity is None:
        await socket.accept()  # accept, then close: only a close code reaches a browser's script
        await socket.close(code=4401, reason="Log in first")
        return
    studio = socket.app.state.studio
    from mediastudio.workspaces.service import list_for_user

    with studio.db.session() as db:
        workspace_ids = {w.id for w, _ in list_for_user(db, identity.user)}
    await socket.accept()
    subscriber = studio.events.subscribe(identity.user.id, workspace_ids, identity.user.is_admin)
    # The current state at once, so a client that reconnects needs nothing else: its active and recent tasks.
    from anyio import to_thread

    snapshot = await to_thread.run_sync(tasks_snapshot, studio, identity.user)
    await socket.send_json({"type": "hello", "version": 1, "user_id": identity.user.id, **snapshot})

    async def relay() -> None:
        while True:
            event = await subscriber.queue.get()
            await socket.send_json(event)

    sender = asyncio.create_task(relay())
    try:
        with contextlib.suppress(WebSocketDisconnect):
            while True:  # a handler that only sends never notices a closed client: keep receiving
                await socket.receive_data(mode="text")
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        studio.events.unsubscribe(subscriber)
