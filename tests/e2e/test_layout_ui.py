"""The studio at every size in real Chromium: phone, tablet (portrait and landscape) and desktop show every
tool unclipped and uncovered, a phone frames the graph at a readable scale, and each keyboard shortcut does
one thing. One profile and few page loads: the sizes are visited by resizing the same page.

Screenshots go to the folder named by MEDIASTUDIO_SHOTS when it is set (and to test-results/e2e)."""

from __future__ import annotations

import os
from pathlib import Path

from browser_support import ConsoleLog, create_project, screenshot
from playwright.sync_api import BrowserContext, Locator, Page, expect

from support import png_bytes, wait_until

PHONE = {"width": 390, "height": 844}
TABLET_PORTRAIT = {"width": 820, "height": 1180}
TABLET_LANDSCAPE = {"width": 1180, "height": 820}
DESKTOP = {"width": 1440, "height": 900}
# The canvas beside two side panels must keep room to work in.
MIN_CANVAS_WIDTH = 560
# A node's title at the zoom the studio opens a scene with, in CSS pixels.
MIN_TITLE_PX = 11
TOOLS = ("undo", "redo", "add-node", "delete-selection", "run-scene")

Box = dict[str, float]


def _shot(page: Page, name: str) -> None:
    screenshot(page, name)
    folder = os.environ.get("MEDIASTUDIO_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def _box(locator: Locator) -> Box:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not rendered"
    return box


def _inside(inner: Box, outer: Box, what: str) -> None:
    assert (inner["x"] >= outer["x"] - 0.5 and inner["y"] >= outer["y"] - 0.5
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5), f"{what}: {inner} not in {outer}"


def _apart(a: Box, b: Box, what: str) -> None:
    overlap_x = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    overlap_y = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    assert overlap_x <= 0 or overlap_y <= 0, f"{what}: {a} overlaps {b}"


def _open_at(context: BrowserContext, url: str, size: dict[str, int], console: ConsoleLog) -> Page:
    """A text-to-image scene opened on a screen of `size` from the first paint (the canvas frames it for it)."""
    page = context.new_page()
    console.watch(page)
    page.set_viewport_size(size)
    project = create_project(context, url, "Harbour at every size", "text-to-image")
    scene = context.request.get(f"{url}/api/v1/projects/{project['id']}").json()["scenes"][0]
    page.goto(f"{url}/projects/{project['id']}/scenes/{scene['id']}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("graph-node")).to_have_count(6)
    return page


def _nothing_clipped(page: Page, size: dict[str, int]) -> None:
    """Every canvas tool, the center tabs and the header fit the screen, and nothing covers the tools."""
    screen: Box = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
    canvas = _box(page.get_by_test_id("scene-canvas"))
    chip = _box(page.get_by_test_id("scene-status"))
    for tool in TOOLS:
        button = page.get_by_test_id(tool)
        expect(button).to_be_visible()
        box = _box(button)
        _inside(box, canvas, f"{tool} at {size}")
        _apart(box, chip, f"{tool} and the scene's name at {size}")
    for tab in ("scene", "asset", "history", "activity"):
        _inside(_box(page.get_by_test_id(f"tab-{tab}")), screen, f"the {tab} tab at {size}")
    header = page.locator("header").first
    assert header.evaluate("h => h.scrollWidth <= h.clientWidth"), f"the header overflows at {size}"
    for control in ("account-menu", "server-status"):
        found = page.get_by_test_id(control)
        if found.count():
            _inside(_box(found.first), screen, f"{control} at {size}")


def _tools_in_one_row(page: Page, size: dict[str, int]) -> None:
    """On a phone the canvas's tools sit in one row at the canvas's foot, each a finger's height (44 px) and wide
    enough to hit (32 px), clear of the zoom controls: a row that wrapped left one tool alone on a second row and
    the bar twice as tall over the graph. Nothing else of the canvas hides under them."""
    bar = page.get_by_test_id("canvas-toolbar")
    buttons = [_box(b) for b in bar.locator("button:visible").all()]
    assert len(buttons) >= len(TOOLS), buttons
    tops = {round(b["y"]) for b in buttons}
    assert max(tops) - min(tops) <= 2, f"the canvas tools wrap onto {len(tops)} rows at {size}: {buttons}"
    for box in buttons:
        assert box["height"] >= 44 - 0.5 and box["width"] >= 32 - 0.5, f"a tool of {box} at {size}"
    controls = _box(page.locator(".svelte-flow__controls"))
    _apart(_box(bar), controls, f"the tools and the zoom controls at {size}")
    notice = page.get_by_test_id("no-model-notice")  # this studio has no model: the notice stands above them both
    expect(notice).to_be_visible()
    _apart(_box(notice), controls, f"the no-model notice and the zoom controls at {size}")
    _apart(_box(notice), _box(bar), f"the no-model notice and the tools at {size}")
    # Svelte Flow's credit is not left peeking out from under the tools (it moves to the top-right corner).
    credit = _box(page.locator(".svelte-flow__attribution"))
    _inside(credit, _box(page.get_by_test_id("scene-canvas")), f"Svelte Flow's credit at {size}")
    for other, what in ((bar, "the tools"), (page.locator(".svelte-flow__controls"), "the zoom controls"),
                        (notice, "the no-model notice")):
        _apart(credit, _box(other), f"Svelte Flow's credit and {what} at {size}")


def _three_panels_or_tabs(page: Page, size: dict[str, int], three: bool) -> None:
    canvas = _box(page.get_by_test_id("scene-canvas"))
    if three:
        expect(page.get_by_test_id("tabbar")).to_be_hidden()
        expect(page.get_by_test_id("panel-left")).to_be_visible()
        expect(page.get_by_test_id("panel-right")).to_be_visible()
        assert canvas["width"] >= MIN_CANVAS_WIDTH, f"the canvas is {canvas['width']} px wide at {size}"
    else:
        tabbar = page.get_by_test_id("tabbar")
        expect(tabbar).to_be_visible()
        for tab in ("browser", "canvas", "properties"):
            _inside(_box(page.get_by_test_id(f"tab-{tab}")), _box(tabbar), f"the {tab} tab at {size}")
        expect(page.get_by_test_id("panel-left")).to_be_hidden()
        assert canvas["width"] >= size["width"] - 2, f"the canvas is {canvas['width']} px wide at {size}"


def _title_px(page: Page) -> float:
    """The size a node's title is drawn at: its font size times the canvas's zoom."""
    return float(page.evaluate("""() => {
        const zoom = new DOMMatrix(getComputedStyle(document.querySelector('.svelte-flow__viewport')).transform).a;
        const title = document.querySelector('[data-testid="graph-node"] .graph-node-title');
        return parseFloat(getComputedStyle(title).fontSize) * zoom;
    }"""))


def _graph_centre(page: Page) -> tuple[float, float]:
    boxes = [_box(node) for node in page.get_by_test_id("graph-node").all()]
    left = min(b["x"] for b in boxes)
    right = max(b["x"] + b["width"] for b in boxes)
    top = min(b["y"] for b in boxes)
    bottom = max(b["y"] + b["height"] for b in boxes)
    return (left + right) / 2, (top + bottom) / 2


def _framing(page: Page) -> str:
    """What a failed wait for the frame saw: the canvas, the graph's centre, the nodes and the view's transform."""
    view = page.evaluate("() => getComputedStyle(document.querySelector('.svelte-flow__viewport')).transform")
    nodes = [_box(node) for node in page.get_by_test_id("graph-node").all()]
    return (f"the graph to be framed (canvas {_box(page.get_by_test_id('scene-canvas'))}, graph centre "
            f"{_graph_centre(page)}, view {view}, nodes {nodes})")


def _centred(page: Page) -> bool:
    canvas = _box(page.get_by_test_id("scene-canvas"))
    x, y = _graph_centre(page)
    return abs(x - (canvas["x"] + canvas["width"] / 2)) <= 24 and abs(y - (canvas["y"] + canvas["height"] / 2)) <= 24


def _phone_inspector(page: Page) -> None:
    """The Properties tab gives the inspector the room; Progress starts folded, a bar that opens as a sheet."""
    _node(page, "generate").click()
    page.get_by_test_id("tab-properties").click()
    panel = _box(page.get_by_test_id("panel-right"))
    inspector = page.get_by_role("region", name="Properties Inspector")
    expect(inspector.get_by_test_id("node-inspector")).to_be_visible()
    assert _box(inspector)["height"] >= 0.8 * panel["height"], (_box(inspector), panel)
    toggle = page.get_by_test_id("progress-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    progress = _box(page.get_by_role("region", name="Progress"))
    assert progress["height"] >= 0.4 * panel["height"], (progress, panel)
    _shot(page, "layout-390x844-properties")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.get_by_test_id("tab-canvas").click()


def test_every_screen_size_shows_the_studio_unclipped(desktop: BrowserContext, studio_url: str,
                                                      console: ConsoleLog) -> None:
    page = _open_at(desktop, studio_url, PHONE, console)

    # A phone opens the scene centred on the graph, at a scale its node titles can be read at.
    wait_until(lambda: _centred(page), timeout=10, interval=0.1, message=lambda: _framing(page))
    assert _title_px(page) >= MIN_TITLE_PX - 0.01, f"node titles are {_title_px(page):.1f} px on a phone"
    _phone_inspector(page)

    for size, three in ((PHONE, False), (TABLET_PORTRAIT, False), (TABLET_LANDSCAPE, True), (DESKTOP, True)):
        page.set_viewport_size(size)
        _three_panels_or_tabs(page, size, three)
        _nothing_clipped(page, size)
        if size == PHONE:
            _tools_in_one_row(page, size)
        _shot(page, f"layout-{size['width']}x{size['height']}")
    assert console.errors == []


def _node(page: Page, node_id: str) -> Locator:
    return page.locator(f'[data-testid="graph-node"][data-node-id="{node_id}"]')


def _state(page: Page) -> dict[str, bool]:
    """Which side panels show and which nodes are bypassed."""
    return {
        "browser": page.get_by_test_id("panel-left").is_visible(),
        "inspector": page.get_by_test_id("panel-right").is_visible(),
        **{node: _node(page, node).get_attribute("data-bypass") == "true" for node in ("generate", "seed")},
    }


def _after(page: Page, keys: str, expected: dict[str, bool]) -> None:
    page.keyboard.press(keys)
    wait_until(lambda: _state(page), until=lambda state: state == expected, timeout=10, interval=0.1,
               message=f"{keys} to give {expected}")
    page.wait_for_timeout(300)  # a window, not a wait: a second action of the same key would show by now
    assert _state(page) == expected, f"{keys} did more than one thing"


def test_each_shortcut_does_one_thing_and_you_show_once(desktop: BrowserContext, studio_url: str,
                                                        console: ConsoleLog) -> None:
    page = _open_at(desktop, studio_url, DESKTOP, console)
    # The account menu shows this user; the presence avatars show only the others.
    expect(page.get_by_test_id("account-menu")).to_be_visible()
    expect(page.locator('[data-testid="presence-avatar"][data-self="true"]')).to_have_count(0)

    shown = {"browser": True, "inspector": True, "generate": False, "seed": False}
    _node(page, "generate").click()
    # On a selected node, the bypass shortcut bypasses it and leaves the panels alone (twice: on, then off).
    _after(page, "Control+b", shown | {"generate": True})
    _after(page, "Control+b", shown)
    _after(page, "Control+z", shown | {"generate": True})
    # The panel shortcuts toggle their panel and leave the selected node alone, wherever the focus is.
    _after(page, "Control+Backslash", shown | {"generate": True, "browser": False})
    _after(page, "Control+Shift+Backslash", shown | {"generate": True, "browser": False, "inspector": False})
    _node(page, "seed").click()
    _after(page, "Control+b", shown | {"generate": True, "seed": True, "browser": False, "inspector": False})
    _after(page, "Control+Backslash", shown | {"generate": True, "seed": True, "inspector": False})
    _after(page, "Control+Shift+Backslash", shown | {"generate": True, "seed": True})
    # With nothing selected, the bypass shortcut does nothing at all.
    page.get_by_test_id("scene-canvas").click(position={"x": 300, "y": 600})
    expect(page.locator(".svelte-flow__node.selected")).to_have_count(0)
    _after(page, "Control+b", shown | {"generate": True, "seed": True})
    _shot(page, "layout-shortcuts")
    assert console.errors == []


COUNT_TOASTS = """() => {
    window.mostToasts = 0;
    const count = () => {
        window.mostToasts = Math.max(window.mostToasts, document.querySelectorAll('[data-testid="toast"]').length);
    };
    new MutationObserver(count).observe(document.body, { childList: true, subtree: true });
}"""


def test_uploading_many_files_shows_one_toast(desktop: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    page = _open_at(desktop, studio_url, DESKTOP, console)
    project_id = page.url.split("/projects/")[1].split("/")[0]
    page.evaluate(COUNT_TOASTS)
    page.get_by_test_id("asset-file-input").set_input_files([
        {"name": f"frame-{i}.png", "mimeType": "image/png", "buffer": png_bytes((40 * i, 90, 160), (48, 32))}
        for i in range(1, 6)
    ])
    toast = page.get_by_test_id("toast")
    expect(toast).to_have_count(1)
    expect(toast).to_contain_text("Uploaded 5 files")
    expect(page.get_by_test_id("asset-item")).to_have_count(5)

    # Pictures this small get their previews in the upload itself: drawn, and no previews task to announce.
    listed = desktop.request.get(f"{studio_url}/api/v1/projects/{project_id}/assets").json()["items"]
    assert len(listed) == 5
    assert all(desktop.request.get(f"{studio_url}{a['preview_url']}").status == 200 for a in listed)
    tasks = desktop.request.get(f"{studio_url}/api/v1/tasks", params={"limit": 20}).json()["items"]
    assert not [t for t in tasks if t["kind"] == "media.previews" and t["project_id"] == project_id]
    page.wait_for_timeout(500)  # a window, not a wait: their notices would have arrived by now
    assert page.evaluate("window.mostToasts") == 1
    expect(toast).to_have_count(1)
    _shot(page, "layout-upload-toast")
    assert console.errors == []
