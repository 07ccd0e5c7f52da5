"""The mask painter in real Chromium: a stroke painted with the mouse (Asset View) and with a finger (the inpaint
node's inspector; two fingers move the picture and paint nothing), invert, undo and redo, a saved mask asset of
the picture's size, and the graph wired to it."""

from __future__ import annotations

import io
from typing import Any

from browser_support import ConsoleLog, create_project, csrf_headers, screenshot
from playwright.sync_api import BrowserContext, Locator, Page, expect

from support import wait_until


def _png(width: int, height: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (40, 90, 160))
    ImageDraw.Draw(image).ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(240, 200, 90))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _upload(context: BrowserContext, url: str, project_id: object, name: str, data: bytes) -> dict[str, Any]:
    answer = context.request.post(f"{url}/api/v1/projects/{project_id}/assets", headers=csrf_headers(context),
                                  multipart={"file": {"name": name, "mimeType": "image/png", "buffer": data}})
    assert answer.status == 201, answer.text()
    return answer.json()[0]  # type: ignore[no-any-return]


def _inpaint_scene(context: BrowserContext, url: str, project: dict[str, Any], picture_id: str) -> str:
    scene = context.request.get(f"{url}/api/v1/projects/{project['id']}").json()["scenes"][0]["id"]
    nodes = {"plate": {"type": "load_image", "title": "Plate", "position": {"x": 0, "y": 0},
                       "params": {"asset_id": picture_id}, "bypass": False},
             "fix": {"type": "inpaint", "title": "Fix", "position": {"x": 360, "y": 0},
                     "params": {"prompt_text": "a red door"}, "bypass": False}}
    edges = {"plate:image->fix:image": {"source": "plate", "source_handle": "image", "target": "fix",
                                        "target_handle": "image"}}
    put = context.request.put(f"{url}/api/v1/projects/{project['id']}/scenes/{scene}/graph",
                              data={"nodes": nodes, "edges": edges}, headers=csrf_headers(context))
    assert put.ok, put.text()
    return str(scene)


def _mask_pixels(context: BrowserContext, url: str, asset: dict[str, Any]) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(context.request.get(f"{url}{asset['content_url']}").body()))


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def _steps(painter: Locator) -> Locator:
    return painter.get_by_test_id("mask-canvas")


