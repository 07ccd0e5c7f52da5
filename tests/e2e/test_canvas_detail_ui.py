"""The canvas's level of detail in real Chromium: zoomed out far enough that port names and summaries cannot be
read, each node is drawn as a plain card (its frame, title and handles, nothing else), the same size and with
its handles in the same places, so the graph keeps its shape and every edge its ends; zoomed back in, the full
cards return."""

from __future__ import annotations

import re
from typing import Any

from browser_support import ConsoleLog, create_project, csrf_headers, screenshot
from playwright.sync_api import BrowserContext, Page, expect

from support import wait_until

# Each node's box, its handles' boxes (relative to the node, in graph units) and what its body holds.
SHAPES = """() => {
    const viewport = document.querySelector('.svelte-flow__viewport');
    const zoom = new DOMMatrix(getComputedStyle(viewport).transform).a;
    const shapes = {};
    for (const node of document.querySelectorAll('.svelte-flow__node')) {
        const box = node.getBoundingClientRect();
        const rel = (r) => [r.left - box.left, r.top - box.top, r.width, r.height].map((v) => v / zoom);
        shapes[node.dataset.id] = {
            box: [node.offsetWidth, node.offsetHeight],
            handles: Object.fromEntries([...node.querySelectorAll('.svelte-flow__handle')].map((h) => [
                `${h.dataset.handleid}:${h.classList.contains('source') ? 'out' : 'in'}`,
                rel(h.getBoundingClientRect())])),
            labels: node.querySelectorAll('[data-testid="node-input"], [data-testid="node-output"]').length,
            summaries: node.querySelectorAll('[data-testid="node-summary"]').length,
            elements: node.querySelectorAll('*').length,
        };
    }
    return { zoom, shapes };
}"""
ZOOM = "() => new DOMMatrix(getComputedStyle(document.querySelector('.svelte-flow__viewport')).transform).a"


def _graph(groups: int) -> dict[str, Any]:
    """`groups` × (prompt, seed → text to image) in a row, far wider than the canvas: framed, it is drawn small."""
    nodes: dict[str, Any] = {}
    edges: dict[str, Any] = {}
    for g in range(groups):
        x = g * 900
        nodes[f"p{g}"] = {"type": "prompt", "title": f"Prompt {g}", "position": {"x": x, "y": 0},
                          "params": {"text": f"A lighthouse at dusk, take {g}"}, "bypass": False}
        nodes[f"s{g}"] = {"type": "seed", "title": f"Seed {g}", "position": {"x": x, "y": 260},
                          "params": {"mode": "fixed", "value": g}, "bypass": False}
        nodes[f"i{g}"] = {"type": "text_to_image", "title": f"Shot {g}", "position": {"x": x + 380, "y": 60},
                          "params": {}, "bypass": False}
        for source, out, into in ((f"p{g}", "text", "prompt"), (f"s{g}", "seed", "seed")):
            edges[f"{source}:{out}->i{g}:{into}"] = {"source": source, "source_handle": out, "target": f"i{g}",
                                                    "target_handle": into}
    return {"nodes": nodes, "edges": edges}


def _edge_paths(page: Page) -> dict[str, str]:
    return page.evaluate(  # type: ignore[no-any-return]
        """() => Object.fromEntries([...document.querySelectorAll('.svelte-flow__edge')].map(
            (edge) => [edge.dataset.id, edge.querySelector('path.svelte-flow__edge-path').getAttribute('d')]))""")


def _zoom_in_until(page: Page, zoom: float) -> None:
    """Zoom in with the canvas's + button until the view is at least `zoom` (it settles after each step)."""
    for _ in range(12):
        if page.evaluate(ZOOM) >= zoom:
            break
        page.locator(".svelte-flow__controls-zoomin").click()
        page.wait_for_timeout(250)
    page.wait_for_timeout(300)


def _numbers(path: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]


