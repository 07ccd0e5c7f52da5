"""Task system benchmark: small-task throughput end to end, and progress → WebSocket event latency.

Runs a real studio (`mediastudio serve`, SQLite queue, in-process Huey lanes) with the test task kinds.

* Throughput: N tiny tasks (`test.sleep_cpu`, 0 steps) started over the API by a few clients at once;
  counted from the first request to the last `task.succeeded` event seen on `WS /api/v1/events`.
  Target: ≥ 100,000 tasks/hour.
* Event latency: one task reports progress every 20 ms; each `task.progress` event's server time of
  publication (`at`) against when the WebSocket client receives it (same machine, same clock).
  Target: p95 < 50 ms.

    python benchmarks/tasks.py                 # 2,000 tasks, 200 progress steps
    python benchmarks/tasks.py --tasks 500 --steps 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]

import websockets  # noqa: E402

from kinds_for_tests import ENV as TEST_KINDS  # noqa: E402
from support import ApiClient, set_up_admin, start_server  # noqa: E402

ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_TASK_QUOTA": "1000000",
       "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "10000000", "MEDIASTUDIO_RATE_LIMIT_IP_PER_MINUTE": "10000000"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def throughput(url: str, client: ApiClient, count: int, senders: int) -> tuple[float, int]:
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
    ws_url = url.replace("http://", "ws://") + "/api/v1/events"
    async with websockets.connect(ws_url, additional_headers=cookie, max_queue=None) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        ids: set[str] = set()
        done: set[str] = set()
        started = time.perf_counter()

        def send(n: int) -> None:
            worker = ApiClient(url)
            worker.cookies = client.cookies
            for _ in range(n):
                response = worker.post("/api/v1/tasks", json={"kind": "test.sleep_cpu", "params": {"steps": 0}})
                assert response.status_code == 201, response.text
                ids.add(response.json()["id"])

        share = [count // senders + (1 if i < count % senders else 0) for i in range(senders)]
        sending = asyncio.gather(*(asyncio.to_thread(send, n) for n in share))
        while len(done) < count:
            event = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if event["type"] == "task.succeeded":
                done.add(event["task"]["id"])
            elif event["type"] == "task.failed":
                raise RuntimeError(event["task"]["error"])
        await sending
        elapsed = time.perf_counter() - started
        assert ids == done
    return elapsed, count


async def event_latency(url: str, client: ApiClient, steps: int) -> list[float]:
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
    ws_url = url.replace("http://", "ws://") + "/api/v1/events"
    latencies: list[float] = []
    async with websockets.connect(ws_url, additional_headers=cookie, max_queue=None) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        created = await asyncio.to_thread(client.post, "/api/v1/tasks", json={
            "kind": "test.sleep", "params": {"steps": steps, "step_seconds": 0.02}})
        task_id = created.json()["id"]
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), 60))
            received = time.time()
            if event["type"].startswith("task.") and event["task"]["id"] == task_id:
                latencies.append(received - datetime.fromisoformat(event["at"]).timestamp())
                if event["type"] == "task.succeeded":
                    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=4, help="API clients starting tasks at once")
    parser.add_argument("--steps", type=int, default=200, help="progress steps of the latency task (20 ms each)")
    parser.add_argument("--cpu-workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), env=ENV, args=["--cpu-workers", str(args.cpu_workers)])
        try:
            client = set_up_admin(server.url)
            elapsed, count = asyncio.run(throughput(server.url, client, args.tasks, args.senders))
            latencies = asyncio.run(event_latency(server.url, client, args.steps))
        finally:
            server.stop()
    per_hour = count / elapsed * 3600
    ms = [x * 1000 for x in latencies]
    rows = [("measure", "result", "target"),
            (f"small tasks end to end ({count} via the API)", f"{per_hour:,.0f} /hour", ">= 100,000/hour"),
            ("  wall time", f"{elapsed:.1f} s", ""),
            ("progress -> WebSocket event, p50", f"{statistics.median(ms):.1f} ms", ""),
            ("progress -> WebSocket event, p95", f"{percentile(ms, 95):.1f} ms", "< 50 ms"),
            ("progress -> WebSocket event, max", f"{max(ms):.1f} ms", ""),
            ("  events measured (progress <= 10/s per task)", str(len(ms)), "")]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print()
    for index, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


if __name__ == "__main__":
    main()