def test_a_mask_painted_with_the_mouse_inverted_and_saved_from_the_asset_view(
    desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog
) -> None:
    project = create_project(desktop, studio_url, "Masks")
    picture = _upload(desktop, studio_url, project["id"], "plate.png", _png(200, 100))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{studio_url}/projects/{project['id']}")
    page.get_by_test_id("asset-item").filter(has_text="plate.png").get_by_test_id("asset-open").click()
    view = page.get_by_test_id("asset-view")
    view.get_by_test_id("paint-mask").click()

    painter = page.get_by_test_id("mask-painter")
    expect(painter).to_be_visible()
    expect(painter.get_by_role("heading")).to_contain_text("plate.png")
    canvas = painter.get_by_test_id("mask-canvas")
    assert canvas.evaluate("c => [c.width, c.height]") == [200, 100]  # the picture's own size, not the screen's
    expect(painter.get_by_test_id("mask-undo")).to_be_disabled()
    # A stroke across the left half, with the mouse.
    box = _box(canvas)
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (0.1 + 0.03 * step), box["y"] + box["height"] * 0.5)
    page.mouse.up()
    expect(canvas).to_have_attribute("data-steps", "1")
    # Keyboard: ] grows the brush, X inverts, Ctrl+Z and Ctrl+Shift+Z undo and redo it.
    size = painter.get_by_test_id("mask-size-value")
    before = int(size.inner_text())
    page.keyboard.press("]")
    expect(size).not_to_have_text(str(before))
    page.keyboard.press("[")
    expect(size).to_have_text(str(before))
    page.keyboard.press("x")
    expect(canvas).to_have_attribute("data-steps", "2")
    page.keyboard.press("Control+z")
    expect(canvas).to_have_attribute("data-steps", "1")
    page.keyboard.press("Control+Shift+z")
    expect(canvas).to_have_attribute("data-steps", "2")
    page.keyboard.press("e")
    expect(painter.get_by_test_id("mask-eraser")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("b")
    expect(painter.get_by_test_id("mask-brush")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "masks-painter-desktop")
    # At 1280 px every tool sits on one row (their middles at one height), none cut off.
    rows = painter.get_by_role("toolbar", name="Mask tools").evaluate(
        "t => [...t.children].map(c => c.getBoundingClientRect()).filter(r => r.width > 0)"  # (a phone's row break)
        ".map(r => [r.top + r.height / 2, r.right])")
    assert max(m for m, _ in rows) - min(m for m, _ in rows) < 4, rows
    assert max(right for _, right in rows) <= 1280, rows

    painter.get_by_test_id("mask-save").click()
    expect(painter).to_be_hidden()
    # The new mask shows in the Asset View: named after its picture, tagged, made at the picture's size.
    expect(view.get_by_test_id("asset-meta-name")).to_have_text("plate · mask")
    expect(view.get_by_test_id("asset-meta-tags")).to_contain_text("#mask")
    expect(view.get_by_test_id("asset-dimensions")).to_have_text("200 × 100")
    masks = desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}/assets?tag=mask").json()["items"]
    assert len(masks) == 1
    detail = desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}/assets/{masks[0]['id']}").json()
    assert detail["provenance"]["mask_of"] == picture["id"]
    mask = _mask_pixels(desktop, studio_url, masks[0])
    assert mask.mode == "L" and mask.size == (200, 100)
    # Inverted: the stroke is kept (black), the rest is repainted (white).
    assert mask.getpixel((40, 50)) == 0 and mask.getpixel((180, 10)) == 255

    # Editing the mask opens it again over its picture, starting from what was saved.
    expect(view.get_by_test_id("paint-mask")).to_have_text("Edit mask")
    view.get_by_test_id("paint-mask").click()
    expect(painter.get_by_role("heading")).to_contain_text("plate.png")
    expect(painter.get_by_text("Loading the mask…")).to_have_count(0)
    assert canvas.evaluate("c => c.getContext('2d').getImageData(180, 10, 1, 1).data[3]") == 255
    painter.get_by_test_id("mask-cancel").click()
    expect(painter).to_be_hidden()  # nothing painted yet: nothing to lose
    # With a stroke painted, Escape asks before throwing it away.
    view.get_by_test_id("paint-mask").click()
    expect(painter).to_be_visible()
    # The saved mask loads first: a stroke begun before it has drawn is not taken (the painter says it is loading).
    expect(painter.get_by_text("Loading the mask…")).to_have_count(0)
    box = _box(canvas)
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    expect(canvas).to_have_attribute("data-steps", "1")
    page.keyboard.press("Escape")
    expect(painter.get_by_test_id("mask-discard")).to_be_visible()
    painter.get_by_role("button", name="Keep painting").click()
    expect(canvas).to_have_attribute("data-steps", "1")
    painter.get_by_test_id("mask-cancel").click()
    painter.get_by_test_id("mask-discard-confirm").click()
    expect(painter).to_be_hidden()
    masks = desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}/assets?tag=mask").json()["items"]
    assert len(masks) == 1
    assert console.unexpected() == []


def _touch(session: Any, kind: str, points: list[tuple[float, float]]) -> None:
    """A touch event as a finger on the screen makes it (Chromium makes the pointer events from it)."""
    session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y} for x, y in points]})


