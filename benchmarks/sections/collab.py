"""Collaboration: 2, 10 and 50 people in one scene; how long an edit and a cursor take to reach the others,
beside the stock y-websocket server (Node) in the same run; and what the presence limit does to a client
that sends faster than it allows.

Edits and cursors go at a steady rate, not one at a time: each client changes its own node and moves its cursor
on a timer, as people do. Cursors stay under the server's per-connection presence limit (30 a second; a browser
sends at most 25): a client over it has the excess dropped, which the last measure shows, with the notice the
server sends it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks import harness
from benchmarks import sockets as ws
from mediastudio.collab.limits import MAX_AWARENESS_PER_SECOND
from support import free_port

NAME = "collab"
TITLE = "Live collaboration in one scene, beside the stock y-websocket server"
EDITS_PER_S = 20  # the whole room's edits a second, whatever its size
CURSORS_PER_S = 60  # the whole room's cursor moves a second
CURSOR_MAX_PER_CLIENT = 20  # under the server's limit of 30 a second per connection


def _sizes(quick: bool) -> dict[str, Any]:
    return {"clients": (2, 10, 50), "seconds": 1.0 if quick else 8.0}


async def _room(url: str, headers: dict[str, str], clients: int, seconds: float, seed: bool) -> dict[str, Any]:
    sent: dict[tuple[str, str, int], float] = {}
    latencies: list[float] = []
    editors = [ws.Editor(url, headers, "room", f"n{k}", sent, latencies) for k in range(clients)]
    cursor_sent: dict[tuple[str, int, int], float] = {}
    cursor_latencies: list[float] = []
    for editor in editors:
        editor.cursor_sent, editor.cursor_latencies = cursor_sent, cursor_latencies
    gate = asyncio.Semaphore(ws.CONNECT_CONCURRENCY)
    try:
        await editors[0].connect(gate)
        if seed:
            await editors[0].seed(ws.scene_graph(clients))
        await asyncio.gather(*(e.connect(gate) for e in editors[1:]))
        await asyncio.gather(*(e.has_nodes(clients) for e in editors))
        edits = await ws.edit_storm(editors, seconds, every=clients / EDITS_PER_S)
        every = max(1 / CURSOR_MAX_PER_CLIENT, clients / CURSORS_PER_S)

        async def pointer(index: int, editor: ws.Editor) -> int:
            await asyncio.sleep(every * index / clients)
            started, x = time.perf_counter(), index * 1_000_000
            while time.perf_counter() - started < seconds:
                x += 1
                await editor.move(x)
                await asyncio.sleep(every)
            return x - index * 1_000_000

        moves = await asyncio.gather(*(pointer(i, e) for i, e in enumerate(editors)))
        expected = sum(moves) * (clients - 1)
        deadline = time.perf_counter() + 5
        while len(cursor_latencies) < expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        notices = sum(len(e.notices) for e in editors)
    finally:
        await ws.close_all(editors)
    edit_latencies = edits.pop("latencies")
    return {"edit": {**edits, **ws.describe(edit_latencies)},
            "cursor": {"moves": sum(moves), "per_client_per_s": round(1 / every, 1),
                       "deliveries": len(cursor_latencies), "expected": expected, "notices": notices,
                       **ws.describe(cursor_latencies)}}


async def _over_the_limit(url: str, headers: dict[str, str], rate: int, seconds: float) -> dict[str, Any]:
    """One client moving its cursor at `rate` a second, one watching: what reaches the watcher, and what the
    fast one is told."""
    sent: dict[tuple[str, str, int], float] = {}
    fast, watcher = (ws.Editor(url, headers, "room", f"n{k}", sent, []) for k in range(2))
    cursor_sent: dict[tuple[str, int, int], float] = {}
    for editor in (fast, watcher):
        editor.cursor_sent = cursor_sent
    gate = asyncio.Semaphore(2)
    try:
        await fast.connect(gate)
        await watcher.connect(gate)
        started, x = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            x += 1
            await fast.move(x)
            await asyncio.sleep(1 / rate)
        await asyncio.sleep(1.0)
        return {"sent": x, "delivered": len(watcher.cursor_latencies), "notices": len(fast.notices),
                "seconds": seconds, "rate": rate}
    finally:
        await ws.close_all([fast, watcher])


def run(ctx: harness.Context) -> list[harness.Measure]:
    size = _sizes(ctx.quick)
    server = ctx.serve("studio")
    admin = ctx.admin(server)
    headers = ws.cookie_header(admin)
    project = admin.post("/api/v1/projects", json={"name": "Collab"}).json()
    stock = ws.stock_yjs_server(free_port())
    found: list[harness.Measure] = []
    try:
        for clients in size["clients"]:
            scene = admin.post(f"/api/v1/projects/{project['id']}/scenes",
                               json={"name": f"Room of {clients}", "graph": ws.scene_graph(clients)}).json()
            url = f"{ws.ws_base(server.url)}/api/v1/projects/{project['id']}/scenes/{scene['id']}/sync"
            ours = asyncio.run(_room(url, headers, clients, size["seconds"], seed=False))
            theirs = asyncio.run(_room(f"{ws.ws_base(stock.url)}/bench-{clients}", {}, clients, size["seconds"],
                                       seed=True))
            target = "p95 < 50 ms" if clients == 50 else ""
            for kind in ("edit", "cursor"):
                mine, anchor = ours[kind], theirs[kind]
                whole = mine["deliveries"] == mine["expected"]
                if kind == "edit":
                    goal, passed = target, (whole and mine["p95"] < 50) if target else None
                else:
                    goal, passed = "every cursor delivered, no notice", whole and mine["notices"] == 0
                found.append(harness.Measure(
                    NAME, f"{kind} p95, {clients} clients", mine["p95"], "ms", "lower", target=goal, passed=passed,
                    anchor=anchor["p95"], anchor_name="stock y-websocket", detail={"ours": mine, "anchor": anchor}))
        rss = ws.rss_mib(server.process.pid)
        stock_rss = ws.rss_mib(stock.pid)
    finally:
        stock.stop()
    scene = admin.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "Fast cursor",
                                                                         "graph": ws.scene_graph(2)}).json()
    url = f"{ws.ws_base(server.url)}/api/v1/projects/{project['id']}/scenes/{scene['id']}/sync"
    rate = 2 * MAX_AWARENESS_PER_SECOND
    over = asyncio.run(_over_the_limit(url, headers, rate, 1.5 if ctx.quick else 4.0))
    found.append(harness.Measure(
        NAME, f"cursor at {rate}/s: notices a second", over["notices"] / over["seconds"], "/s", "lower",
        target="told about once a second (≤ 1/s, > 0)",
        passed=0 < over["notices"] <= over["seconds"] + 1, detail=over))
    found.append(harness.Measure(NAME, "server RSS after the rooms", rss, "MiB", "lower", anchor=stock_rss,
                                 anchor_name="stock y-websocket"))
    return found
