"""A small HTTP/1.1 load generator: N clients, each on one keep-alive connection, sending one request after another
for a fixed time (or a fixed count), timing every answer.

Written on raw asyncio streams so the generator costs little next to the server it measures (it shares this
machine's cores with it): httpx would spend more CPU per request than a bare Litestar app does. It understands
the answers Litestar and uvicorn give (Content-Length or chunked bodies, keep-alive) and nothing more.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Request:
    """One request, sent as is by every client (`path` may be a callable: client index, request count → path)."""

    method: str
    path: str | Callable[[int, int], str]
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | Callable[[int, int], bytes] = b""
    expect: tuple[int, ...] = (200, 201, 204)

    def encode(self, host: str, client: int, count: int) -> bytes:
        path = self.path(client, count) if callable(self.path) else self.path
        body = self.body(client, count) if callable(self.body) else self.body
        lines = [f"{self.method} {path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Result:
    """What a load run measured: latencies in milliseconds, throughput in requests per second."""

    clients: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

    def summary(self) -> dict[str, float | int]:
        return {
            "clients": self.clients,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "req_per_s": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
        }


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def _read_answer(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 answer; return its status. Raises on a closed or malformed stream."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    length = None
    chunked = False
    for line in header_lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def run_load(url: str, request: Request, *, clients: int, seconds: float | None = None,
                   requests: int | None = None, warmup: int = 1) -> Result:
    """Send `request` from `clients` connections at once until `seconds` have passed (or each client has sent
    `requests`); each client first sends `warmup` untimed requests. A failed connection reconnects and counts an
    error. Returns every latency measured."""
    if (seconds is None) == (requests is None):
        raise ValueError("give seconds or requests")
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    start_gate = asyncio.Event()
    ready = 0
    deadline = 0.0

    async def client(index: int) -> None:
        nonlocal errors, ready
        reader, writer = await asyncio.open_connection(host, port)
        try:
            count = 0
            for _ in range(warmup):
                writer.write(request.encode(f"{host}:{port}", index, count))
                await _read_answer(reader)
                count += 1
            ready += 1
            await start_gate.wait()
            sent = 0

            def more() -> bool:
                if requests is not None:
                    return sent < requests
                return time.perf_counter() < deadline

            while more():
                started = time.perf_counter()
                try:
                    writer.write(request.encode(f"{host}:{port}", index, count))
                    status = await _read_answer(reader)
                except (ConnectionError, asyncio.IncompleteReadError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
                if status not in request.expect:
                    errors += 1
                count += 1
                sent += 1
        finally:
            writer.close()

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    # Every client connects and warms up before the clock starts (bounded: a client that failed ends its task).
    give_up = time.perf_counter() + 60
    while ready < clients and not any(t.done() for t in tasks) and time.perf_counter() < give_up:
        await asyncio.sleep(0.01)
    begun = time.perf_counter()
    deadline = begun + (seconds or 0)
    start_gate.set()
    await asyncio.gather(*tasks)
    took = time.perf_counter() - begun
    return Result(clients, len(latencies), errors, took, latencies, statuses)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
