"""The canvas's overview in real Chromium: zoomed out far over a big graph, the graph is drawn on one <canvas>
and Svelte Flow's cards and edges are neither drawn nor hit-tested; a click selects a node, a drag moves it (one
undo step), someone else's edit shows, and zoomed in again the cards come back with their sizes and edge ends."""

from __future__ import annotations

import re
from typing import Any

from browser_support import ConsoleLog, create_project, csrf_headers, screenshot
from playwright.sync_api import BrowserContext, Page, expect

from support import wait_until

VIEW = "() => getComputedStyle(document.querySelector('.svelte-flow__viewport')).transform"
ZOOM = "() => new DOMMatrix(getComputedStyle(document.querySelector('.svelte-flow__viewport')).transform).a"
# A node's box on screen (CSS pixels, from the page's corner), worked out from its position in the graph and the
# view's pan and zoom (its card is not drawn: it has no box of its own on screen).
BOX = """(id) => {
    const flow = document.querySelector('.svelte-flow').getBoundingClientRect();
    const view = new DOMMatrix(getComputedStyle(document.querySelector('.svelte-flow__viewport')).transform);
    const node = document.querySelector(`.svelte-flow__node[data-id="${id}"]`);
    const at = new DOMMatrix(getComputedStyle(node).transform);
    return { x: flow.left + view.e + at.e * view.a, y: flow.top + view.f + at.f * view.a,
             width: node.offsetWidth * view.a, height: node.offsetHeight * view.a, gx: at.e, gy: at.f };
}"""
# The overview's pixel at a page point: its alpha (0 where nothing is drawn) and colour.
PIXEL = """([x, y]) => {
    const canvas = document.querySelector('[data-testid="canvas-overview"]');
    const box = canvas.getBoundingClientRect();
    const ratio = canvas.width / box.width;
    const probe = document.createElement('canvas');
    probe.width = probe.height = 1;
    const pen = probe.getContext('2d', { willReadFrequently: true });
    pen.drawImage(canvas, Math.round((x - box.left) * ratio), Math.round((y - box.top) * ratio), 1, 1, 0, 0, 1, 1);
    return [...pen.getImageData(0, 0, 1, 1).data];
}"""
# A finger's tap at a page point as a busy phone delivers it: pointerdown and pointerup, the page's timers, then the
# click.
LATE_TAP = """async ([x, y]) => {
    const at = document.elementFromPoint(x, y);
    const touch = { bubbles: true, cancelable: true, composed: true, clientX: x, clientY: y, pointerId: 7,
                    pointerType: 'touch', isPrimary: true, button: 0 };
    at.dispatchEvent(new PointerEvent('pointerdown', { ...touch, buttons: 1 }));
    at.dispatchEvent(new PointerEvent('pointerup', { ...touch, buttons: 0 }));
    await new Promise((done) => setTimeout(done, 50));
    at.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, composed: true, clientX: x, clientY: y,
                                               detail: 1 }));
}"""
SHAPES = """() => Object.fromEntries([...document.querySelectorAll('.svelte-flow__node')].map((node) => [
    node.dataset.id, [node.offsetWidth, node.offsetHeight]]))"""
EDGES = """() => Object.fromEntries([...document.querySelectorAll('.svelte-flow__edge')].map(
    (edge) => [edge.dataset.id, edge.querySelector('path.svelte-flow__edge-path').getAttribute('d')]))"""


