"""What the WebSocket sections share: many light clients in one asyncio process, the servers they are compared
with, and how a server's memory is read.

`Listener` is an events-feed client (JSON text messages) that notes when each message arrived. `Editor` is a
y-websocket client (pycrdt document) that changes one node's parameter and notes when the other editors'
changes arrive; it speaks to the studio's scene sockets and to the stock y-websocket server alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import websockets
from pycrdt import (
    Doc,
    Map,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    read_message,
    write_message,
)

from benchmarks import harness
from mediastudio.collab import awareness
from mediastudio.collab.document import new_document
from mediastudio.graph import Graph

CONNECT_CONCURRENCY = 50  # handshakes in flight at once, as a crowd reconnecting after a restart would be
NODE_TYPE = "seed"
NOTICE = 100  # the studio's notice message type (docs/security/sockets.md)


def raise_fd_limit(needed: int) -> int:
    """Raise this process's soft open-files limit for `needed` sockets (and some to spare); answers the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, needed + 1024)) if hard != resource.RLIM_INFINITY else max(soft, needed + 1024)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far: unlike a latency, what an edit costs
    the server in CPU hardly moves with what else the shared machine is running."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cookie_header(client: httpx.Client) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}


def ws_base(http_url: str) -> str:
    return http_url.replace("http://", "ws://")


# -- the events feed ----------------------------------------------------------------------------------------
class Listener:
    """One events socket; `arrivals[marker]` is when the first message holding `marker` arrived."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.arrivals: dict[str, float] = {}
        self.markers: set[str] = set()
        self.changed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in self.socket:
                now = time.perf_counter()
                for marker in self.markers:
                    if marker not in self.arrivals and marker in message:
                        self.arrivals[marker] = now
                        self.changed.set()

    async def close(self) -> None:
        await self.socket.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.reader


async def open_listeners(url: str, headers: dict[str, str], count: int) -> tuple[list[Listener], float]:
    """`count` events sockets, each open once its first message (hello) arrived; answers them and the seconds
    the whole crowd took."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> Listener:
        async with gate:
            socket = await websockets.connect(url, additional_headers=headers, max_size=None, open_timeout=120,
                                              ping_interval=None, close_timeout=5)
            await asyncio.wait_for(socket.recv(), 60)  # hello: the server has admitted it
            return Listener(socket)

    started = time.perf_counter()
    listeners = await asyncio.gather(*(one() for _ in range(count)))
    return list(listeners), time.perf_counter() - started


async def close_all(clients: Sequence[Listener | Editor]) -> None:
    for start in range(0, len(clients), 500):
        await asyncio.gather(*(c.close() for c in clients[start:start + 500]), return_exceptions=True)


async def fan_out(listeners: Sequence[Listener], publish: Callable[[str], None], marker: str,
                  timeout: float = 60.0) -> list[float]:
    """Publish one message holding `marker` (in a thread: the loop keeps reading meanwhile) and answer, in ms,
    how long after the publish began it reached each listener. A listener it never reached fails the measure."""
    for listener in listeners:
        listener.markers.add(marker)
    started = time.perf_counter()
    await asyncio.to_thread(publish, marker)
    deadline = started + timeout
    for listener in listeners:
        while marker not in listener.arrivals:
            listener.changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"an event did not reach {sum(marker not in x.arrivals for x in listeners)} "
                                   f"of {len(listeners)} sockets in {timeout:.0f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listener.changed.wait(), left)
    for listener in listeners:
        listener.markers.discard(marker)
    return [(listener.arrivals[marker] - started) * 1000 for listener in listeners]


# -- scene editors ------------------------------------------------------------------------------------------
def scene_graph(nodes: int) -> dict[str, Any]:
    """A scene with one node per editor (`n0`, `n1`...), each with a numeric parameter an editor changes."""
    return {"nodes": {f"n{i}": {"type": NODE_TYPE, "title": f"Node {i}", "position": {"x": i * 10, "y": 0},
                                "params": {"value": 0}, "bypass": False} for i in range(nodes)},
            "edges": {}}


