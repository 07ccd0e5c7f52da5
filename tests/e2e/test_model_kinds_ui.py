"""Model kinds in real Chromium: the Models page lists LoRAs, VAEs and IP-Adapters by kind with the base each was
made for (desktop and phone), and a LoRA made for another base is marked in the inspector's picker and shown as a
problem on its node."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from browser_support import ADMIN, DESKTOP, PHONE, ConsoleLog, create_project, csrf_headers, skip_tour
from browser_support import screenshot as _shot
from playwright.sync_api import Browser, BrowserContext, Page, expect

from support import add_model, start_server

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tiny_models import build_tiny_ip_adapter, build_tiny_lora, build_tiny_sd, build_tiny_vae

    folder = tmp_path_factory.mktemp("kinds-ui")
    data = folder / "data"
    model = build_tiny_sd(tmp_path_factory.mktemp("kinds-ui-models") / "tiny-sd")
    add_model(model, data)
    build_tiny_lora(data / "loras" / "ink.safetensors", seed=1)
    build_tiny_lora(data / "loras" / "xl.safetensors", seed=4, metadata={"ss_base_model_version": "sdxl_base_v1-0"})
    build_tiny_vae(data / "models" / "xl-vae", seed=6, scaling_factor=0.13025)
    build_tiny_ip_adapter(data / "ipadapters", seed=8)
    server = start_server(folder, env=ENV)
    assert httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials()).status_code == 201
    assert httpx.get(f"{server.url}/api/v1/health").json()["ui"], "web_dist/ is not built: cd web && npm run build"
    yield server.url
    server.stop()


def _admin(browser: Browser, url: str, **options: object) -> BrowserContext:
    context = browser.new_context(**options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    answer = context.request.post(f"{url}/api/v1/auth/login", data={"username": ADMIN.username,
                                                                     "password": ADMIN.password})
    assert answer.status == 200, answer.text()
    skip_tour(context, url)
    return context


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_models_page_lists_each_kind_with_its_base(browser: Browser, url: str, size: str,
                                                       watched: Callable[[BrowserContext], Page],
                                                       console: ConsoleLog) -> None:
    options = {"viewport": DESKTOP} if size == "desktop" else {"viewport": PHONE, "is_mobile": True,
                                                               "has_touch": True}
    context = _admin(browser, url, **options)
    page = watched(context)
    page.goto(f"{url}/admin/models")
    expect(page.get_by_test_id("model-base")).to_have_text("Stable Diffusion 1.x/2.x")
    loras = page.get_by_test_id("kind-lora")
    expect(loras.get_by_test_id("installed-addon")).to_have_count(2)
    expect(loras.locator('[data-name="xl.safetensors"] [data-testid="addon-base"]')).to_have_text(
        "Stable Diffusion XL")
    expect(loras.locator('[data-name="ink.safetensors"] [data-testid="addon-base"]')).to_have_text("Unknown base")
    expect(page.get_by_test_id("kind-vae").get_by_test_id("addon-base")).to_have_text("Stable Diffusion XL")
    adapters = page.get_by_test_id("kind-ip-adapter")
    expect(adapters.get_by_test_id("installed-addon")).to_have_attribute(
        "data-name", "models/ip-adapter_tiny.safetensors")
    expect(adapters).to_contain_text("ipadapters/models/ip-adapter_tiny.safetensors")
    if size == "phone":  # nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    adapters.scroll_into_view_if_needed()
    _shot(page, f"model-kinds-{size}")
    assert console.unexpected() == []
    context.close()


def test_a_lora_for_another_base_is_marked_in_the_picker_and_on_its_node(browser: Browser, url: str,
                                                                           watched: Callable[[BrowserContext], Page],
                                                                           console: ConsoleLog) -> None:
    context = _admin(browser, url, viewport=DESKTOP)
    project = create_project(context, url, "Kinds", "text-to-image")
    scene_id = context.request.get(f"{url}/api/v1/projects/{project['id']}").json()["scenes"][0]["id"]
    graph = context.request.get(f"{url}/api/v1/projects/{project['id']}/scenes/{scene_id}/graph").json()
    graph["nodes"]["lora"] = {"type": "lora", "title": "LoRA", "position": {"x": 0, "y": 400},
                              "params": {"lora": "xl.safetensors"}, "bypass": False}
    put = context.request.put(f"{url}/api/v1/projects/{project['id']}/scenes/{scene_id}/graph", data=graph,
                              headers=csrf_headers(context))
    assert put.ok, put.text()
    page = watched(context)
    page.goto(f"{url}/projects/{project['id']}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    node = page.locator('[data-testid="graph-node"][data-node-id="lora"]')
    expect(node).to_contain_text("This LoRA ('xl.safetensors', on 'LoRA') is for Stable Diffusion XL")
    node.click()
    picker = page.get_by_test_id("node-inspector").locator('[data-param="lora"] [data-testid="file-select"]')
    expect(picker.locator("option")).to_have_text([
        "Pick a LoRA file", "ink.safetensors",
        "xl.safetensors — for Stable Diffusion XL, not Stable Diffusion 1.x/2.x"])
    expect(picker).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("file-misfit")).to_contain_text("Made for another base than the model 'tiny-sd'")
    _shot(page, "model-kinds-lora-misfit")
    assert console.unexpected() == []
    context.close()
