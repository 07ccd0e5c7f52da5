"""Collaboration benchmark: N clients in one scene, edit → other clients latency, cursor fan-out, RSS.

Runs our server (`mediastudio serve`) and, for comparison in the same run, the stock y-websocket
server (`@y/websocket-server` 0.1.1 on Node; `cd benchmarks/node && npm install` first).

    python benchmarks/collab.py            # N = 2, 10, 50; prints a table
    python benchmarks/collab.py --clients 2 10 --edits 50
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "integration")]

from yclient import YClient, ws_url  # noqa: E402

from mediastudio.collab.document import new_document  # noqa: E402
from support import free_port, set_up_admin, start_server  # noqa: E402

GRAPH = {
    "nodes": {
        f"n{i}": {
            "type": "seed",
            "title": f"Node {i}",
            "position": {"x": i * 10, "y": 0},
            "params": {"value": i},
            "bypass": False,
        }
        for i in range(20)
    },
    "edges": {},
}


def _value(peer: YClient) -> object:
    from pycrdt import Map

    return peer.doc.get("nodes", type=Map)["n1"]["params"]["value"]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 2 else (values[0] if values else 0.0)


async def measure(url: str, clients: int, edits: int, headers: dict[str, str], seed_graph: bool) -> tuple[float, float]:
    peers = [await YClient(url, headers=headers).__aenter__() for _ in range(clients)]
    try:
        if seed_graph:
            await peers[0].edit(GRAPH)
            await asyncio.gather(*(p.wait_for(lambda p=p: len(p.graph()["nodes"]) == 20, 10) for p in peers[1:]))
        edit_latencies: list[float] = []
        for i in range(edits):
            sender = peers[i % clients]
            graph = sender.graph()
            graph["nodes"]["n1"]["params"]["value"] = 1000 + i
            started = time.perf_counter()
            await sender.edit(graph)
            others = [p for p in peers if p is not sender]

            async def seen(peer: YClient, value: int = 1000 + i, t0: float = started) -> float:
                await peer.wait_for(lambda: _value(peer) == value, 10)
                return time.perf_counter() - t0

            edit_latencies += await asyncio.gather(*(seen(p) for p in others))
        cursor_latencies: list[float] = []
        for i in range(edits):
            sender = peers[i % clients]
            started = time.perf_counter()
            await sender.say({"cursor": {"x": i, "y": i}, "user": {"name": f"c{i}"}}, clock=10 + i)

            async def saw(peer: YClient, x: int = i, who: int = sender.doc.client_id, t0: float = started) -> float:
                await peer.wait_for(lambda: (peer.presence.get(who) or {}).get("cursor", {}).get("x") == x, 10)
                return time.perf_counter() - t0

            cursor_latencies += await asyncio.gather(*(saw(p) for p in peers if p is not sender))
        return p95(edit_latencies) * 1000, p95(cursor_latencies) * 1000
    finally:
        for peer in peers:
            await peer.close()


def stock_server(port: int) -> subprocess.Popen[bytes]:
    script = REPO / "benchmarks" / "node" / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
    if not script.is_file():
        raise SystemExit("Run `cd benchmarks/node && npm install` first.")
    process = subprocess.Popen(
        ["node", str(script)],
        env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    time.sleep(1.0)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[2, 10, 50])
    parser.add_argument("--edits", type=int, default=100)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp))
        admin = set_up_admin(server.url)
        project = admin.post("/api/v1/projects", json={"name": "Bench"}).json()
        scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
        cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in admin.cookies.items())}
        admin.put(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph", json=GRAPH)
        port = free_port()
        stock = stock_server(port)
        try:
            for n in args.clients:
                ours = asyncio.run(
                    measure(ws_url(server.url, project["id"], scene["id"]), n, args.edits, cookie, False)
                )
                ours_rss = rss_mib(server.process.pid)
                theirs = asyncio.run(measure(f"ws://127.0.0.1:{port}/bench-{n}", n, args.edits, {}, True))
                rows.append((n, *ours, ours_rss, *theirs, rss_mib(stock.pid)))
        finally:
            stock.terminate()
            server.stop()
    print(
        f"\n{'clients':>7} | {'ours: edit p95':>14} {'cursor p95':>10} {'RSS MiB':>8} | "
        f"{'y-websocket: edit p95':>21} {'cursor p95':>10} {'RSS MiB':>8}"
    )
    for n, edit, cursor, rss, s_edit, s_cursor, s_rss in rows:
        print(
            f"{n:>7} | {edit:>11.1f} ms {cursor:>7.1f} ms {rss:>8.0f} | {s_edit:>18.1f} ms {s_cursor:>7.1f} ms "
            f"{s_rss:>8.0f}"
        )
    print("(target: edit p95 < 50 ms at 50 clients)")
    _ = new_document  # the graph format the benchmark edits is the studio's own


if __name__ == "__main__":
    main()
