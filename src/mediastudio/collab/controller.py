"""The live WebSockets: a scene's document (`…/sync`, y-websocket protocol) and project presence.

A socket's rights are checked when it opens and again whenever they may have changed (events/access.py):
a revoked token or ended session closes it (4401), a project no longer visible closes it (4404), and a
role lowered to viewer turns it read-only at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from mediastudio.auth.identity import Identity, current_identity
from mediastudio.collab.rooms import RoomsDep
from mediastudio.db import Database, DatabaseDep
from mediastudio.errors import MediastudioError, Unauthorized
from mediastudio.events.bus import EventBus, EventsDep
from mediastudio.projects.access import require
from mediastudio.projects.tables import Project
from mediastudio.settings import Settings, SettingsDep
from mediastudio.workspaces.roles import ProjectRole, project_allows

if TYPE_CHECKING:
    from mediastudio.collab.room import Member  # pycrdt loads on the first live connection
    from mediastudio.events.access import Connection

log = logging.getLogger("mediastudio")


class SocketPeer:
    def __init__(self, socket: WebSocket) -> None:
        self.socket = socket

    async def send(self, data: bytes) -> None:
        await self.socket.send_bytes(data)

    async def close(self, code: int, reason: str) -> None:
        await self.socket.close(code=code, reason=reason)


def _role(database: Database, identity: Identity, project_id: str) -> tuple[Project, ProjectRole]:
    """The project and the caller's role on it now; raises when they may no longer see it."""
    from mediastudio.auth.identity import current_user

    with database.session() as db:
        user = current_user(db, identity)
        if user is None:
            raise Unauthorized("Your session ended or your API token was revoked.", hint="Log in again.")
        return require(db, user, project_id, "view")


async def _admit(socket: WebSocket, project_id: str, database: Database,
                 events: EventBus) -> tuple[Project, Member] | None:
    """The project and a Member for this socket, or None after closing it (4401 / 4404)."""
    identity = current_identity(socket)
    if identity is None:
        await socket.accept()  # accept, then close: only a close code reaches a browser's script
        await socket.close(code=4401, reason="Log in first")
        return None
    from anyio import to_thread

    socket.state.checked_at = events.live.signals  # a change from here on is checked again
    try:
        project, role = await to_thread.run_sync(_role, database, identity, project_id)
    except MediastudioError as exc:
        await socket.accept()
        await socket.close(code=4000 + exc.status, reason=exc.detail[:120])
        return None
    from mediastudio.collab.room import Member  # pycrdt loads on the first live connection

    offered = socket.scope.get("subprotocols") or []
    await socket.accept(subprotocols=offered[0] if offered else None)
    user = {"id": identity.user.id, "name": identity.user.display_name, "color": identity.user.color}
    return project, Member(peer=SocketPeer(socket), user=user, can_write=project_allows(role, "edit"))


def _watch(socket: WebSocket, project_id: str, member: Member, writes: bool, database: Database, events: EventBus,
           settings: Settings) -> Connection:
    """Register the socket's re-check: close it when the caller may no longer see the project, else let
    it write only while their role allows editing."""
    from anyio import to_thread

    from mediastudio.events.access import Connection

    identity = current_identity(socket)
    assert identity is not None
    # What the answer depends on: a sweep asks once for all the sockets of one session on one project.
    key = ("scene", identity.via, identity.session.id if identity.session else None,
           identity.token.id if identity.token else None, identity.user.id, project_id)

    async def recheck() -> None:
        try:
            _, role = await events.live.shared(key, lambda: to_thread.run_sync(_role, database, identity, project_id))
        except MediastudioError as exc:
            await member.close(4000 + exc.status, exc.detail)
            return
        member.can_write = writes and project_allows(role, "edit")

    connection = Connection(identity.user.id, recheck)
    events.live.add(connection, settings.live_recheck_seconds, socket.state.checked_at)
    return connection


async def _serve(socket: WebSocket, project_id: str, member: Member, handle: Callable[[bytes], Awaitable[None]],
                 writes: bool, database: Database, events: EventBus, settings: Settings) -> None:
    """Receive until the client leaves or the server closed the socket (never read after a close: a second
    close is an ASGI error). A handler error is logged once, with its traceback, and closes with 1011."""
    connection = _watch(socket, project_id, member, writes, database, events, settings)
    try:
        with contextlib.suppress(WebSocketDisconnect):
            while not member.closed:
                message = await socket.receive_data(mode="binary")
                await handle(message if isinstance(message, bytes) else message.encode())
    except OSError:
        pass  # the client left while the server was sending to it (ASGI servers raise an IOError): no error
    except Exception:
        log.exception("Live socket failed: user %s, project %s, %s", member.user["id"], project_id,
                      socket.scope.get("path", ""))
        await member.close(1011, "Server error; reload the page")
    finally:
        events.live.discard(connection)


@websocket("/api/v1/projects/{project_id:str}/scenes/{scene_id:str}/sync")
async def scene_sync(socket: WebSocket, project_id: FromPath[str], scene_id: FromPath[str], database: DatabaseDep,
                     settings: SettingsDep, bus: EventsDep, rooms: RoomsDep) -> None:
    """The scene's Yjs document: sync + awareness (y-websocket protocol). Viewers receive, never write."""
    admitted = await _admit(socket, project_id, database, bus)
    if admitted is None:
        return
    project, member = admitted
    try:
        live = await rooms.open(project, scene_id)
    except MediastudioError as exc:
        await member.close(4000 + exc.status, exc.detail)
        return
    try:
        with contextlib.suppress(OSError):  # gone while the document was being sent: _serve sees it leave
            await rooms.join(live, member)
        await _serve(socket, project_id, member, lambda message: rooms.receive(live, member, message), True,
                     database, bus, settings)
    finally:
        await rooms.leave(live, member)


@websocket("/api/v1/projects/{project_id:str}/presence")
async def project_presence(socket: WebSocket, project_id: FromPath[str], database: DatabaseDep,
                           settings: SettingsDep, bus: EventsDep, rooms: RoomsDep) -> None:
    """Awareness only: who is in the project and where (panel, scene, asset)."""
    admitted = await _admit(socket, project_id, database, bus)
    if admitted is None:
        return
    project, member = admitted
    member.can_write = False  # there is no document here, only presence
    from pycrdt import Doc

    from mediastudio.collab.room import Room

    presence = rooms.presence
    room = presence.setdefault(project.id, Room(f"presence:{project.id}", Doc(), None, 0))
    try:
        with contextlib.suppress(OSError):  # gone while presence was being sent: _serve sees it leave
            await room.join(member)
        await _serve(socket, project_id, member, lambda message: room.receive(member, message), False,
                     database, bus, settings)
    finally:
        await room.leave(member)
        if not room.members:
            presence.pop(project.id, None)
