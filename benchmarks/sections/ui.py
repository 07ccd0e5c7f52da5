"""The studio in Chromium: what the gallery and a scene page download and how soon they can be used, cold (an
empty profile) and warm (the second visit); and the canvas's frame times while panning and zooming a big scene
that two other people edit at the same time.

Everything runs against a real `mediastudio serve` in Debian's Chromium (Python Playwright, headless). The
anchors are measured in the same browser in the same run: a bare document from the same server for the page
loads, and the same requestAnimationFrame loop under the same scripted wheel and drag on a bare page (Chromium's
own frame rate on this machine) for the canvas, so the ratios say what is the studio's.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks import harness

NAME = "ui"
TITLE = "The studio in Chromium: page weight, time to usable, canvas frame times"

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1440, "height": 900}
FRAME_BUDGET_MS = 1000 / 60
# Chromium stamps a frame drawn on time 16.6–16.8 ms after the last (the bare page's own p95 reads 16.8 ms), and a
# dropped frame makes an interval of 33.3 ms: a p95 within half a millisecond of the budget is a frame on time.
FRAME_JITTER_MS = 0.5
# What makes each page usable: the gallery's grid of projects, a node card on the scene's canvas (or, zoomed out
# far over a big graph, the canvas's overview, which draws the graph while the cards are hidden).
USABLE = {"gallery": '[data-testid="project-grid"]',
          "studio": '.svelte-flow:not([data-overview="on"]) .svelte-flow__node, '
                    '[data-testid="canvas-overview"]:not(.hidden)'}

# The frame recorder: every requestAnimationFrame timestamp until stopped.
RECORD_FRAMES = """() => {
    window.__frames = []; window.__recording = true;
    const tick = (t) => { window.__frames.push(t); if (window.__recording) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
}"""
STOP_FRAMES = "() => { window.__recording = false; return window.__frames; }"
# A spot of the canvas's empty pane near the middle (a drag that starts there pans instead of moving a node). No
# node's box may be there either: zoomed out far the canvas draws its overview, where the pane is what a point hits.
FIND_PANE = """() => {
    const pane = document.querySelector('.svelte-flow__pane');
    if (!pane) return null;
    const box = pane.getBoundingClientRect();
    const nodes = [...document.querySelectorAll('.svelte-flow__node')].map((node) => node.getBoundingClientRect());
    const free = (x, y) => !nodes.some(
        (n) => x >= n.left - 12 && x <= n.right + 12 && y >= n.top - 12 && y <= n.bottom + 12);
    for (let r = 0; r < 400; r += 8) for (let a = 0; a < 6.28; a += 0.4) {
        const x = box.x + box.width / 2 + r * Math.cos(a), y = box.y + box.height / 2 + r * Math.sin(a);
        const hit = document.elementFromPoint(x, y);
        if (hit && hit.classList.contains('svelte-flow__pane') && free(x, y)) return { x, y };
    }
    return null;
}"""
BARE_PAGE = """<!doctype html><html><body style="margin:0;background:#111">
<div id="pane" style="position:absolute;inset:0"></div></body></html>"""


def scene_graph(groups: int) -> dict[str, Any]:
    """`groups` × (prompt, seed → text to image): 3 × groups nodes and 2 × groups edges in rows of 10 groups."""
    nodes: dict[str, Any] = {}
    edges: dict[str, Any] = {}

    def node(kind: str, title: str, x: int, y: int, **params: object) -> dict[str, Any]:
        return {"type": kind, "title": title, "position": {"x": x, "y": y}, "params": params, "bypass": False}

    for g in range(groups):
        x, y = (g % 10) * 900, (g // 10) * 520
        nodes[f"p{g}"] = node("prompt", f"Prompt {g}", x, y, text=f"A lighthouse at dusk, take {g}")
        nodes[f"s{g}"] = node("seed", f"Seed {g}", x, y + 260, mode="fixed", value=g)
        nodes[f"i{g}"] = node("text_to_image", f"Shot {g}", x + 380, y + 60)
        for source, out, target, into in ((f"p{g}", "text", f"i{g}", "prompt"), (f"s{g}", "seed", f"i{g}", "seed")):
            edges[f"{source}:{out}->{target}:{into}"] = {"source": source, "source_handle": out, "target": target,
                                                          "target_handle": into}
    return {"nodes": nodes, "edges": edges}


class Collaborators:
    """Two other people in the scene, as y-websocket clients (pycrdt): each changes a seed's value and moves
    their cursor over the canvas ten times a second, on a thread of their own, until stopped."""

    def __init__(self, url: str, cookies: list[dict[str, str]], groups: int, people: int = 2) -> None:
        self.url, self.groups, self.people = url, groups, people
        self.cookies = cookies
        self.edits = 0
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Collaborators:
        self._thread.start()
        if not self.ready.wait(20):
            raise RuntimeError(f"the collaborators did not connect: {self.error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        try:
            asyncio.run(self._edit())
        except BaseException as exc:  # reported by __enter__ or the caller
            self.error = exc
            self.ready.set()

    async def _edit(self) -> None:
        from pycrdt import Map, create_update_message
        from yclient import YClient

        peers = []
        for cookie in self.cookies[: self.people]:
            peers.append(await YClient(self.url, cookies=cookie).__aenter__())
        try:
            self.ready.set()
            step = 0
            while not self._stop.is_set():
                for n, peer in enumerate(peers):
                    group = (step * 7 + n * 13) % self.groups
                    before = peer.doc.get_state()
                    node = peer.doc.get("nodes", type=Map).get(f"s{group}")
                    if isinstance(node, Map):
                        node["params"]["value"] = 1000 + step
                        await peer._socket.send(create_update_message(peer.doc.get_update(before)))
                        self.edits += 1
                    await peer.say({"cursor": {"x": (step * 40 + n * 300) % 9000, "y": (step * 25) % 5000},
                                    "scene": None, "selection": {"nodes": [f"s{group}"], "edges": []}},
                                   clock=step + 1)
                step += 1
                await asyncio.sleep(0.1)
        finally:
            for peer in peers:
                with contextlib.suppress(Exception):
                    await peer.close()


@dataclass
class Traffic:
    """What one page fetched, from the DevTools protocol's Network events of its target."""

    bytes: int = 0
    script_bytes: int = 0
    requests: int = 0
    from_cache: int = 0
    _types: dict[str, str] = field(default_factory=dict)

    def watch(self, session: Any) -> None:
        session.send("Network.enable")
        session.on("Network.responseReceived", self._response)
        session.on("Network.loadingFinished", self._finished)

    def _response(self, event: dict[str, Any]) -> None:
        self._types[event["requestId"]] = event.get("type", "")
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromServiceWorker") or response.get("fromPrefetchCache"):
            self.from_cache += 1

    def _finished(self, event: dict[str, Any]) -> None:
        size = int(event.get("encodedDataLength") or 0)
        self.requests += 1
        self.bytes += size
        if self._types.get(event["requestId"]) == "Script":
            self.script_bytes += size


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _visit(page: Any, url: str, usable: str) -> tuple[float, Traffic]:
    """Opens `url` and waits until `usable` shows; answers the milliseconds from the navigation's start to then
    (the page's own clock) and what was fetched."""
    traffic = Traffic()
    session = page.context.new_cdp_session(page)
    traffic.watch(session)
    page.goto(url, wait_until="commit")
    page.locator(usable).first.wait_for(state="visible", timeout=30_000)
    elapsed = float(page.evaluate("() => performance.now()"))
    page.wait_for_load_state("networkidle")
    session.detach()
    return elapsed, traffic


def _loads(browser: Any, server_url: str, cookies: list[dict[str, Any]], pages: dict[str, str],
           rounds: int) -> dict[str, dict[str, list[float]]]:
    """Per page: cold and warm time to usable and bytes, one sample per round (each round a fresh profile)."""
    samples: dict[str, dict[str, list[float]]] = {}
    for _ in range(rounds):
        for name, path in pages.items():
            context = browser.new_context(viewport=VIEWPORT)
            context.add_cookies(cookies)
            page = context.new_page()
            try:
                cold_ms, cold = _visit(page, server_url + path, USABLE[name])
                # The service worker's precache finishes before the second visit, as it would between two days.
                page.evaluate("() => navigator.serviceWorker ? navigator.serviceWorker.ready.then(() => true) : true")
                page.goto("about:blank")
                warm_ms, warm = _visit(page, server_url + path, USABLE[name])
            finally:
                context.close()
            got = samples.setdefault(name, {})
            for key, value in (("cold_ms", cold_ms), ("warm_ms", warm_ms), ("cold_bytes", cold.bytes),
                               ("cold_script_bytes", cold.script_bytes), ("warm_bytes", warm.bytes),
                               ("cold_requests", cold.requests), ("warm_requests", warm.requests),
                               ("warm_from_cache", warm.from_cache)):
                got.setdefault(key, []).append(float(value))
        # The anchor: a bare document from the same server, in a fresh profile.
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        try:
            page.goto(server_url + "/robots.txt")
            bare = float(page.evaluate("() => performance.getEntriesByType('navigation')[0].responseEnd"))
            samples.setdefault("bare", {}).setdefault("ms", []).append(bare)
        finally:
            context.close()
    return samples


def _gesture(page: Any, at: dict[str, float], seconds: float) -> None:
    """The scripted pan and zoom: wheel zooms in and out around `at`, drags pan back and forth, for `seconds`."""
    mouse = page.mouse
    x, y = at["x"], at["y"]
    mouse.move(x, y)
    deadline = time.monotonic() + seconds
    phase = 0
    while time.monotonic() < deadline:
        if phase % 2 == 0:
            for direction in (-1, 1):
                for _ in range(6):
                    mouse.wheel(0, direction * 120)
                    page.wait_for_timeout(16)
        else:
            mouse.move(x, y)
            mouse.down()
            for step in range(1, 31):
                mouse.move(x + 8 * step, y + 4 * step)
            for step in range(29, -1, -1):
                mouse.move(x + 8 * step, y + 4 * step)
            mouse.up()
        phase += 1


def _frames(page: Any, at: dict[str, float], seconds: float) -> list[float]:
    """Frame intervals (ms) recorded in the page while the gesture runs."""
    page.evaluate(RECORD_FRAMES)
    page.wait_for_timeout(100)
    _gesture(page, at, seconds)
    stamps = [float(t) for t in page.evaluate(STOP_FRAMES)]
    return [b - a for a, b in itertools.pairwise(stamps)]


def frame_stats(intervals: list[float]) -> dict[str, float]:
    """p50/p95 of the frame intervals and the frames dropped: an interval of k budgets lost k - 1 frames."""
    dropped = sum(max(0, round(i / FRAME_BUDGET_MS) - 1) for i in intervals)
    return {"p50": _percentile(intervals, 50), "p95": _percentile(intervals, 95), "frames": len(intervals),
            "dropped": dropped, "dropped_share": dropped / max(1, dropped + len(intervals))}


def _canvas(browser: Any, server_url: str, cookies: list[dict[str, Any]], path: str, collaborators: Collaborators,
            rounds: int, seconds: float) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Per round: the canvas's frame stats under the gesture while the collaborators edit, and the bare page's."""
    ours: list[dict[str, float]] = []
    bare: list[dict[str, float]] = []
    context = browser.new_context(viewport=VIEWPORT)
    context.add_cookies(cookies)
    page = context.new_page()
    blank = context.new_page()
    blank.set_content(BARE_PAGE)
    try:
        page.goto(server_url + path)
        page.locator(USABLE["studio"]).first.wait_for(state="visible", timeout=30_000)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1000)  # the first fit and the nodes' measurement settle
        at = page.evaluate(FIND_PANE)
        if at is None:
            raise RuntimeError("no empty spot of the canvas to drag from")
        with collaborators:
            for _ in range(rounds):
                page.bring_to_front()
                ours.append(frame_stats(_frames(page, at, seconds)))
                blank.bring_to_front()
                bare.append(frame_stats(_frames(blank, {"x": 720, "y": 450}, seconds)))
        if collaborators.error is not None:
            raise collaborators.error
        ours[-1]["edits_by_others"] = collaborators.edits
    finally:
        context.close()
    return ours, bare


def run(ctx: harness.Context) -> list[harness.Measure]:
    from playwright.sync_api import sync_playwright

    integration = str(harness.REPO / "tests" / "integration")
    if integration not in sys.path:
        sys.path.insert(0, integration)
    from yclient import ws_url

    from support import ApiClient

    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("Debian's chromium is needed: apt-get install -y chromium")

    groups = 20 if ctx.quick else 100
    load_rounds = 1 if ctx.quick else 3
    canvas_rounds, seconds = (2, 2.0) if ctx.quick else (5, 6.0)
    projects = 6 if ctx.quick else 40

    started = time.monotonic()
    server = ctx.serve("ui")
    admin = ctx.admin(server)
    # Measured as someone who has seen the guided tour (it would start on their first project otherwise).
    seen = admin.patch("/api/v1/auth/me/preferences", json={"tour_status": "done"})
    assert seen.status_code == 200, seen.text
    # The gallery's projects (the personal workspace, which a fresh profile shows), and the big scene in a team
    # workspace, whose members edit its projects by default.
    for n in range(projects):
        answer = admin.post("/api/v1/projects", json={"name": f"Project {n}"})
        assert answer.status_code == 201, answer.text
    team = admin.post("/api/v1/workspaces", json={"name": "Crew"}).json()
    project = admin.post("/api/v1/projects", json={"name": "Storyboard", "workspace_id": team["id"]}).json()
    scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    graph = scene_graph(groups)
    put = admin.put(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph", json=graph)
    assert put.status_code < 300, put.text
    studio_path = f"/projects/{project['id']}/scenes/{scene['id']}"

    # Two other people of the workspace (editors), each with a session of their own.
    others = []
    for n in range(2):
        person = ApiClient(server.url)
        person.register(f"editor{n}")
        added = admin.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": f"editor{n}"})
        assert added.status_code == 201, added.text
        others.append(dict(person.cookies.items()))
    cookies = [{"name": k, "value": v, "url": server.url} for k, v in admin.cookies.items()]
    collaborators = Collaborators(ws_url(server.url, project["id"], scene["id"]), others, groups)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            phases = {"setup_s": time.monotonic() - started}
            pages = {"gallery": "/"} if ctx.quick else {"gallery": "/", "studio": studio_path}
            loads = _loads(browser, server.url, cookies, pages, load_rounds)
            phases["loads_s"] = time.monotonic() - started - sum(phases.values())
            ours, bare = _canvas(browser, server.url, cookies, studio_path, collaborators, canvas_rounds, seconds)
            phases["canvas_s"] = time.monotonic() - started - sum(phases.values())
        finally:
            browser.close()

    measures: list[harness.Measure] = []
    bare_ms = _median(loads["bare"]["ms"])
    for name, what in (("gallery", f"gallery ({projects} projects)"), ("studio", f"scene page ({3 * groups} nodes)")):
        if name not in loads:
            continue
        got = loads[name]
        detail = {key: _median(values) for key, values in got.items()} | {"rounds": load_rounds, **phases}
        for visit in ("cold", "warm"):
            measures.append(harness.Measure(
                NAME, f"{what}: {visit} load, time to usable", _median(got[f"{visit}_ms"]), "ms", "lower",
                anchor=bare_ms, anchor_name="a bare document, same server", detail=detail))
        measures.append(harness.Measure(NAME, f"{what}: cold load, transferred", _median(got["cold_bytes"]) / 1024,
                                        "KiB", "lower", detail=detail))
        measures.append(harness.Measure(NAME, f"{what}: cold load, scripts transferred",
                                        _median(got["cold_script_bytes"]) / 1024, "KiB", "lower", detail=detail))
        measures.append(harness.Measure(NAME, f"{what}: warm load, transferred", _median(got["warm_bytes"]) / 1024,
                                        "KiB", "lower", detail=detail))

    label = f"{3 * groups}-node canvas, pan and zoom, 2 others editing"
    detail = {"rounds": ours, "bare_rounds": bare, "seconds_per_round": seconds, **phases}
    p95 = _median([r["p95"] for r in ours])
    measures.append(harness.Measure(
        NAME, f"{label}: frame p95", p95, "ms", "lower", target="p95 frame ≤ 16.7 ms",
        passed=p95 <= FRAME_BUDGET_MS + FRAME_JITTER_MS, anchor=_median([r["p95"] for r in bare]),
        anchor_name="bare page, same gesture", detail=detail))
    measures.append(harness.Measure(
        NAME, f"{label}: frame p50", _median([r["p50"] for r in ours]), "ms", "lower",
        anchor=_median([r["p50"] for r in bare]), anchor_name="bare page, same gesture", detail=detail))
    measures.append(harness.Measure(
        NAME, f"{label}: dropped frames", 100 * _median([r["dropped_share"] for r in ours]), "%", "lower",
        anchor=100 * _median([r["dropped_share"] for r in bare]), anchor_name="bare page, same gesture",
        detail=detail))
    return measures
