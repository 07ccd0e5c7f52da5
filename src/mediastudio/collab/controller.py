"""The live WebSockets: a scene's document (`…/sync`, y-websocket protocol) and project presence."""

from __future__ import annotations

import contextlib

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from mediastudio.auth.identity import current_identity
from mediastudio.errors import MediastudioError
from mediastudio.projects.access import require
from mediastudio.workspaces.roles import project_allows


class SocketPeer:
    def __init__(self, socket: WebSocket) -> None:
        self.socket = socket

    async def send(self, data: bytes) -> None:
        await self.socket.send_bytes(data)

    async def close(self, code: int, reason: str) -> None:
        await self.socket.close(code=code, reason=reason)


async def _admit(socket: WebSocket, project_id: str):  # type: ignore[no-untyped-def]
    """The project and a Member for this socket, or None after closing it (4401 / 4404)."""
    identity = current_identity(socket)
    if identity is None:
        await socket.accept()  # accept, then close: only a close code reaches a browser's script
        await socket.close(code=4401, reason="Log in first")
        return None
    studio = socket.app.state.studio
    try:
        with studio.db.session() as db:
            project, role = require(db, identity.user, project_id, "view")
    except MediastudioError as exc:
        await socket.accept()
        await socket.close(code=4000 + exc.status, reason=exc.detail[:120])
        return None
    from mediastudio.collab.room import Member  # pycrdt loads on the first live connection

    offered = socket.scope.get("subprotocols") or []
    await socket.accept(subprotocols=offered[0] if offered else None)
    user = {"id": identity.user.id, "name": identity.user.display_name, "color": identity.user.color}
    return project, Member(peer=SocketPeer(socket), user=user, can_write=project_allows(role, "edit"))


async def _pump(socket: WebSocket, handle) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await socket.receive_data(mode="binary")
            await handle(message if isinstance(message, bytes) else message.encode())


@websocket("/api/v1/projects/{project_id:str}/scenes/{scene_id:str}/sync")
async def scene_sync(socket: WebSocket, project_id: FromPath[str], scene_id: FromPath[str]) -> None:
    """The scene's Yjs document: sync + awareness (y-websocket protocol). Viewers receive, never write."""
    admitted = await _admit(socket, project_id)
    if admitted is None:
        return
    project, member = admitted
    rooms = socket.app.state.studio.rooms
    try:
        live = await rooms.open(project, scene_id)
    except MediastudioError as exc:
        await socket.close(code=4000 + exc.status, reason=exc.detail[:120])
        return
    await rooms.join(live, member)
    try:
        await _pump(socket, lambda message: rooms.receive(live, member, message))
    finally:
        await rooms.leave(live, member)


@websocket("/api/v1/projects/{project_id:str}/presence")
async def project_presence(socket: WebSocket, project_id: FromPath[str]) -> None:
    """Awareness only: who is in the project and where (panel, scene, asset)."""
    admitted = await _admit(socket, project_id)
    if admitted is None:
        return
    project, member = admitted
    member.can_write = False  # there is no document here, only presence
    from pycrdt import Doc

    from mediastudio.collab.room import Room

    presence = socket.app.state.studio.presence
    room = presence.setdefault(project.id, Room(f"presence:{project.id}", Doc(), None, 0))  # type: ignore[arg-type]
    await room.join(member)
    try:
        await _pump(socket, lambda message: room.receive(member, message))
    finally:
        await room.leave(member)
        if not room.members:
            presence.pop(project.id, None)
