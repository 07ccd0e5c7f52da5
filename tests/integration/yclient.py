"""A small y-websocket protocol client over `websockets`, with a pycrdt document, for tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import websockets
from pycrdt import (
    Doc,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    read_message,
    write_message,
)

from mediastudio.collab import awareness
from mediastudio.collab.document import apply_graph, graph_from_doc
from mediastudio.graph import Graph

NOTICE = 100  # the studio's own message type: a JSON notice from the server (docs/security/sockets.md)


class YClient:
    def __init__(self, url: str, cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                 doc: Doc | None = None):
        self.url = url
        self.headers = dict(headers or {})
        if cookies:
            self.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.doc = doc if doc is not None else Doc()  # pass the old doc to reconnect with offline edits
        self.presence: dict[int, dict[str, Any] | None] = {}
        self.notices: list[dict[str, Any]] = []  # the server's notices (message type 100), e.g. "slow-down"
        self.updates_received = 0
        self.changed = asyncio.Event()
        self.synced = asyncio.Event()
        self._socket: Any = None
        self._reader: asyncio.Task[None] | None = None
        self.closed_with: int | None = None

    async def __aenter__(self) -> YClient:
        self._socket = await websockets.connect(self.url, additional_headers=self.headers, max_size=None)
        self._reader = asyncio.create_task(self._read())
        await self._socket.send(create_sync_message(self.doc))
        await asyncio.wait_for(self.synced.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def _read(self) -> None:
        try:
            async for message in self._socket:
                if message[0] == 0:
                    kind = message[1]
                    if kind == 0:  # the server's step 1: answer with what it lacks
                        reply = handle_sync_message(message[1:], self.doc)
                        if reply:
                            await self._socket.send(reply)
                    else:
                        handle_sync_message(message[1:], self.doc)
                        if kind == 1:
                            self.synced.set()
                        self.updates_received += 1
                        self.changed.set()
                elif message[0] == 1:
                    for client_id, _, state in awareness.decode(read_message(message[1:])):
                        self.presence[client_id] = state
                    self.changed.set()
                elif message[0] == NOTICE:
                    self.notices.append(json.loads(read_message(message[1:])))
                    self.changed.set()
        except websockets.ConnectionClosed as closed:
            self.closed_with = closed.rcvd.code if closed.rcvd else None

    @property
    def disconnected(self) -> bool:
        """The connection is gone (closed by either side, or the server died) and nothing more will arrive."""
        return self._reader is not None and self._reader.done()

    async def send_state(self) -> None:
        """Send everything this client holds as one update, as a client answers the server's sync step 1."""
        await self._socket.send(create_update_message(self.doc.get_update()))

    def graph(self) -> dict[str, Any]:
        return graph_from_doc(self.doc).model_dump()

    async def edit(self, graph: dict[str, Any], *, offline: bool = False) -> None:
        before = self.doc.get_state()
        apply_graph(self.doc, Graph.model_validate(graph))
        if not offline:
            await self._socket.send(create_update_message(self.doc.get_update(before)))

    async def say(self, state: dict[str, Any], clock: int = 1) -> None:
        update = awareness.encode([(self.doc.client_id, clock, state)])
        await self._socket.send(bytes([1]) + write_message(update))

    async def wait_for(self, predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
        async def loop() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)


def ws_url(http_url: str, project_id: str, scene_id: str) -> str:
    return http_url.replace("http://", "ws://") + f"/api/v1/projects/{project_id}/scenes/{scene_id}/sync"


def pretty(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
