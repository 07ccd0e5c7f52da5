"""`WS /api/v1/events`: the caller's events as JSON text messages."""

from __future__ import annotations

import asyncio
import contextlib

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from mediastudio.auth.identity import current_identity


@websocket("/api/v1/events")
async def events(socket: WebSocket) -> None:
    """Project, asset and task events of the caller's workspaces, as they happen."""
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
    subscriber = studio.events.subscribe(identity.user.id, workspace_ids)
    await socket.send_json({"type": "hello", "version": 1, "user_id": identity.user.id})

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