def _graph(groups: int) -> dict[str, Any]:
    """`groups` × (prompt, seed → text to image), ten to a row: 3 × `groups` nodes, framed small."""
    nodes: dict[str, Any] = {}
    edges: dict[str, Any] = {}
    for g in range(groups):
        x, y = (g % 10) * 650, (g // 10) * 700
        nodes[f"p{g}"] = {"type": "prompt", "title": f"Prompt {g}", "position": {"x": x, "y": y},
                          "params": {"text": f"A lighthouse at dusk, take {g}"}, "bypass": False}
        nodes[f"s{g}"] = {"type": "seed", "title": f"Seed {g}", "position": {"x": x, "y": y + 260},
                          "params": {"mode": "fixed", "value": g}, "bypass": False}
        nodes[f"i{g}"] = {"type": "text_to_image", "title": f"Shot {g}", "position": {"x": x + 380, "y": y + 60},
                          "params": {}, "bypass": False}
        for source, out, into in ((f"p{g}", "text", "prompt"), (f"s{g}", "seed", "seed")):
            edges[f"{source}:{out}->i{g}:{into}"] = {"source": source, "source_handle": out, "target": f"i{g}",
                                                    "target_handle": into}
    return {"nodes": nodes, "edges": edges}


def _centre(page: Page, node_id: str) -> tuple[float, float]:
    box = page.evaluate(BOX, node_id)
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _zoom_with(page: Page, button: str, until: Any) -> None:
    for _ in range(14):
        if until(page.evaluate(ZOOM)):
            break
        page.locator(button).click()
        page.wait_for_timeout(250)
    page.wait_for_timeout(400)


def _numbers(path: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]


def test_a_big_graph_zoomed_out_is_drawn_as_one_overview_that_selects_moves_and_follows_edits(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(desktop, studio_url, "Lighthouse overview")
    scene = desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}").json()["scenes"][0]
    graph_url = f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph"
    graph = _graph(20)
    put = desktop.request.put(graph_url, data=graph, headers=csrf_headers(desktop))
    assert put.ok, put.text()
    page.goto(f"{studio_url}/projects/{project['id']}/scenes/{scene['id']}")
    expect(page.locator(".svelte-flow__node")).to_have_count(60)
    wait_until(lambda: page.evaluate(ZOOM), until=lambda zoom: zoom < 0.3, timeout=10, interval=0.1,
               message="the graph framed whole")

    # Zoomed in first, the cards as they are drawn near: their sizes and edge ends, to compare with later.
    _zoom_with(page, ".svelte-flow__controls-zoomin", lambda zoom: zoom >= 0.75)
    overview = page.get_by_test_id("canvas-overview")
    expect(overview).to_be_hidden()
    near_shapes, near_edges = page.evaluate(SHAPES), page.evaluate(EDGES)
    assert all(w > 0 and h > 0 for w, h in near_shapes.values()), near_shapes

    # Zoomed out far, 60 nodes in view: one canvas draws them; no card or edge is drawn or hit-tested.
    _zoom_with(page, ".svelte-flow__controls-zoomout", lambda zoom: zoom < 0.12)
    expect(overview).to_be_visible()
    assert page.evaluate("() => document.querySelector('.svelte-flow').dataset.overview") == "on"
    drawn_cards = """() => [...document.querySelectorAll('.svelte-flow__node, .svelte-flow__edge')]
        .filter((el) => el.checkVisibility()).length"""
    wait_until(lambda: page.evaluate(drawn_cards), until=lambda count: count == 0, timeout=5, interval=0.1,
               message="no card or edge drawn")
    x, y = _centre(page, "p3")
    assert page.evaluate("([x, y]) => !!document.elementFromPoint(x, y).closest('.svelte-flow__node')", [x, y]) is False
    wait_until(lambda: page.evaluate(PIXEL, [x, y])[3], until=lambda alpha: alpha == 255, timeout=5, interval=0.1,
               message="the node drawn on the overview")
    box = page.evaluate(BOX, "p3")
    assert page.evaluate(PIXEL, [box["x"] + box["width"] / 2, box["y"] - 15])[3] == 0  # nothing above it

    # A click selects a node; Shift+click adds another.
    page.mouse.click(x, y)
    expect(page.locator('.svelte-flow__node[data-id="p3"]')).to_have_class(re.compile(r"\bselected\b"))
    sx, sy = _centre(page, "s3")
    page.keyboard.down("Shift")
    page.mouse.click(sx, sy)
    page.keyboard.up("Shift")
    expect(page.locator('.svelte-flow__node[data-id="s3"]')).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator('.svelte-flow__node[data-id="p3"]')).to_have_class(re.compile(r"\bselected\b"))

    # A drag of a node not selected selects it alone and moves it; one undo puts it back.
    before = page.evaluate(BOX, "i4")
    ix, iy = _centre(page, "i4")
    page.mouse.move(ix, iy)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(ix + step * 5, iy + step * 3)
        page.wait_for_timeout(30)
    page.mouse.up()
    zoom = page.evaluate(ZOOM)
    wait_until(lambda: page.evaluate(BOX, "i4"), until=lambda b: abs(b["gx"] - before["gx"] - 40 / zoom) < 2,
               timeout=5, interval=0.1, message="the node dragged on the overview")
    moved = page.evaluate(BOX, "i4")
    assert abs(moved["gy"] - before["gy"] - 24 / zoom) < 2, (before, moved)
    expect(page.locator('.svelte-flow__node[data-id="p3"]')).not_to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator('.svelte-flow__node[data-id="i4"]')).to_have_class(re.compile(r"\bselected\b"))
    stored = lambda: desktop.request.get(graph_url).json()["nodes"]["i4"]["position"]  # noqa: E731
    wait_until(stored, until=lambda at: abs(at["x"] - round(moved["gx"])) <= 1, timeout=10, interval=0.2,
               message="the drag written to the scene")
    page.keyboard.press("Control+z")
    wait_until(lambda: page.evaluate(BOX, "i4"), until=lambda b: (b["gx"], b["gy"]) == (before["gx"], before["gy"]),
               timeout=5, interval=0.1, message="the drag undone in one step")
    # Arrow keys move the selected node (12 screen pixels a press), as they move a card.
    page.keyboard.press("ArrowRight")
    wait_until(lambda: page.evaluate(BOX, "i4")["gx"], until=lambda gx: abs(gx - before["gx"] - 12 / zoom) < 2,
               timeout=5, interval=0.1, message="the node moved by the arrow key")
    page.keyboard.press("Control+z")
    wait_until(lambda: page.evaluate(BOX, "i4"), until=lambda b: (b["gx"], b["gy"]) == (before["gx"], before["gy"]),
               timeout=5, interval=0.1, message="the key's move undone")

    # A Shift+drag box on the empty canvas selects the nodes it holds (Svelte Flow's own, from the node boxes).
    corner, shot, seed = page.evaluate(BOX, "p0"), page.evaluate(BOX, "i0"), page.evaluate(BOX, "s0")
    page.keyboard.down("Shift")
    page.mouse.move(corner["x"] - 6, corner["y"] - 6)
    page.mouse.down()
    page.mouse.move(shot["x"] + shot["width"] + 6, seed["y"] + seed["height"] + 6, steps=6)
    page.mouse.up()
    page.keyboard.up("Shift")
    for node in ("p0", "s0", "i0"):
        expect(page.locator(f'.svelte-flow__node[data-id="{node}"]')).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator('.svelte-flow__node[data-id="p1"]')).not_to_have_class(re.compile(r"\bselected\b"))

    # Someone else's edit shows: a node moved below the graph is drawn there.
    graph = desktop.request.get(graph_url).json()
    graph["nodes"]["s7"]["position"] = {"x": 2000, "y": 1900}
    page.wait_for_timeout(300)
    view = page.evaluate("""() => {
        const v = new DOMMatrix(getComputedStyle(document.querySelector('.svelte-flow__viewport')).transform);
        const f = document.querySelector('.svelte-flow').getBoundingClientRect();
        return [f.left + v.e, f.top + v.f, v.a];
    }""")
    spot = [view[0] + 2050 * view[2], view[1] + 1930 * view[2]]  # where s7 will be drawn: empty now
    assert page.evaluate(PIXEL, spot)[3] == 0
    put = desktop.request.put(graph_url, data=graph, headers=csrf_headers(desktop))
    assert put.ok, put.text()
    wait_until(lambda: page.evaluate(PIXEL, spot)[3], until=lambda alpha: alpha == 255, timeout=10, interval=0.1,
               message="someone else's move drawn on the overview")

    for name, size in (("desktop", (1280, 800)), ("tablet", (820, 1180)), ("phone", (390, 844))):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.wait_for_timeout(600)
        screenshot(page, f"canvas-overview-{name}")
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot(page, "canvas-overview")

    # Zoomed in again: the cards are back, drawn and hit-tested, with the sizes and edge ends they had.
    graph["nodes"]["s7"]["position"] = {"x": 4550, "y": 960}
    put = desktop.request.put(graph_url, data=graph, headers=csrf_headers(desktop))
    assert put.ok, put.text()
    _zoom_with(page, ".svelte-flow__controls-zoomin", lambda zoom: zoom >= 0.75)
    expect(overview).to_be_hidden()
    # (Zoomed in on a graph this big, only the cards in view are drawn at all.)
    shapes = page.evaluate(SHAPES)
    assert 0 < len(shapes) < 60 and 0 < len(near_shapes) < 60, (shapes, near_shapes)
    both = shapes.keys() & near_shapes.keys()
    assert both and all(shapes[node] == near_shapes[node] for node in both), (shapes, near_shapes)
    edges = page.evaluate(EDGES)
    for edge in edges.keys() & near_edges.keys():
        path = near_edges[edge]
        if edge.startswith("s7:"):
            continue
        assert all(abs(a - b) <= 1 for a, b in zip(_numbers(path), _numbers(edges[edge]), strict=True)), (edge, path)
    drawn = "() => [...document.querySelectorAll('.svelte-flow__node')].filter((el) => el.checkVisibility()).length"
    assert page.evaluate(drawn) > 0

    # The minimap is one canvas (no SVG of a rect per node to lay out at each step); a press on it moves the view.
    minimap = page.get_by_test_id("canvas-minimap")
    expect(minimap.locator("canvas")).to_have_count(1)
    assert page.locator(".svelte-flow__minimap svg rect").count() == 0
    view_before = page.evaluate(VIEW)
    box = minimap.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] - 10, box["y"] + 10)  # (the "no model" notice covers its left)
    wait_until(lambda: page.evaluate(VIEW), until=lambda now: now != view_before, timeout=5, interval=0.1,
               message="the view moved by the minimap")
    assert console.unexpected() == []