def test_zoomed_out_nodes_are_plain_cards_of_the_same_shape_and_zoomed_in_full_again(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(desktop, studio_url, "Lighthouse takes")
    scene = desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}").json()["scenes"][0]
    put = desktop.request.put(f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph",
                              data=_graph(6), headers=csrf_headers(desktop))
    assert put.ok, put.text()
    page.goto(f"{studio_url}/projects/{project['id']}/scenes/{scene['id']}")
    expect(page.locator(".svelte-flow__node")).to_have_count(18)
    expect(page.locator(".svelte-flow__edge")).to_have_count(12)

    # Framed whole, 6 × 900 graph pixels wide: far below the zoom at which port names can be read.
    wait_until(lambda: page.evaluate(ZOOM), until=lambda zoom: zoom < 0.3, timeout=10, interval=0.1,
               message="the graph framed whole")
    # Each node a plain card once its content settled (the problems of the shots arrive and are measured).
    wait_until(lambda: page.evaluate(SHAPES)["shapes"],
               until=lambda shapes: all(shape["labels"] == 0 and shape["summaries"] == 0 for shape in shapes.values()),
               timeout=10, interval=0.2, message="every node drawn as a plain card")

    # Zoomed in with the canvas's + button until the full cards are drawn (the zoom settles after each step).
    _zoom_in_until(page, 0.75)
    near = page.evaluate(SHAPES)
    near_edges = _edge_paths(page)
    assert near["zoom"] >= 0.75, near["zoom"]
    screenshot(page, "canvas-detail-near")
    expect(page.locator(".svelte-flow__background")).to_be_visible()  # the dot grid, near

    # Zoomed out again (the canvas's − button): plain cards, of the full cards' shape.
    zoom_out = page.locator(".svelte-flow__controls-zoomout")
    for _ in range(12):
        if page.evaluate(ZOOM) < 0.3:
            break
        zoom_out.click()
        page.wait_for_timeout(250)
    page.wait_for_timeout(300)
    far = page.evaluate(SHAPES)
    assert far["zoom"] < 0.3, far["zoom"]
    screenshot(page, "canvas-detail-far")
    # Far, no dot grid (its dots are under a pixel; redrawing them was much of a pan's raster work).
    expect(page.locator(".svelte-flow__background")).to_be_hidden()

    for node_id, full in near["shapes"].items():
        card = far["shapes"][node_id]
        # Near: the full card, with its ports named and (prompts, seeds) its summary.
        assert full["labels"] > 0, (node_id, full)
        # Far: a plain card, with a fraction of the full one's elements: no port names, no summary.
        assert card["labels"] == 0 and card["summaries"] == 0, (node_id, card)
        assert card["elements"] * 2 <= full["elements"], (node_id, card, full)
        # The same box and the same handles in the same places: the graph keeps its shape, edges their ends.
        assert card["box"] == full["box"], (node_id, card["box"], full["box"])
        # (Measured on screen at either zoom: to within a graph pixel.)
        assert card["handles"].keys() == full["handles"].keys(), (node_id, card["handles"], full["handles"])
        for handle, at in full["handles"].items():
            assert all(abs(a - b) <= 1 for a, b in zip(card["handles"][handle], at, strict=True)), (
                node_id, handle, card["handles"][handle], at)
    # Every edge ends where it did (Svelte Flow may measure a card again: to within a graph pixel).
    far_edges = _edge_paths(page)
    assert far_edges.keys() == near_edges.keys()
    for edge, path in near_edges.items():
        ends, far_ends = _numbers(path), _numbers(far_edges[edge])
        assert len(ends) == len(far_ends), (edge, path, far_edges[edge])
        assert all(abs(a - b) <= 1 for a, b in zip(ends, far_ends, strict=True)), (edge, path, far_edges[edge])

    # A change that makes a full card bigger while zoomed out far (a prompt of three lines) makes its plain
    # card as big: the full card is measured again.
    graph = _graph(6)
    graph["nodes"]["p0"]["params"]["text"] = "A lighthouse at dusk, " + "the sea calm and the sky on fire, " * 6
    put = desktop.request.put(f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph",
                              data=graph, headers=csrf_headers(desktop))
    assert put.ok, put.text()
    prompt = page.locator('.svelte-flow__node[data-id="p0"]')
    wait_until(lambda: prompt.evaluate("el => el.offsetHeight"),
               until=lambda height: height > far["shapes"]["p0"]["box"][1],
               timeout=10, interval=0.1, message="the plain card of the longer prompt grown")
    page.wait_for_timeout(300)
    grown = page.evaluate(SHAPES)["shapes"]["p0"]
    assert grown["labels"] == 0 and grown["summaries"] == 0, grown
    _zoom_in_until(page, 0.75)
    full = page.evaluate(SHAPES)["shapes"]["p0"]
    assert full["summaries"] == 1 and grown["box"] == full["box"], (grown, full)
    for _ in range(12):
        if page.evaluate(ZOOM) < 0.3:
            break
        zoom_out.click()
        page.wait_for_timeout(250)

    # Zoomed out far, an edit of one node redraws that node alone in full (to be measured), no other one.
    page.wait_for_timeout(500)
    page.evaluate("""() => {
        window.__drawnInFull = new Set();
        window.__detailWatch = new MutationObserver((records) => {
            for (const { target } of records) {
                if (!target.dataset.detail) window.__drawnInFull.add(target.dataset.nodeId);
            }
        });
        window.__detailWatch.observe(document.querySelector('.svelte-flow__nodes'),
                                     { subtree: true, attributes: true, attributeFilter: ['data-detail'] });
    }""")
    for value in (101, 102, 103):
        graph["nodes"]["s0"]["params"]["value"] = value
        put = desktop.request.put(f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph",
                                  data=graph, headers=csrf_headers(desktop))
        assert put.ok, put.text()
        page.wait_for_timeout(400)
    assert page.evaluate("() => [...window.__drawnInFull]") == ["s0"]

    # A title is what a far card shows: every one of them is there.
    titles = page.locator('[data-testid="graph-node"] .graph-node-title > .truncate').all_inner_texts()
    assert sorted(re.sub(r"\s+", " ", t).strip() for t in titles) == sorted(
        [f"Prompt {g}" for g in range(6)] + [f"Seed {g}" for g in range(6)] + [f"Shot {g}" for g in range(6)])
    assert console.unexpected() == []
