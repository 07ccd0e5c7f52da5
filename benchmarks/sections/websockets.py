"""WebSockets: thousands of idle event-feed sockets held, what each costs the server, how fast they connect and
how fast one event reaches all of them; and a crowd of editors spread over many scenes editing at once.

Anchors measured in the same run: a bare Litestar app on the same uvicorn settings (`benchmarks/bare_sockets.py`)
for the feed, the stock y-websocket server (Node) for the editors.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from benchmarks import harness
from benchmarks import sockets as ws
from support import free_port

NAME = "websockets"
TITLE = "WebSockets: held connections, connect rate, broadcast, editors over many scenes"


def _sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {"sockets": 200, "rounds": 2, "events": 2, "editors": 50, "scenes": 5, "seconds": 1.5, "every": 1.0}
    return {"sockets": 5000, "rounds": 2, "events": 5, "editors": 1000, "scenes": 100, "seconds": 20.0,
            "every": 10.0}


async def _feed(url: str, headers: dict[str, str], pid: int, size: dict[str, Any],
                publish: Any) -> dict[str, Any]:
    """Rounds of: open `sockets` listeners, read the server's RSS, publish `events` events and time their
    arrival at every socket, close them all. Answers the medians over rounds and each round's numbers."""
    rounds = []
    for index in range(size["rounds"]):
        gc.collect()
        idle = ws.rss_mib(pid)
        listeners, seconds = await ws.open_listeners(url, headers, size["sockets"])
        await asyncio.sleep(0.5)
        held = ws.rss_mib(pid)
        p95s, spreads = [], []
        for event in range(size["events"]):
            latencies = await ws.fan_out(listeners, publish, f"bench-{index}-{event}")
            p95s.append(ws.percentile(latencies, 95))
            spreads.append(ws.percentile(latencies, 95) - min(latencies))
            await asyncio.sleep(0.2)
        await ws.close_all(listeners)
        await asyncio.sleep(1.0)
        rounds.append({"connect_per_s": size["sockets"] / seconds, "rss_idle_mib": round(idle, 1),
                       "rss_held_mib": round(held, 1), "kib_per_socket": (held - idle) * 1024 / size["sockets"],
                       "event_p95_ms": ws.median(p95s), "event_spread_p95_ms": ws.median(spreads),
                       "rss_after_close_mib": round(ws.rss_mib(pid), 1)})
    return {"connect_per_s": ws.median([r["connect_per_s"] for r in rounds]),
            "kib_per_socket": ws.median([r["kib_per_socket"] for r in rounds]),
            "event_p95_ms": ws.median([r["event_p95_ms"] for r in rounds]),
            "event_spread_p95_ms": ws.median([r["event_spread_p95_ms"] for r in rounds]),
            "rounds": rounds}


async def _editors(urls: list[str], headers: dict[str, str], size: dict[str, Any], seed: bool,
                   pid: int) -> dict[str, Any]:
    """`editors` y-websocket clients spread evenly over the scenes behind `urls`, each changing its own node once
    every `every` seconds for `seconds`; answers edit → other editors of the scene latencies, and the CPU the
    server (process `pid`) used per edit meanwhile."""
    per_scene = size["editors"] // len(urls)
    sent: dict[tuple[str, str, int], float] = {}
    latencies: list[float] = []
    editors = [ws.Editor(url, headers, str(s), f"n{k}", sent, latencies)
               for s, url in enumerate(urls) for k in range(per_scene)]
    gate = asyncio.Semaphore(ws.CONNECT_CONCURRENCY)
    try:
        if seed:  # the stock server's rooms start empty: the first editor of each writes the scene
            firsts = [editors[s * per_scene] for s in range(len(urls))]
            await asyncio.gather(*(e.connect(gate) for e in firsts))
            await asyncio.gather(*(e.seed(ws.scene_graph(per_scene)) for e in firsts))
            await asyncio.gather(*(e.connect(gate) for e in editors if e not in firsts))
        else:
            await asyncio.gather(*(e.connect(gate) for e in editors))
        await asyncio.gather(*(e.has_nodes(per_scene) for e in editors))
        cpu = ws.cpu_seconds(pid)
        storm = await ws.edit_storm(editors, size["seconds"], size["every"])
        cpu = ws.cpu_seconds(pid) - cpu
    finally:
        await ws.close_all(editors)
    found = storm.pop("latencies")
    return {**storm, **ws.describe(found), "per_scene": per_scene,
            "server_cpu_ms_per_edit": round(cpu * 1000 / max(1, storm["edits"]), 3)}


