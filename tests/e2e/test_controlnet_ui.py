"""ControlNet in real Chromium: the ControlNet and Control image nodes in the node palette, the ControlNet node's
parameters in the inspector (its folder picked from the server's list, each with the base it fits), on a desktop
and on a phone, and the admin Models page's ControlNets card. Screenshots go to /tmp/shots-controlnet/."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from browser_support import ADMIN, PHONE, ConsoleLog, create_project, csrf_headers, skip_tour
from playwright.sync_api import Browser, BrowserContext, Page, expect

from support import start_server, wait_until

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}
SHOTS = Path("/tmp/shots-controlnet")
LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tiny_models import build_tiny_controlnet, build_tiny_sd

    folder = tmp_path_factory.mktemp("controlnet-ui")
    data = folder / "data"
    model = build_tiny_sd(tmp_path_factory.mktemp("controlnet-ui-models") / "tiny-sd")
    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(model), "--data-dir",
                            str(data)], capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    build_tiny_controlnet(data / "models" / "edges-cn", seed=1)
    build_tiny_controlnet(data / "models" / "sd15-canny", seed=2, cross_attention_dim=768)  # an SD 1.x shape
    (data / "models" / "xl-cn").mkdir()  # an SDXL ControlNet's config (listed from it; never loaded here)
    (data / "models" / "xl-cn" / "config.json").write_text(json.dumps(
        {"_class_name": "ControlNetModel", "cross_attention_dim": 2048, "addition_embed_type": "text_time"}))
    server = start_server(folder, env=ENV)
    assert httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials()).status_code == 201
    assert httpx.get(f"{server.url}/api/v1/health").json()["ui"], "web_dist/ is not built: cd web && npm run build"
    yield server.url
    server.stop()


def _context(browser: Browser, url: str, viewport: dict[str, int], **options: object) -> BrowserContext:
    context = browser.new_context(viewport=viewport, **options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    answer = context.request.post(f"{url}/api/v1/auth/login", data={"username": ADMIN.username,
                                                                     "password": ADMIN.password})
    assert answer.status == 200, answer.text()
    skip_tour(context, url)
    return context


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _params(context: BrowserContext, url: str, project_id: str, scene_id: str, node_id: str) -> dict:
    graph = context.request.get(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/graph").json()
    return dict(graph["nodes"][node_id]["params"])


def test_the_controlnet_node_is_added_from_the_palette_and_set_in_the_inspector(
        browser: Browser, url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    desktop = _context(browser, url, LAPTOP)
    project = create_project(desktop, url, "Guided", "text-to-image")
    scene_id = desktop.request.get(f"{url}/api/v1/projects/{project['id']}").json()["scenes"][0]["id"]
    page = watched(desktop)
    page.goto(f"{url}/projects/{project['id']}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    page.get_by_test_id("add-node").click()
    page.get_by_test_id("palette-search").fill("control")
    expect(page.get_by_test_id("node-palette")).to_contain_text("ControlNet")
    expect(page.get_by_test_id("node-palette")).to_contain_text("Control image")
    _shot(page, "palette-desktop")
    page.get_by_test_id("palette-search").press("Enter")
    added = page.locator('[data-testid="graph-node"][data-node-type="controlnet"]')
    expect(added).to_have_count(1)
    node_id = added.get_attribute("data-node-id")
    assert node_id

    inspector = page.get_by_test_id("node-inspector")
    expect(inspector).to_have_attribute("data-node-id", node_id)
    folder = inspector.locator('[data-param="controlnet"] [data-testid="file-select"]')
    expect(folder.locator("option")).to_have_text([
        "Pick a ControlNet", "edges-cn", "sd15-canny (Stable Diffusion 1.x)",
        "xl-cn — for Stable Diffusion XL, not Stable Diffusion 1.x/2.x"])  # by the families planning refuses by
    expect(folder.locator("option[data-misfit]")).to_have_count(1)
    folder.select_option("edges-cn")
    for name in ("strength", "start", "end"):
        expect(inspector.locator(f'[data-param="{name}"]')).to_have_attribute("data-kind", "float")
    strength = inspector.get_by_label("strength", exact=True)
    strength.fill("0.7")
    strength.press("Tab")
    wait_until(lambda: _params(desktop, url, project["id"], scene_id, node_id),
               until=lambda p: (p.get("controlnet"), p.get("strength")) == ("edges-cn", 0.7),
               message="the ControlNet's folder and strength in the graph")
    expect(added.get_by_test_id("node-summary")).to_have_text("edges-cn · strength 0.7")
    _shot(page, "inspector-desktop")

    phone = _context(browser, url, PHONE, has_touch=True, is_mobile=True)
    small = watched(phone)
    small.goto(f"{url}/projects/{project['id']}")
    expect(small.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    small.locator(f'[data-testid="graph-node"][data-node-id="{node_id}"]').tap()
    small.get_by_test_id("tab-properties").tap()
    picked = small.get_by_test_id("node-inspector").locator('[data-param="controlnet"] [data-testid="file-select"]')
    expect(picked).to_have_value("edges-cn")
    box = picked.bounding_box()
    assert box is not None and box["height"] >= 40, box  # a finger's size
    assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(small, "inspector-phone")
    assert console.unexpected() == []
    desktop.close()
    phone.close()


def test_the_models_page_lists_controlnets_with_the_base_each_fits(
        browser: Browser, url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    context = _context(browser, url, LAPTOP)
    page = watched(context)
    page.goto(f"{url}/admin/models")
    card = page.get_by_test_id("controlnets")
    expect(card.get_by_test_id("controlnet")).to_have_count(3)
    expect(card.locator('[data-controlnet="sd15-canny"]')).to_contain_text("Fits Stable Diffusion 1.x")
    expect(card.locator('[data-controlnet="edges-cn"]')).to_contain_text("text width of 32")
    expect(page.get_by_test_id("installed-model")).to_have_count(1)  # ControlNets are not pipelines
    card.scroll_into_view_if_needed()
    _shot(page, "models-desktop")
    for name, size in (("tablet", TABLET), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(f"{url}/admin/models")
        expect(page.get_by_test_id("controlnets").get_by_test_id("controlnet")).to_have_count(3)
        page.get_by_test_id("controlnets").scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
        _shot(page, f"models-{name}")
    assert console.unexpected() == []
    context.close()


def _square() -> bytes:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (64, 64))
    ImageDraw.Draw(picture).rectangle((16, 16, 47, 47), fill="white")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_run_shows_the_edges_and_a_controlnet_of_another_base_is_marked(
        browser: Browser, url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    context = _context(browser, url, LAPTOP)
    project = create_project(context, url, "Edges")
    project_id = project["id"]
    scene_id = context.request.get(f"{url}/api/v1/projects/{project_id}").json()["scenes"][0]["id"]
    uploaded = context.request.post(f"{url}/api/v1/projects/{project_id}/assets", headers=csrf_headers(context),
                                    multipart={"file": {"name": "square.png", "mimeType": "image/png",
                                                        "buffer": _square()}})
    assert uploaded.ok, uploaded.text()

    def place(type_: str, x: int, y: int, **params: object) -> dict[str, object]:
        return {"type": type_, "title": type_, "position": {"x": x, "y": y}, "params": params, "bypass": False}

    def link(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
        return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                             "target_handle": into}

    nodes = {"load": place("load_image", 0, 0, asset_id=uploaded.json()[0]["id"]),
             "prep": place("control_image", 180, 0), "model": place("model_loader", 180, 200, model="tiny-sd"),
             "cn": place("controlnet", 360, 100, controlnet="edges-cn"),
             "make": place("text_to_image", 540, 100, width=64, height=64, steps=2, prompt_text="a lighthouse"),
             "shot": place("shot", 720, 100, name="Guided")}
    edges = dict([link("load", "image", "prep", "image"), link("prep", "image", "cn", "image"),
                  link("model", "model", "cn", "model"), link("cn", "model", "make", "model"),
                  link("make", "image", "shot", "images")])
    put = context.request.put(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/graph",
                              data={"nodes": nodes, "edges": edges}, headers=csrf_headers(context))
    assert put.ok, put.text()
    page = watched(context)
    page.goto(f"{url}/projects/{project_id}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    started = context.request.post(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/run",
                                   data={"force": True}, headers=csrf_headers(context))
    assert started.status == 201, started.text()
    task = wait_until(lambda: context.request.get(f"{url}/api/v1/tasks/{started.json()['id']}").json(),
                      until=lambda t: t["status"] in ("succeeded", "failed"), timeout=120,
                      message="the run to end")
    assert task["status"] == "succeeded", task.get("error")
    for node_id in ("prep", "make"):
        node = page.locator(f'[data-testid="graph-node"][data-node-id="{node_id}"]')
        expect(node.get_by_test_id("node-state")).to_have_attribute("data-state", "done")
    page.wait_for_timeout(1_500)  # the previews' pictures load
    prep = page.locator('[data-testid="graph-node"][data-node-id="prep"]')
    expect(prep.get_by_test_id("node-summary")).to_have_text("canny 100/200")
    expect(prep.get_by_test_id("node-preview")).to_be_visible()
    _shot(page, "run-desktop")

    page.locator('[data-testid="graph-node"][data-node-id="cn"]').click()
    inspector = page.get_by_test_id("node-inspector")
    inspector.locator('[data-param="controlnet"] [data-testid="file-select"]').select_option("sd15-canny")
    problem = page.locator('[data-testid="graph-node"][data-node-id="cn"]').get_by_test_id("node-problem")
    expect(problem).to_contain_text("The ControlNet 'sd15-canny' was made for Stable Diffusion 1.x", timeout=20_000)
    _shot(page, "mismatch-desktop")
    assert console.unexpected() == []
    context.close()


def test_a_depth_map_with_no_depth_model_is_a_problem_shown_in_the_inspector(
        browser: Browser, url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    """No depth model is installed here: the Control image node asking for a depth map says so under its
    `preprocessor`, naming where to put one, before anything runs (on a desktop, a tablet and a phone)."""
    context = _context(browser, url, LAPTOP)
    project = create_project(context, url, "Depth")
    project_id = project["id"]
    scene_id = context.request.get(f"{url}/api/v1/projects/{project_id}").json()["scenes"][0]["id"]
    uploaded = context.request.post(f"{url}/api/v1/projects/{project_id}/assets", headers=csrf_headers(context),
                                    multipart={"file": {"name": "square.png", "mimeType": "image/png",
                                                        "buffer": _square()}})
    assert uploaded.ok, uploaded.text()
    nodes = {"load": {"type": "load_image", "title": "Photo", "position": {"x": 0, "y": 0},
                      "params": {"asset_id": uploaded.json()[0]["id"]}, "bypass": False},
             "prep": {"type": "control_image", "title": "Depth", "position": {"x": 220, "y": 0},
                      "params": {"preprocessor": "depth"}, "bypass": False},
             "shot": {"type": "shot", "title": "Shot", "position": {"x": 440, "y": 0}, "params": {"name": "Map"},
                      "bypass": False}}
    edges = {"load:image->prep:image": {"source": "load", "source_handle": "image", "target": "prep",
                                        "target_handle": "image"},
             "prep:image->shot:images": {"source": "prep", "source_handle": "image", "target": "shot",
                                         "target_handle": "images"}}
    put = context.request.put(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/graph",
                              data={"nodes": nodes, "edges": edges}, headers=csrf_headers(context))
    assert put.ok, put.text()
    refused = context.request.post(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/run",
                                   data={"force": True}, headers=csrf_headers(context))
    assert refused.status == 422 and "no depth model is installed" in refused.json()["detail"]
    context.close()
    for name, size in (("desktop", LAPTOP), ("tablet", TABLET), ("phone", PHONE)):
        touch = name != "desktop"
        viewer = _context(browser, url, size, **({"has_touch": True, "is_mobile": name == "phone"} if touch else {}))
        page = watched(viewer)
        page.goto(f"{url}/projects/{project_id}")
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        prep = page.locator('[data-testid="graph-node"][data-node-id="prep"]')
        if touch:
            page.get_by_test_id("tab-canvas").tap()
            prep.tap()
            page.get_by_test_id("tab-properties").tap()
        else:
            prep.click()
        expect(prep.get_by_test_id("node-problem")).to_contain_text("no depth model is installed")
        problem = page.get_by_test_id("node-inspector").locator(
            '[data-param="preprocessor"] [data-testid="param-problem"]')
        expect(problem).to_contain_text("no depth model is installed, so no depth map can be made")
        expect(problem).to_contain_text("in the data folder's models/")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
        _shot(page, f"depth-not-installed-{name}")
        viewer.close()
    assert console.unexpected() == []
