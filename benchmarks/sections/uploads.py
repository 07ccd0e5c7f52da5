"""Uploads: one large file through the real upload route (multipart, streamed, hashed, fsynced, probed, moved into
the blob store) beside the disk's raw sequential write with fsync of the same size, and the server's memory
growth while it streams.

The anchor is measured here, in the benchmark process, on the same filesystem as the server's data folder and
interleaved with the uploads round by round, so both see the same disk and the same load."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks import harness

NAME = "uploads"
TITLE = "Large uploads: throughput beside the raw disk, server memory"

CHUNK = 1024 * 1024
TARGET_MB_S = 100.0
RSS_BOUND_MIB = 100.0


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _raw_write(folder: Path, size: int, block: bytes) -> float:
    """Seconds to write `size` bytes sequentially and fsync them: what the disk allows."""
    path = folder / "raw-write.bin"
    started = time.perf_counter()
    with path.open("wb") as out:
        written = 0
        while written < size:
            piece = block[: min(len(block), size - written)]
            out.write(piece)
            written += len(piece)
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.perf_counter() - started
    path.unlink()
    return elapsed


def _body(boundary: str, size: int, block: bytes, seed: int) -> Iterator[bytes]:
    """A multipart body holding one `.safetensors` file of `size` bytes (distinct per seed), 1 MiB at a time."""
    header = b'{"__metadata__":{"round":"%d"}}' % seed
    first = len(header).to_bytes(8, "little") + header
    yield (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="weights-{seed}.safetensors"'
           "\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + first
    sent = len(first)
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        sent += len(piece)
        yield piece
    yield f"\r\n--{boundary}--\r\n".encode()


def _upload(client: harness.ApiClient, project: str, size: int, block: bytes, seed: int,
            pid: int) -> tuple[float, float]:
    """Seconds from the first byte sent to the 201, and the server's RSS growth (MiB) meanwhile."""
    baseline = _rss_kib(pid)
    peak = [baseline]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_kib(pid))
            done.wait(0.05)  # the sampling period

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    boundary = f"b3nchb0undary{seed}"
    started = time.perf_counter()
    try:
        answer = client.post(f"/api/v1/projects/{project}/assets", content=_body(boundary, size, block, seed),
                             timeout=900, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    finally:
        elapsed = time.perf_counter() - started
        done.set()
        watcher.join()
    if answer.status_code != 201:
        raise RuntimeError(f"upload refused: {answer.status_code} {answer.text[:300]}")
    if answer.json()[0]["size"] != size:
        raise RuntimeError(f"upload stored {answer.json()[0]['size']} bytes, not {size}")
    return elapsed, (peak[0] - baseline) / 1024


def run(ctx: harness.Context) -> list[harness.Measure]:
    size = (64 if ctx.quick else 1024) * 1024**2
    rounds = 3
    server = ctx.serve("studio", env={"MEDIASTUDIO_UPLOAD_MAX_BYTES": str(2 * size)})
    client = ctx.admin(server)
    project = client.post("/api/v1/projects", json={"name": "Uploads"}).json()["id"]
    raw_folder = ctx.folder("raw-disk")
    pid = server.process.pid
    block = os.urandom(CHUNK)

    uploads, raws, growths = [], [], []
    _upload(client, project, 4 * CHUNK, block, -1, pid)  # warm the route (imports, first blob folders)
    for seed in range(rounds):  # interleaved: a load spike hits both sides alike
        raws.append(_raw_write(raw_folder, size, block))
        seconds, grew = _upload(client, project, size, block, seed, pid)
        uploads.append(seconds)
        growths.append(grew)

    mb = size / 1e6
    upload_mb_s = mb / statistics.median(uploads)
    raw_mb_s = mb / statistics.median(raws)
    detail = {"size_mib": size // 1024**2, "rounds": rounds, "upload_seconds": [round(s, 3) for s in uploads],
              "raw_seconds": [round(s, 3) for s in raws]}
    grew_most = max(growths)
    return [
        harness.Measure(NAME, f"{size // 1024**2} MiB upload", upload_mb_s, "MB/s", "higher",
                        target=f"≥ {TARGET_MB_S:.0f} MB/s", passed=upload_mb_s >= TARGET_MB_S,
                        anchor=raw_mb_s, anchor_name="raw disk write + fsync", detail=detail),
        harness.Measure(NAME, f"{size // 1024**2} MiB upload, server RSS growth", grew_most, "MiB", "lower",
                        target=f"< {RSS_BOUND_MIB:.0f} MiB", passed=grew_most < RSS_BOUND_MIB,
                        detail={"growth_mib": [round(g, 1) for g in growths]}),
    ]
