"""Assets in real Chromium: uploads by drop and picker with their progress and refusals, the Asset
Browser (filters, search, rename, tags, trash), the Asset View (image zoom, video with its scrub
strip), the project cover on the gallery, and dragging an asset onto the canvas."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
from browser_support import ConsoleLog, create_project, csrf_headers, screenshot
from playwright.sync_api import BrowserContext, Locator, Page, expect

from support import wait_until


def _png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (220, 90, 40)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(255, 230, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _mp4(tmp_path: Path) -> bytes:
    import av

    video = tmp_path / "clip.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=30)  # not 24: the rate a viewer would assume
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for i in range(48):
            pixels = np.zeros((96, 160, 3), np.uint8)
            pixels[:, :, 0] = (i * 5) % 255
            pixels[:, (i * 3) % 160 :, 2] = 200
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return video.read_bytes()


def _wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        sound.writeframes(b"\x00\x00" * int(seconds * rate))
    return out.getvalue()


def _upload(
    context: BrowserContext,
    url: str,
    project_id: object,
    name: str,
    data: bytes,
    mime: str = "application/octet-stream",
    status: int = 201,
) -> dict:
    answer = context.request.post(
        f"{url}/api/v1/projects/{project_id}/assets",
        headers=csrf_headers(context),
        multipart={"file": {"name": name, "mimeType": mime, "buffer": data}},
    )
    assert answer.status == status, answer.text()
    body = answer.json()
    return body[0] if isinstance(body, list) else body  # type: ignore[no-any-return]


def _studio(page: Page, url: str, project_id: object) -> Locator:
    page.goto(f"{url}/projects/{project_id}")
    browser = page.get_by_test_id("asset-browser")
    expect(browser).to_be_visible()
    # Drops count once the project (and the caller's right to edit it) has loaded: Upload shows then.
    expect(browser.get_by_test_id("asset-upload")).to_be_visible()
    return browser


def _item(page: Page, name: str) -> Locator:
    return page.get_by_test_id("asset-item").filter(has=page.get_by_test_id("asset-name").get_by_text(name, exact=True))


def _loaded(image: Locator) -> None:
    expect(image).to_be_visible()
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0


def _drop_files(target: Locator, files: list[tuple[str, str, bytes]]) -> None:
    """Drops files on `target` as the desktop would: dragenter, dragover, drop with a DataTransfer."""
    payload = [{"name": n, "type": t, "data": base64.b64encode(d).decode()} for n, t, d in files]
    target.evaluate(
        """(el, files) => {
            const dt = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
                dt.items.add(new File([bytes], f.name, { type: f.type }));
            }
            for (const type of ['dragenter', 'dragover']) {
                el.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
            }
            el.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
        }""",
        payload,
    )


def test_a_dropped_image_appears_and_opens_in_the_asset_view(
    desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog
) -> None:
    project = create_project(desktop, studio_url, "Moodboard")
    browser = _studio(page, studio_url, project["id"])
    expect(page.get_by_test_id("asset-empty")).to_contain_text("No assets yet")

    _drop_files(browser, [("sunset.png", "image/png", _png(64, 48))])
    item = _item(page, "sunset.png")
    expect(item).to_have_count(1)
    _loaded(item.get_by_test_id("asset-thumb"))
    expect(page.get_by_test_id("asset-drop-overlay")).to_have_count(0)

    # More by the picker, several at once, each with its own line in the queue.
    page.get_by_test_id("asset-file-input").set_input_files(
        [
            {"name": f"frame-{i}.png", "mimeType": "image/png", "buffer": _png(96, 64, color)}
            for i, color in enumerate([(40, 120, 220), (30, 170, 120), (160, 60, 200)], 1)
        ]
    )
    expect(page.get_by_test_id("asset-item")).to_have_count(4)
    for thumb in page.get_by_test_id("asset-thumb").all():
        _loaded(thumb)
    page.wait_for_load_state("networkidle")
    screenshot(page, "assets-browser")

    item.get_by_test_id("asset-open").click()
    expect(page.get_by_role("tab", name="Asset View")).to_have_attribute("aria-selected", "true")
    view = page.get_by_test_id("asset-view")
    _loaded(view.get_by_test_id("asset-image"))
    expect(view.get_by_test_id("asset-dimensions")).to_have_text("64 × 48")
    expect(view.get_by_test_id("asset-meta-name")).to_have_text("sunset.png")
    expect(view.get_by_test_id("asset-provenance")).to_contain_text("Uploaded")
    expect(view.get_by_role("button", name="Regenerate")).to_have_count(0)  # only generated assets have a graph
    expect(view.get_by_test_id("asset-download")).to_have_attribute("href", re.compile(r"download=true"))
    # The inspector shows its editable fields.
    expect(page.get_by_test_id("asset-properties").get_by_label("Name")).to_have_value("sunset.png")

    # Zoom with the wheel, then back to fit.
    zoom = page.get_by_test_id("zoom-level")
    fit_level = zoom.inner_text()
    page.get_by_test_id("image-viewer").hover()
    page.mouse.wheel(0, -400)
    expect(zoom).not_to_have_text(fit_level)
    page.get_by_test_id("zoom-fit").click()
    expect(zoom).to_have_text(fit_level)
    screenshot(page, "assets-view-image")
    assert console.unexpected() == []


def test_a_program_disguised_as_an_image_is_refused_in_the_queue(
    desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog
) -> None:
    project = create_project(desktop, studio_url, "Suspicious")
    program = (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
        + b"\x00" * 200
        + b"This program cannot be run in DOS mode"
    )
    refusal = desktop.request.post(
        f"{studio_url}/api/v1/projects/{project['id']}/assets",
        headers=csrf_headers(desktop),
        multipart={"file": {"name": "probe.png", "mimeType": "image/png", "buffer": program}},
    )
    assert refusal.status == 415, refusal.text()
    detail = refusal.json()["detail"]

    browser = _studio(page, studio_url, project["id"])
    _drop_files(browser, [("x.png", "image/png", program)])
    upload = page.get_by_test_id("upload-item").filter(has_text="x.png")
    expect(upload).to_have_attribute("data-state", "failed")
    expect(upload.get_by_test_id("upload-error")).to_contain_text(detail)
    expect(page.get_by_test_id("asset-item")).to_have_count(0)

    upload.get_by_test_id("upload-retry").click()  # the same refusal again
    expect(upload).to_have_attribute("data-state", "failed")
    expect(upload.get_by_test_id("upload-error")).to_contain_text(detail)
    upload.get_by_test_id("upload-dismiss").click()
    expect(page.get_by_test_id("upload-item")).to_have_count(0)
    assert console.unexpected(415) == []


def test_rename_tag_search_trash_and_restore(
    desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog
) -> None:
    project = create_project(desktop, studio_url, "Catalogue")
    _upload(desktop, studio_url, project["id"], "IMG_0001.png", _png(), "image/png")
    _upload(desktop, studio_url, project["id"], "other.png", _png(color=(20, 20, 200)), "image/png")
    _studio(page, studio_url, project["id"])
    expect(page.get_by_test_id("asset-item")).to_have_count(2)

    item = _item(page, "IMG_0001.png")
    item.get_by_test_id("asset-menu").click()
    page.get_by_role("menuitem", name=re.compile("Rename")).click()
    name = page.get_by_test_id("asset-rename-input")
    expect(name).to_be_focused()
    name.fill("Harbour at dusk")
    name.press("Enter")
    item = _item(page, "Harbour at dusk")
    expect(item).to_have_count(1)

    item.get_by_test_id("asset-menu").click()
    page.get_by_role("menuitem", name=re.compile("Edit tags")).click()
    dialog = page.get_by_test_id("asset-tags-dialog")
    dialog.get_by_label("Tags").fill("harbour, evening")
    dialog.get_by_role("button", name="Save tags").click()
    expect(dialog).to_be_hidden()

    search = page.get_by_role("searchbox", name="Search assets")
    search.press_sequentially("dusk", delay=30)
    expect(page.get_by_test_id("asset-name")).to_have_text(["Harbour at dusk"])
    search.fill("nothing like it")
    expect(page.get_by_test_id("asset-empty")).to_contain_text("No assets match “nothing like it”")
    search.fill("")
    expect(page.get_by_test_id("asset-item")).to_have_count(2)

    page.get_by_test_id("asset-tag-filter").select_option("evening")
    expect(page.get_by_test_id("asset-name")).to_have_text(["Harbour at dusk"])
    page.get_by_test_id("asset-tag-filter").select_option("")
    expect(page.get_by_test_id("asset-item")).to_have_count(2)

    item.get_by_test_id("asset-menu").click()
    page.get_by_role("menuitem", name=re.compile("Move to trash")).click()
    page.get_by_test_id("confirm-dialog").get_by_role("button", name="Move to trash").click()
    expect(_item(page, "Harbour at dusk")).to_have_count(0)
    expect(page.get_by_test_id("asset-item")).to_have_count(1)

    page.get_by_test_id("asset-trash-toggle").click()
    trashed = _item(page, "Harbour at dusk")
    expect(trashed).to_have_count(1)
    trashed.get_by_test_id("asset-menu").click()
    page.get_by_role("menuitem", name="Restore").click()
    expect(page.get_by_test_id("asset-empty")).to_contain_text("The trash is empty")
    page.get_by_test_id("asset-trash-toggle").click()
    expect(page.get_by_test_id("asset-item")).to_have_count(2)

    answer = desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}/assets?q=dusk").json()
    assert [(a["name"], sorted(a["tags"]), a["trashed_at"]) for a in answer["items"]] == [
        ("Harbour at dusk", ["evening", "harbour"], None)
    ]
    assert console.unexpected() == []


def test_an_image_set_as_cover_shows_on_the_gallery_card(
    desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog
) -> None:
    project = create_project(desktop, studio_url, "Covered")
    chosen = _upload(desktop, studio_url, project["id"], "chosen.png", _png(color=(10, 160, 90)), "image/png")
    _upload(desktop, studio_url, project["id"], "newest.png", _png(color=(200, 30, 30)), "image/png")
    _studio(page, studio_url, project["id"])
    _item(page, "chosen.png").get_by_test_id("asset-menu").click()
    page.get_by_role("menuitem", name="Set as project cover").click()
    expect(page.get_by_test_id("asset-notice")).to_contain_text("is the project cover")
    detail = desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}").json()
    assert detail["cover_asset_id"] == chosen["id"]

    page.goto(studio_url)
    card = page.get_by_test_id("project-card").filter(has_text="Covered")
    cover = card.get_by_test_id("card-cover")
    expect(cover).to_have_attribute("src", re.compile(chosen["id"]))
    _loaded(cover)
    assert console.unexpected() == []


def test_a_video_plays_with_frame_steps_and_its_scrub_strip(
    desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog, tmp_path: Path
) -> None:
    project = create_project(desktop, studio_url, "Clips")
    _upload(desktop, studio_url, project["id"], "clip.mp4", _mp4(tmp_path), "video/mp4")
    _studio(page, studio_url, project["id"])
    page.get_by_test_id("asset-item").first.get_by_test_id("asset-open").click()
    view = page.get_by_test_id("asset-view")
    video = view.get_by_test_id("asset-video")
    expect(video).to_be_visible()
    expect(video).to_have_attribute("src", re.compile(r"/content"))
    _loaded(view.get_by_test_id("asset-strip").locator("img"))
    expect(view.get_by_test_id("asset-duration")).to_have_text(re.compile(r"0:0[12]"))
    # Debian's Chromium has no MPEG-4 Part 2 decoder: the player and its controls are there, playback is not tested.
    expect(view.get_by_role("button", name="Next frame")).to_be_visible()
    expect(view.get_by_role("button", name="Previous frame")).to_be_visible()
    # A frame is the clip's own (its file says 30 per second), not an assumed 24th of a second.
    expect(view.get_by_test_id("video-fps")).to_have_text("30 fps")
    expect(view.get_by_test_id("asset-fps")).to_have_text("30 fps")
    expect(view.get_by_role("button", name="Next frame")).to_have_attribute("title", "Next frame (1/30 s)")
    expect(page.get_by_test_id("image-viewer")).to_have_count(0)
    screenshot(page, "assets-view-video")
    assert console.unexpected() == []


def _drop_on_canvas(page: Page, source: Locator) -> dict:
    """An HTML5 drag from an asset tile to the canvas, carrying the asset as the tile sets it; the payload."""
    canvas = page.get_by_test_id("scene-canvas")
    box = canvas.bounding_box()
    assert box is not None
    data = source.evaluate("""el => {
        const dt = new DataTransfer();
        el.dispatchEvent(new DragEvent('dragstart', { bubbles: true, cancelable: true, dataTransfer: dt }));
        return JSON.parse(dt.getData('application/x-mediastudio-asset'));
    }""")
    canvas.evaluate(
        """(el, [payload, x, y]) => {
            const dt = new DataTransfer();
            dt.setData('application/x-mediastudio-asset', payload);
            const init = { bubbles: true, cancelable: true, dataTransfer: dt, clientX: x, clientY: y };
            el.dispatchEvent(new DragEvent('dragover', init));
            el.dispatchEvent(new DragEvent('drop', init));
        }""",
        [json.dumps(data), box["x"] + box["width"] / 2, box["y"] + box["height"] / 3],
    )
    return data


def test_an_asset_dragged_onto_the_canvas_becomes_a_load_node(
    desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog, tmp_path: Path
) -> None:
    project = create_project(desktop, studio_url, "Wiring")
    asset = _upload(desktop, studio_url, project["id"], "plate.png", _png(), "image/png")
    clip = _upload(desktop, studio_url, project["id"], "clip.mp4", _mp4(tmp_path), "video/mp4")
    sound = _upload(desktop, studio_url, project["id"], "room-tone.wav", _wav(), "audio/wav")
    _studio(page, studio_url, project["id"])
    expect(page.get_by_test_id("scene-canvas")).to_be_visible()
    before = page.get_by_test_id("graph-node").count()

    data = _drop_on_canvas(page, _item(page, "plate.png"))
    assert data == {"project_id": project["id"], "asset_id": asset["id"], "name": "plate.png", "category": "image",
                    "mime": "image/png"}
    expect(page.get_by_test_id("graph-node")).to_have_count(before + 1)
    expect(page.get_by_test_id("graph-node").filter(has_text="plate.png")).to_have_count(1)
    # A clip becomes a Load video node, its clip chosen in the inspector; a sound cannot go into a graph.
    _drop_on_canvas(page, _item(page, "clip.mp4"))
    expect(page.get_by_test_id("graph-node")).to_have_count(before + 2)
    inspector = page.get_by_test_id("node-inspector")
    expect(inspector).to_have_attribute("data-node-type", "load_video")
    expect(inspector.locator('[data-param="asset_id"] [data-testid="asset-chosen"]')).to_have_attribute(
        "data-asset-id", clip["id"])
    _drop_on_canvas(page, _item(page, "room-tone.wav"))
    expect(page.get_by_text("'room-tone.wav' cannot go into a graph")).to_be_visible()
    expect(page.get_by_test_id("graph-node")).to_have_count(before + 2)
    screenshot(page, "canvas-assets-dropped")

    # The nodes travel through the scene's live document: the server's graph has them at once.
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    detail = desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}").json()
    scene = detail["scenes"][0]["id"]

    def dropped(graph: dict) -> list[dict]:
        return [n for n in graph["nodes"].values() if n.get("params", {}).get("asset_id") in (asset["id"], clip["id"])]

    graph = wait_until(lambda: desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene}/graph"
                                                   ).json(),
                       until=lambda graph: len(dropped(graph)) == 2, interval=0.1, message="both nodes on the server")
    nodes = dropped(graph)
    assert sorted((n["type"], n["title"]) for n in nodes) == [("load_image", "plate.png"), ("load_video", "clip.mp4")]
    assert not [n for n in graph["nodes"].values() if n.get("params", {}).get("asset_id") == sound["id"]]
    assert console.unexpected() == []


def test_the_asset_browser_on_a_phone(phone: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(phone, studio_url, "Pocket")
    for i, color in enumerate([(220, 90, 40), (40, 120, 220), (30, 170, 120)]):
        _upload(phone, studio_url, project["id"], f"shot-{i}.png", _png(color=color), "image/png")
    page = phone.new_page()
    console.watch(page)
    page.goto(f"{studio_url}/projects/{project['id']}")
    page.get_by_test_id("tab-browser").tap()
    expect(page.get_by_test_id("asset-item")).to_have_count(3)
    for thumb in page.get_by_test_id("asset-thumb").all():
        _loaded(thumb)
    screenshot(page, "assets-phone-browser")
    _item(page, "shot-1.png").get_by_test_id("asset-open").tap()
    page.get_by_test_id("tab-canvas").tap()
    _loaded(page.get_by_test_id("asset-view").get_by_test_id("asset-image"))
    screenshot(page, "assets-phone-view")
    assert console.unexpected() == []


def test_the_asset_browser_recovers_when_the_network_comes_back(
    desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog
) -> None:
    project = create_project(desktop, studio_url, "Signal")
    _upload(desktop, studio_url, project["id"], "harbour.png", _png(), "image/png")
    browser = _studio(page, studio_url, project["id"])
    expect(_item(page, "harbour.png")).to_be_visible()

    desktop.set_offline(True)
    browser.get_by_test_id("asset-search").fill("harb")  # a listing asked for while the network is gone
    problem = page.get_by_test_id("asset-problem")
    expect(problem).to_contain_text("cannot be reached")
    screenshot(page, "assets-offline")
    desktop.set_offline(False)
    # Nothing is clicked: the browser asks again by itself once the server answers.
    expect(problem).to_have_count(0, timeout=15_000)
    expect(_item(page, "harbour.png")).to_be_visible()
    screenshot(page, "assets-back-online")
    # Offline, the browser itself reports the requests (and the service worker's update check) it could not make.
    offline = ("ERR_INTERNET_DISCONNECTED", "An unknown error occurred when fetching the script")
    assert [e for e in console.unexpected() if not any(o in e for o in offline)] == []