def run(ctx: harness.Context) -> list[harness.Measure]:
    size = _sizes(ctx.quick)
    ws.raise_fd_limit(size["sockets"] + size["editors"] + 100)
    server = ctx.serve("studio")
    admin = ctx.admin(server)
    headers = ws.cookie_header(admin)
    project = admin.post("/api/v1/projects", json={"name": "Sockets"}).json()

    def rename(marker: str) -> None:
        response = admin.patch(f"/api/v1/projects/{project['id']}", json={"name": marker})
        response.raise_for_status()

    ours = asyncio.run(_feed(f"{ws.ws_base(server.url)}/api/v1/events", headers, server.process.pid, size, rename))
    bare = ws.bare_server(free_port())
    try:
        theirs = asyncio.run(_feed(f"{ws.ws_base(bare.url)}/events", {}, bare.pid, size, ws.publish_to_bare(bare.url)))
    finally:
        bare.stop()

    scenes = [admin.post(f"/api/v1/projects/{project['id']}/scenes",
                         json={"name": f"Scene {i}", "graph": ws.scene_graph(size["editors"] // size["scenes"])}
                         ).json() for i in range(size["scenes"])]
    base = ws.ws_base(server.url)
    editors_ours = asyncio.run(_editors(
        [f"{base}/api/v1/projects/{project['id']}/scenes/{s['id']}/sync" for s in scenes], headers, size, False,
        server.process.pid))
    stock = ws.stock_yjs_server(free_port())
    try:
        editors_stock = asyncio.run(_editors(
            [f"{ws.ws_base(stock.url)}/bench-{i}" for i in range(size["scenes"])], {}, size, True, stock.pid))
    finally:
        stock.stop()

    n, bare_name, yjs_name = size["sockets"], "bare Litestar", "stock y-websocket"
    everyone = all(r["connect_per_s"] > 0 for r in ours["rounds"])
    creep = ours["rounds"][-1]["rss_after_close_mib"] - ours["rounds"][0]["rss_after_close_mib"]
    return [
        harness.Measure(NAME, f"events sockets held ({n:,})", n, "sockets", "higher", target=f"{n:,} held",
                        passed=everyone, detail={"rounds": ours["rounds"]}),
        harness.Measure(NAME, "events socket connect rate", ours["connect_per_s"], "/s", "higher",
                        anchor=theirs["connect_per_s"], anchor_name=bare_name,
                        detail={"concurrency": ws.CONNECT_CONCURRENCY, "anchor_rounds": theirs["rounds"]}),
        harness.Measure(NAME, "server memory per idle events socket", ours["kib_per_socket"], "KiB", "lower",
                        anchor=theirs["kib_per_socket"], anchor_name=bare_name),
        harness.Measure(NAME, f"one event reaching all {n:,} sockets, p95", ours["event_p95_ms"], "ms", "lower",
                        anchor=theirs["event_p95_ms"], anchor_name=bare_name,
                        detail={"published": "a project rename (PATCH), timed from the request",
                                "spread_p95_ms": ours["event_spread_p95_ms"],
                                "anchor_spread_p95_ms": theirs["event_spread_p95_ms"]}),
        harness.Measure(NAME, f"fan-out spread over {n:,} sockets (first to p95)", ours["event_spread_p95_ms"], "ms",
                        "lower", anchor=theirs["event_spread_p95_ms"], anchor_name=bare_name),
        harness.Measure(NAME, f"RSS left after {size['rounds']} rounds of {n:,} sockets", creep, "MiB", "lower",
                        detail={"after_each_round_mib": [r["rss_after_close_mib"] for r in ours["rounds"]]}),
        harness.Measure(NAME, f"edit p95, {size['editors']:,} editors over {size['scenes']} scenes",
                        editors_ours["p95"], "ms", "lower", target="every edit delivered",
                        passed=editors_ours["deliveries"] == editors_ours["expected"],
                        anchor=editors_stock["p95"], anchor_name=yjs_name,
                        detail={"ours": editors_ours, "anchor": editors_stock}),
        harness.Measure(NAME, f"server CPU per edit, {size['editors']:,} editors over {size['scenes']} scenes",
                        editors_ours["server_cpu_ms_per_edit"], "ms", "lower",
                        anchor=editors_stock["server_cpu_ms_per_edit"], anchor_name=yjs_name,
                        detail={"what": "the server process's CPU time (all threads) during the edits, per edit"}),
    ]