def test_a_mask_painted_by_touch_in_the_inspector_is_wired_to_the_inpaint_node(
    browser: Any, studio_url: str, console: ConsoleLog
) -> None:
    from browser_support import new_account, skip_tour

    context = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
    try:
        account = new_account("masks")
        assert context.request.post(f"{studio_url}/api/v1/auth/register", data=account.credentials()).status == 201
        skip_tour(context, studio_url)
        project = create_project(context, studio_url, "Inpainting")
        picture = _upload(context, studio_url, project["id"], "door.png", _png(96, 64))
        scene = _inpaint_scene(context, studio_url, project, picture["id"])
        page = context.new_page()
        console.watch(page)
        page.goto(f"{studio_url}/projects/{project['id']}")
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        page.locator('[data-testid="graph-node"][data-node-id="fix"]').click()
        section = page.get_by_test_id("node-inspector").get_by_test_id("mask-section")
        expect(section).to_contain_text("Load image node on the mask input")
        section.get_by_test_id("node-paint-mask").click()

        painter = page.get_by_test_id("mask-painter")
        canvas = painter.get_by_test_id("mask-canvas")
        expect(canvas).to_have_attribute("data-steps", "0")
        box = _box(canvas)
        fingers = context.new_cdp_session(page)
        x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.2
        # One finger paints a stroke down the middle.
        _touch(fingers, "touchStart", [(x, y)])
        for step in range(1, 9):
            _touch(fingers, "touchMove", [(x, y + box["height"] * 0.075 * step)])
        _touch(fingers, "touchEnd", [])
        expect(canvas).to_have_attribute("data-steps", "1")
        # Two fingers pinch: the picture grows, nothing is painted.
        width = box["width"]
        _touch(fingers, "touchStart", [(x - 40, y + 40), (x + 40, y + 40)])
        for step in range(1, 6):
            _touch(fingers, "touchMove", [(x - 40 - 12 * step, y + 40), (x + 40 + 12 * step, y + 40)])
        _touch(fingers, "touchEnd", [])
        expect(canvas).to_have_attribute("data-steps", "1")
        assert _box(canvas)["width"] > width * 1.2
        painter.get_by_test_id("mask-save").click()
        expect(painter).to_be_hidden()

        # The graph now loads the mask into the inpaint node's mask input, on the server too.
        def wired(graph: dict[str, Any]) -> str | None:
            for edge in graph["edges"].values():
                if edge["target"] == "fix" and edge["target_handle"] == "mask":
                    return str(graph["nodes"][edge["source"]]["params"].get("asset_id"))
            return None

        graph_url = f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene}/graph"
        graph = wait_until(lambda: context.request.get(graph_url).json(), until=wired, interval=0.1,
                           message="the mask wired to the inpaint node")
        mask_id = wired(graph)
        mask = context.request.get(f"{studio_url}/api/v1/projects/{project['id']}/assets/{mask_id}").json()
        assert mask["name"] == "door · mask" and mask["tags"] == ["mask"]
        pixels = _mask_pixels(context, studio_url, mask)
        assert pixels.size == (96, 64) and pixels.getpixel((48, 32)) == 255 and pixels.getpixel((5, 5)) == 0
        expect(page.get_by_test_id("graph-node").filter(has_text="door · mask")).to_have_count(1)
        # Painting again replaces the mask node's asset; the section now edits that mask.
        expect(section.get_by_test_id("node-paint-mask")).to_have_text("Edit mask")
        screenshot(page, "masks-inspector-wired")
        assert console.unexpected() == []
    finally:
        context.close()


def test_the_painter_fits_a_tablet_and_a_phone(browser: Any, studio_url: str, console: ConsoleLog) -> None:
    from browser_support import new_account, skip_tour

    for name, options in (("tablet", {"viewport": {"width": 820, "height": 1180}, "has_touch": True}),
                          ("phone", {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
                                     "is_mobile": True, "has_touch": True})):
        context = browser.new_context(**options)
        try:
            account = new_account(name)
            assert context.request.post(f"{studio_url}/api/v1/auth/register", data=account.credentials()).status == 201
            skip_tour(context, studio_url)
            project = create_project(context, studio_url, f"Masks on a {name}")
            _upload(context, studio_url, project["id"], "wide.png", _png(640, 360))
            page = context.new_page()
            console.watch(page)
            page.goto(f"{studio_url}/projects/{project['id']}")
            # Both are narrower than three panels: one view at a time, picked in the tab bar.
            page.get_by_test_id("tab-browser").tap()
            page.get_by_test_id("asset-item").filter(has_text="wide.png").get_by_test_id("asset-open").tap()
            page.get_by_test_id("tab-canvas").tap()
            page.get_by_test_id("asset-view").get_by_test_id("paint-mask").tap()
            painter = page.get_by_test_id("mask-painter")
            canvas = painter.get_by_test_id("mask-canvas")
            box = _box(canvas)
            viewport = page.viewport_size or {"width": 0, "height": 0}
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1  # the whole picture shows
            for button in ("mask-brush", "mask-eraser", "mask-invert", "mask-undo", "mask-save"):
                assert _box(painter.get_by_test_id(button))["height"] >= (40 if name == "phone" else 30)
            if name == "phone":  # three rows: name with Cancel and Save, the tools, the sliders (five before)
                tools = _box(painter.get_by_role("toolbar", name="Mask tools"))
                assert tools["height"] <= 3 * 44 + 40, f"the mask tools take {tools['height']} px of a phone's height"
                sliders = [_box(painter.get_by_test_id(s)) for s in ("mask-size", "mask-feather", "mask-opacity")]
                assert max(b["y"] for b in sliders) - min(b["y"] for b in sliders) <= 2, sliders
                assert all(b["width"] >= 48 for b in sliders), sliders
            x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5
            fingers = context.new_cdp_session(page)
            _touch(fingers, "touchStart", [(x, y)])
            for step in range(1, 8):
                _touch(fingers, "touchMove", [(x + 10 * step, y + 4 * step)])
            _touch(fingers, "touchEnd", [])
            expect(canvas).to_have_attribute("data-steps", "1")
            screenshot(page, f"masks-painter-{name}")
        finally:
            context.close()
    assert console.unexpected() == []
