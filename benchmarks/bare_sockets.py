"""The anchor of the WebSocket measures: a bare Litestar app on the same uvicorn settings as `mediastudio serve`.

    python -m benchmarks.bare_sockets --port 8100

`WS /events` accepts anyone, sends a `hello` and then every published message (one queue and one relay task
per socket, as the studio's feed does, and a receive loop that notices a client leaving); `POST /publish`
hands its JSON body to every open socket. No auth, no database, no rights: what is left is the cost of
uvicorn, Litestar and the websockets protocol, which the studio cannot go below.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

import uvicorn
from litestar import Litestar, WebSocket, post, websocket
from litestar.exceptions import WebSocketDisconnect

from mediastudio.server import KEEP_ALIVE_S, raise_open_files_limit

queues: set[asyncio.Queue[dict[str, Any]]] = set()


@websocket("/events")
async def events(socket: WebSocket) -> None:
    await socket.accept()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(1000)
    queues.add(queue)

    async def relay() -> None:
        while True:
            await socket.send_json(await queue.get())

    sender = asyncio.create_task(relay())
    try:
        await socket.send_json({"type": "hello", "version": 1})
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await socket.receive_data(mode="text")
    finally:
        queues.discard(queue)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


@post("/publish", status_code=204)
async def publish(data: dict[str, Any]) -> None:
    for queue in list(queues):
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    raise_open_files_limit()  # as `mediastudio serve` does
    app = Litestar([events, publish])
    # The same settings as mediastudio/server.py:run_server.
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", timeout_keep_alive=KEEP_ALIVE_S,
                access_log=False, server_header=False, ws_per_message_deflate=False)


if __name__ == "__main__":
    main()