def test_on_a_phone_the_overview_takes_taps_touch_drags_and_long_presses(
        phone: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(phone, studio_url, "Lighthouse on a phone")
    scene = phone.request.get(f"{studio_url}/api/v1/projects/{project['id']}").json()["scenes"][0]
    graph_url = f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph"
    graph = _graph(20)
    for g in range(20):  # five to a row, four rows: the whole graph fits a phone's canvas zoomed out
        x, y = (g % 5) * 650, (g // 5) * 700
        for node, dx, dy in ((f"p{g}", 0, 0), (f"s{g}", 0, 260), (f"i{g}", 380, 60)):
            graph["nodes"][node]["position"] = {"x": x + dx, "y": y + dy}
    put = phone.request.put(graph_url, data=graph, headers=csrf_headers(phone))
    assert put.ok, put.text()
    page = phone.new_page()
    console.watch(page)
    page.goto(f"{studio_url}/projects/{project['id']}/scenes/{scene['id']}")
    # (Framed at a scale whose titles can be read, only the cards in view are drawn.)
    expect(page.locator(".svelte-flow__node").first).to_be_attached()
    page.wait_for_timeout(500)
    _zoom_with(page, ".svelte-flow__controls-zoomout", lambda zoom: zoom < 0.12)
    expect(page.get_by_test_id("canvas-overview")).to_be_visible()
    expect(page.locator(".svelte-flow__node")).to_have_count(60)

    # A tap selects.
    page.touchscreen.tap(*_centre(page, "p0"))
    expect(page.locator('.svelte-flow__node[data-id="p0"]')).to_have_class(re.compile(r"\bselected\b"))
    # So does a tap whose click comes late, after the page's timers ran (a busy phone: the click is a task of its own
    # after the touch's end): the pane does not take that click and clear the selection.
    page.evaluate(LATE_TAP, list(_centre(page, "s0")))
    expect(page.locator('.svelte-flow__node[data-id="s0"]')).to_have_class(re.compile(r"\bselected\b"))
    page.wait_for_timeout(300)
    expect(page.locator('.svelte-flow__node[data-id="s0"]')).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator('.svelte-flow__node[data-id="p0"]')).not_to_have_class(re.compile(r"\bselected\b"))

    # A finger's drag moves a node.
    cdp = phone.new_cdp_session(page)

    def touch(kind: str, x: float = 0, y: float = 0) -> None:
        cdp.send("Input.dispatchTouchEvent",
                 {"type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]})

    before = page.evaluate(BOX, "s1")
    sx, sy = _centre(page, "s1")
    touch("touchStart", sx, sy)
    for step in range(1, 7):
        touch("touchMove", sx + step * 5, sy + step * 3)
        page.wait_for_timeout(30)
    touch("touchEnd")
    zoom = page.evaluate(ZOOM)
    wait_until(lambda: page.evaluate(BOX, "s1"), until=lambda b: abs(b["gx"] - before["gx"] - 30 / zoom) < 3,
               timeout=5, interval=0.1, message="the node dragged by a finger")

    # A long press opens the node's menu (and selects it).
    ix, iy = _centre(page, "i1")
    touch("touchStart", ix, iy)
    page.wait_for_timeout(800)
    touch("touchEnd")
    expect(page.get_by_role("menu")).to_be_visible()
    expect(page.locator('.svelte-flow__node[data-id="i1"]')).to_have_class(re.compile(r"\bselected\b"))
    assert console.unexpected() == []
