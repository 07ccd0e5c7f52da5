"""Compare takes in real Chromium: two takes made by a tiny Stable Diffusion model (random weights, 64×64 in a few
steps on the CPU) opened from the Asset Browser's selection, side by side with linked zoom, as a slider (dragged
and moved by keys) and an onion skin, the differing seed and steps listed; two clips played together; and
"Compare with…" from the Asset View on a phone."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from browser_support import ADMIN, PHONE, ConsoleLog, create_project, csrf_headers, skip_tour
from playwright.sync_api import Browser, BrowserContext, Page, expect

from support import start_server

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}
SHOTS = Path(os.environ.get("MEDIASTUDIO_COMPARE_SHOTS", "/tmp/shots-compare"))


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tiny_models import build_tiny_sd

    folder = tmp_path_factory.mktemp("compare-ui")
    model = build_tiny_sd(tmp_path_factory.mktemp("compare-ui-models") / "tiny-sd")
    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(model), "--data-dir",
                            str(folder / "data")], capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    server = start_server(folder, env=ENV)
    assert httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials()).status_code == 201
    yield server.url
    server.stop()


@pytest.fixture
def admin(browser: Browser, url: str) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=DESKTOP)  # 1280×800
    context.set_default_timeout(15_000)
    answer = context.request.post(f"{url}/api/v1/auth/login", data={"username": ADMIN.username,
                                                                     "password": ADMIN.password})
    assert answer.status == 200, answer.text()
    skip_tour(context, url)
    yield context
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _node(type_: str, title: str, **params: Any) -> dict[str, Any]:
    return {"type": type_, "title": title, "position": {"x": 0, "y": 0}, "params": params, "bypass": False}


def generate(context: BrowserContext, url: str, project_id: str, seed: int, steps: int) -> str:
    """A take made by a real run of a text-to-image graph; its asset id."""
    headers = csrf_headers(context)
    scene = context.request.get(f"{url}/api/v1/projects/{project_id}/scenes").json()["items"][0]
    nodes = {"prompt": _node("prompt", "Prompt", text="a lighthouse at dusk"),
             "seed": _node("seed", "Seed", value=seed),
             "model": _node("model_loader", "Model", model="tiny-sd"),
             "generate": _node("text_to_image", "Hero shot", width=64, height=64, steps=steps, guidance_scale=5.0),
             "shot": _node("shot", "Shot", name="Hero")}
    links = [("prompt", "text", "generate", "prompt"), ("seed", "seed", "generate", "seed"),
             ("model", "model", "generate", "model"), ("generate", "image", "shot", "images")]
    edges = {f"{s}:{o}->{t}:{i}": {"source": s, "source_handle": o, "target": t, "target_handle": i}
             for s, o, t, i in links}
    put = context.request.put(f"{url}/api/v1/projects/{project_id}/scenes/{scene['id']}/graph",
                              data={"nodes": nodes, "edges": edges}, headers=headers)
    assert put.ok, put.text()
    task = context.request.post(f"{url}/api/v1/projects/{project_id}/scenes/{scene['id']}/run", data={},
                                headers=headers).json()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        task = context.request.get(f"{url}/api/v1/tasks/{task['id']}").json()
        if task["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.3)
    assert task["status"] == "succeeded", task
    return str(task["result"]["assets"][0])


def webm(shade: int, fps: int = 24) -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(48):
            pixels = np.full((64, 96, 3), shade, np.uint8)
            pixels[:, (i * 2) % 96 :, 2] = 220
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def upload(context: BrowserContext, url: str, project_id: str, name: str, data: bytes, mime: str) -> str:
    answer = context.request.post(f"{url}/api/v1/projects/{project_id}/assets", headers=csrf_headers(context),
                                  multipart={"file": {"name": name, "mimeType": mime, "buffer": data}})
    assert answer.status == 201, answer.text()
    return str(answer.json()[0]["id"])


def test_two_takes_compared_from_the_asset_browser(admin: BrowserContext, url: str, console: ConsoleLog) -> None:
    project = create_project(admin, url, "Lighthouse")
    first = generate(admin, url, str(project["id"]), seed=7, steps=2)
    second = generate(admin, url, str(project["id"]), seed=8, steps=3)
    page = admin.new_page()
    console.watch(page)
    page.goto(f"{url}/projects/{project['id']}")
    tiles = page.get_by_test_id("asset-item")
    expect(tiles).to_have_count(2)
    page.locator(f'[data-testid="asset-item"][data-asset-id="{first}"]').get_by_test_id("asset-open").click()
    page.locator(f'[data-testid="asset-item"][data-asset-id="{second}"]').get_by_test_id("asset-open").click(
        modifiers=["Control"])
    page.get_by_test_id("asset-compare").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}/compare\?assets={first},{second}$"))

    # The differences: seed and steps, the values unlike take A's highlighted; the rest summed up as the same.
    differences = page.get_by_test_id("compare-difference")
    expect(differences).to_have_count(2)
    seed = page.locator('[data-testid="compare-difference"][data-path="seed"]')
    expect(seed).to_contain_text("also Seed.value")
    expect(seed.locator("td")).to_have_text([re.compile("7"), re.compile("8")])
    expect(seed.locator('td[data-differs="true"]')).to_have_count(1)
    expect(page.locator('[data-testid="compare-difference"][data-path="Hero shot.steps"] td')).to_have_text(
        [re.compile("2"), re.compile("3")])
    expect(page.get_by_test_id("compare-same")).to_contain_text("the same in every take")

    # Side by side, zoom is linked: one button zooms both panes.
    panes = page.get_by_test_id("compare-pane")
    expect(panes).to_have_count(2)
    expect(panes.first).to_contain_text("seed 7")
    page.get_by_test_id("compare-zoom-in").click()
    expect(page.get_by_test_id("compare-zoom")).to_have_text("125%")
    for index in range(2):
        assert "scale(1.25)" in (panes.nth(index).locator("div[style]").first.get_attribute("style") or "")
    shot(page, "compare-side-desktop")

    # The slider: dragged with the mouse, then moved by the keyboard.
    page.get_by_test_id("compare-mode-slider").click()
    divider = page.get_by_test_id("compare-divider")
    expect(divider).to_have_attribute("aria-valuenow", "50")
    box = page.get_by_test_id("compare-overlay").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    expect(divider).to_have_attribute("aria-valuenow", "25")
    divider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(divider).to_have_attribute("aria-valuenow", "35")
    page.keyboard.press("End")
    expect(divider).to_have_attribute("aria-valuenow", "100")
    page.keyboard.press("Shift+ArrowLeft")
    expect(divider).to_have_attribute("aria-valuenow", "90")
    assert "inset(0px 0px 0px 90%)" in (page.get_by_test_id("compare-overlay-b").evaluate("e => e.style.clipPath"))
    page.keyboard.press("Home")
    for _ in range(25):
        page.keyboard.press("ArrowRight")
    shot(page, "compare-slider-desktop")

    # The slider zooms and pans both pictures together, as side by side does (the zoom kept from there: 125%);
    # zoomed in, a drag on the picture pans, and the divider stays where it was on the screen.
    expect(page.get_by_test_id("compare-zoom")).to_have_text("125%")
    page.get_by_test_id("compare-zoom-in").click()
    expect(page.get_by_test_id("compare-zoom")).to_have_text("156%")
    layers = ("compare-overlay-a", "compare-overlay-b")

    def transforms() -> list[str]:
        return [page.get_by_test_id(name).locator("xpath=descendant-or-self::div[contains(@style, 'scale')]")
                .first.get_attribute("style") or "" for name in layers]

    assert all("scale(1.5625)" in style for style in transforms()), transforms()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8 - 30, box["y"] + box["height"] * 0.3 + 20, steps=4)
    page.mouse.up()
    assert all("translate(-30px, 20px)" in style for style in transforms()), transforms()
    expect(divider).to_have_attribute("aria-valuenow", "50")  # panned, not moved
    page.get_by_test_id("compare-overlay").focus()
    page.keyboard.press("ArrowLeft")  # the arrows pan a focused, zoomed overlay
    assert all("translate(10px, 20px)" in style for style in transforms()), transforms()
    shot(page, "compare-slider-zoomed-desktop")

    # The onion skin: take B's opacity follows its slider; the wheel zooms both pictures there too.
    page.get_by_test_id("compare-mode-onion").click()
    page.get_by_test_id("compare-opacity").fill("20")
    assert page.get_by_test_id("compare-overlay-b").evaluate("e => e.style.opacity") == "0.2"
    page.get_by_test_id("compare-overlay").focus()
    page.keyboard.press("0")
    expect(page.get_by_test_id("compare-zoom")).to_have_text("100%")
    onion = page.get_by_test_id("compare-overlay").bounding_box()
    assert onion is not None
    page.mouse.move(onion["x"] + onion["width"] / 2, onion["y"] + onion["height"] / 2)
    page.mouse.wheel(0, -300)
    expect(page.get_by_test_id("compare-zoom")).not_to_have_text("100%")
    assert transforms()[0] == transforms()[1] and "scale(1)" not in transforms()[0]
    shot(page, "compare-onion-zoomed-desktop")
    page.get_by_test_id("compare-fit").click()

    for size, name in ((TABLET, "tablet"), (PHONE, "phone")):
        page.set_viewport_size(size)
        page.get_by_test_id("compare-mode-side").click()
        shot(page, f"compare-side-{name}")
        page.get_by_test_id("compare-mode-slider").click()
        page.get_by_test_id("compare-zoom-in").click()
        shot(page, f"compare-slider-{name}")
        page.get_by_test_id("compare-mode-onion").click()
        shot(page, f"compare-onion-{name}")
        page.get_by_test_id("compare-fit").click()
    page.get_by_test_id("compare-differences").scroll_into_view_if_needed()
    shot(page, "compare-differences-phone")
    assert console.unexpected() == []


def test_clips_play_pause_and_step_together(admin: BrowserContext, url: str, console: ConsoleLog) -> None:
    project = create_project(admin, url, "Clips")
    ids = [upload(admin, url, str(project["id"]), f"clip-{shade}.webm", webm(shade, fps=30), "video/webm")
           for shade in (40, 160)]
    page = admin.new_page()
    console.watch(page)
    page.goto(f"{url}/projects/{project['id']}/compare?assets={','.join(ids)}")
    videos = page.get_by_test_id("compare-video")
    expect(videos).to_have_count(2)
    expect(page.get_by_test_id("compare-mode-slider")).to_be_disabled()  # no pictures to lay over each other
    page.wait_for_function("() => [...document.querySelectorAll('video')].every(v => v.readyState >= 2)")
    page.get_by_test_id("compare-play").click()
    page.wait_for_function("() => document.querySelector('video').currentTime > 0.5")
    page.get_by_test_id("compare-play").click()  # pause
    times = videos.evaluate_all("vs => vs.map(v => [v.currentTime, v.paused])")
    assert all(paused for _, paused in times), times
    assert abs(times[0][0] - times[1][0]) < 0.15, times
    page.get_by_test_id("compare-seek").fill("0.5")
    page.get_by_test_id("compare-frame-forward").click()
    page.wait_for_function("() => [...document.querySelectorAll('video')]"
                           ".every(v => Math.abs(v.currentTime - (0.5 + 1/30)) < 0.01)")  # the clips' own rate
    expect(page.get_by_test_id("compare-time")).to_contain_text("frame 16")
    expect(page.get_by_test_id("compare-fps")).to_have_text("30 fps")
    shot(page, "compare-clips-desktop")
    assert console.unexpected() == []


def test_compare_with_from_the_asset_view_on_a_phone(browser: Browser, admin: BrowserContext, url: str,
                                                    console: ConsoleLog) -> None:
    project = create_project(admin, url, "Phone")
    colours = [(200, 40, 40), (40, 160, 200), (60, 200, 60)]
    ids = [upload(admin, url, str(project["id"]), f"ref-{i}.png", png(c), "image/png") for i, c in enumerate(colours)]
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                storage_state=admin.storage_state())
    try:
        page = phone.new_page()
        console.watch(page)
        page.goto(f"{url}/projects/{project['id']}?asset={ids[0]}")
        page.get_by_test_id("asset-compare-with").tap()
        picker = page.get_by_test_id("compare-picker")
        expect(picker).to_be_visible()
        shot(page, "compare-picker-phone")
        picker.locator(f'[data-testid="compare-pick"][data-asset-id="{ids[2]}"]').tap()
        picker.get_by_test_id("compare-picker-go").tap()
        expect(page).to_have_url(re.compile(rf"/compare\?assets={ids[0]},{ids[2]}$"))
        expect(page.get_by_test_id("compare-no-differences")).to_contain_text("uploads record none")
        page.get_by_test_id("compare-mode-slider").tap()
        divider = page.get_by_test_id("compare-divider")
        box = page.get_by_test_id("compare-overlay").bounding_box()
        assert box is not None
        page.touchscreen.tap(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
        expect(divider).to_have_attribute("aria-valuenow", "75")
        assert console.unexpected() == []
    finally:
        phone.close()


def test_takes_selected_without_a_keyboard_are_compared_on_a_phone(browser: Browser, admin: BrowserContext, url: str,
                                                                   console: ConsoleLog) -> None:
    """No Ctrl or Shift on a phone: each tile's menu adds it to the selection, and Compare opens the selected."""
    project = create_project(admin, url, "Thumbs")
    ids = [upload(admin, url, str(project["id"]), f"ref-{i}.png", png(c), "image/png")
           for i, c in enumerate([(200, 40, 40), (40, 160, 200)])]
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                storage_state=admin.storage_state())
    try:
        page = phone.new_page()
        console.watch(page)
        page.goto(f"{url}/projects/{project['id']}")
        page.get_by_role("button", name="Browser").first.tap()
        for asset_id in ids:
            tile = page.locator(f'[data-testid="asset-item"][data-asset-id="{asset_id}"]')
            tile.get_by_test_id("asset-menu").tap()
            page.get_by_test_id("asset-select-toggle").tap()
        page.get_by_test_id("asset-compare").tap()
        expect(page).to_have_url(re.compile(rf"/compare\?assets=({ids[0]},{ids[1]}|{ids[1]},{ids[0]})$"))
        assert console.unexpected() == []
    finally:
        phone.close()


def png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 80), colour).save(out, "PNG")
    return out.getvalue()