class Editor:
    """A y-websocket client editing `node` of one scene. Every change to another node's `value` that arrives is
    matched with the time it was sent (`sent`, shared by all editors of a run) and its latency noted."""

    def __init__(self, url: str, headers: dict[str, str], scene: str, node: str,
                 sent: dict[tuple[str, str, int], float], latencies: list[float]) -> None:
        self.url, self.headers, self.scene, self.node = url, headers, scene, node
        self.sent, self.latencies = sent, latencies
        self.doc: Doc[Any] = Doc()
        self.synced = asyncio.Event()
        self.changed = asyncio.Event()
        self.socket: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.seq = 0
        self.cursor_sent: dict[tuple[str, int, int], float] = {}  # (scene, client id, x) → when; set by the caller
        self.cursor_latencies: list[float] = []
        self.notices: list[dict[str, Any]] = []
        self.clock = 0
        self.nodes: Map[Any] = self.doc.get("nodes", type=Map)
        self.nodes.observe_deep(self._seen)

    def _seen(self, events: list[Any]) -> None:
        now = time.perf_counter()
        for event in events:
            path = list(getattr(event, "path", []) or [])
            keys = getattr(event, "keys", None) or {}
            if len(path) == 2 and path[1] == "params" and "value" in keys and path[0] != self.node:
                value = keys["value"].get("newValue")
                started = self.sent.get((self.scene, str(path[0]), int(value))) if isinstance(value, int | float) \
                    else None
                if started is not None:
                    self.latencies.append((now - started) * 1000)
        self.changed.set()

    async def connect(self, gate: asyncio.Semaphore) -> Editor:
        async with gate:
            self.socket = await websockets.connect(self.url, additional_headers=self.headers, max_size=None,
                                                   open_timeout=120, ping_interval=None, close_timeout=5)
            self.reader = asyncio.create_task(self._read())
            await self.socket.send(create_sync_message(self.doc))
            await asyncio.wait_for(self.synced.wait(), 60)
        return self

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in self.socket:
                if not isinstance(message, bytes) or not message:
                    continue
                if message[0] == 1:
                    self._presence(message)
                    continue
                if message[0] == NOTICE:
                    self.notices.append(json.loads(read_message(message[1:])))
                    continue
                if message[0] != 0:
                    continue
                reply = handle_sync_message(message[1:], self.doc)
                if reply:
                    await self.socket.send(reply)
                if message[1] == 1:
                    self.synced.set()

    def _presence(self, message: bytes) -> None:
        now = time.perf_counter()
        for client_id, _, state in awareness.decode(read_message(message[1:])):
            cursor = (state or {}).get("cursor") if isinstance(state, dict) else None
            if isinstance(cursor, dict) and isinstance(cursor.get("x"), int):
                started = self.cursor_sent.get((self.scene, client_id, cursor["x"]))
                if started is not None:
                    self.cursor_latencies.append((now - started) * 1000)

    async def move(self, x: int) -> None:
        """Send this editor's cursor at `x` (a presence message, as a browser's pointer moving)."""
        self.clock += 1
        self.cursor_sent[(self.scene, self.doc.client_id, x)] = time.perf_counter()
        update = awareness.encode([(self.doc.client_id, self.clock, {"cursor": {"x": x, "y": 0}})])
        await self.socket.send(bytes([1]) + write_message(update))

    async def seed(self, graph: dict[str, Any]) -> None:
        """Write the scene into an empty document (the stock server starts every room empty)."""
        before = self.doc.get_state()
        seeded = new_document(Graph.model_validate(graph), epoch=1)
        self.doc.apply_update(seeded.get_update())
        await self.socket.send(create_update_message(self.doc.get_update(before)))

    async def has_nodes(self, count: int, timeout: float = 60) -> None:
        async def loop() -> None:
            while len(self.nodes) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)

    async def edit(self) -> None:
        self.seq += 1
        before = self.doc.get_state()
        self.nodes[self.node]["params"]["value"] = self.seq
        update = self.doc.get_update(before)
        self.sent[(self.scene, self.node, self.seq)] = time.perf_counter()
        await self.socket.send(create_update_message(update))

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader


async def edit_storm(editors: Sequence[Editor], seconds: float, every: float, settle: float = 5.0) -> dict[str, Any]:
    """Every editor changes its node once every `every` seconds for `seconds` (spread evenly, so edits arrive
    at a steady rate); answers the latencies (ms) of each edit reaching each other editor of its scene."""
    latencies = editors[0].latencies
    latencies.clear()
    expected_per_edit = {e.scene: sum(1 for x in editors if x.scene == e.scene) - 1 for e in editors}

    async def one(index: int, editor: Editor) -> int:
        await asyncio.sleep(every * index / len(editors))
        made = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            await editor.edit()
            made += 1
            await asyncio.sleep(every)
        return made

    made = await asyncio.gather(*(one(i, e) for i, e in enumerate(editors)))
    expected = sum(m * expected_per_edit[e.scene] for m, e in zip(made, editors, strict=True))
    deadline = time.perf_counter() + settle
    while len(latencies) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    return {"edits": sum(made), "deliveries": len(latencies), "expected": expected,
            "edits_per_s": round(sum(made) / seconds, 1), "latencies": list(latencies)}


# -- servers to compare with --------------------------------------------------------------------------------
class Process:
    """A server started by a section (the bare anchor, the stock y-websocket server)."""

    def __init__(self, command: list[str], port: int, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(command, env={**os.environ, **(env or {})}, cwd=harness.REPO,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_listening(self, timeout: float = 30.0) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args} exited: {self.process.stderr.read().decode()[-2000:]}"
                                   if self.process.stderr else "exited")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.process.args} did not listen within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def bare_server(port: int) -> Process:
    server = Process([sys.executable, "-m", "benchmarks.bare_sockets", "--port", str(port)], port)
    server.wait_listening()
    return server


def stock_yjs_server(port: int) -> Process:
    """`@y/websocket-server` on Node, as its README starts it (`cd benchmarks/node && npm install` first)."""
    script = harness.REPO / "benchmarks" / "node" / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
    if not script.is_file():
        raise RuntimeError("The stock y-websocket server is not installed: cd benchmarks/node && npm install")
    server = Process(["node", str(script)], port, env={"HOST": "127.0.0.1", "PORT": str(port)})
    server.wait_listening()
    return server


def publish_to_bare(url: str) -> Callable[[str], None]:
    client = httpx.Client(timeout=60)

    def publish(marker: str) -> None:
        client.post(f"{url}/publish", json={"type": "project.changed", "summary": marker}).raise_for_status()

    return publish


def describe(values: Sequence[float]) -> dict[str, float]:
    return {"n": len(values), "p50": round(percentile(values, 50), 2), "p95": round(percentile(values, 95), 2),
            "p99": round(percentile(values, 99), 2), "max": round(max(values), 2) if values else float("nan")}


