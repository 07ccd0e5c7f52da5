"""The picture nodes' generation controls in the inspector, in real Chromium: the sampler and sigmas as selects
(from their schema's enum), CLIP skip as a bounded number, the VAE and a LoRA node's file picked from the server's
lists of the data folder, each choice landing in the scene's graph."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from browser_support import ADMIN, DESKTOP, ConsoleLog, create_project, csrf_headers, skip_tour
from browser_support import screenshot as _shot
from playwright.sync_api import Browser, BrowserContext, Page, expect

from support import add_model, start_server, wait_until

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tiny_models import build_tiny_lora, build_tiny_sd, build_tiny_vae

    folder = tmp_path_factory.mktemp("controls-ui")
    data = folder / "data"
    model = build_tiny_sd(tmp_path_factory.mktemp("controls-ui-models") / "tiny-sd")
    add_model(model, data)
    build_tiny_lora(data / "loras" / "ink.safetensors", seed=1)
    build_tiny_vae(data / "models" / "crisp-vae", seed=5)
    server = start_server(folder, env=ENV)
    assert httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials()).status_code == 201
    assert httpx.get(f"{server.url}/api/v1/health").json()["ui"], "web_dist/ is not built: cd web && npm run build"
    yield server.url
    server.stop()


@pytest.fixture
def admin(browser: Browser, url: str) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    answer = context.request.post(f"{url}/api/v1/auth/login", data={"username": ADMIN.username,
                                                                     "password": ADMIN.password})
    assert answer.status == 200, answer.text()
    skip_tour(context, url)
    yield context
    context.close()


def _graph_params(context: BrowserContext, url: str, project_id: str, scene_id: str, node_id: str) -> dict:
    graph = context.request.get(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/graph").json()
    return dict(graph["nodes"][node_id]["params"])


def test_the_controls_show_as_selects_and_land_in_the_graph(admin: BrowserContext, url: str,
                                                            watched: Callable[[BrowserContext], Page],
                                                            console: ConsoleLog, tmp_path: Path) -> None:
    project = create_project(admin, url, "Steering", "text-to-image")
    scene_id = admin.request.get(f"{url}/api/v1/projects/{project['id']}").json()["scenes"][0]["id"]
    graph = admin.request.get(f"{url}/api/v1/projects/{project['id']}/scenes/{scene_id}/graph").json()
    graph["nodes"]["lora"] = {"type": "lora", "title": "LoRA", "position": {"x": 0, "y": 400}, "params": {},
                              "bypass": False}
    put = admin.request.put(f"{url}/api/v1/projects/{project['id']}/scenes/{scene_id}/graph", data=graph,
                            headers=csrf_headers(admin))
    assert put.ok, put.text()
    page = watched(admin)
    page.goto(f"{url}/projects/{project['id']}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    page.locator('[data-testid="graph-node"][data-node-id="generate"]').click()
    inspector = page.get_by_test_id("node-inspector")
    expect(inspector).to_have_attribute("data-node-id", "generate")

    sampler = inspector.locator('[data-param="sampler"] [data-testid="param-select"]')
    expect(sampler).to_have_value("default")
    assert "DPM++ 2M SDE" in sampler.locator("option").all_inner_texts()  # the names other studios use
    sampler.select_option("dpmpp_2m")
    inspector.locator('[data-param="sigmas"] [data-testid="param-select"]').select_option("karras")
    expect(inspector.locator('[data-param="clip_skip"]')).to_have_attribute("data-kind", "int")
    vae = inspector.locator('[data-param="vae"] [data-testid="file-select"]')
    expect(vae.locator("option")).to_have_text(["The model's own", "crisp-vae"])
    vae.select_option("crisp-vae")
    wait_until(lambda: _graph_params(admin, url, project["id"], scene_id, "generate"),
               until=lambda p: (p.get("sampler"), p.get("sigmas"), p.get("vae")) == ("dpmpp_2m", "karras",
                                                                                      "crisp-vae"),
               message="the choices in the scene's graph")
    inspector.locator('[data-param="vae"]').scroll_into_view_if_needed()
    _shot(page, "generation-controls-inspector")

    page.locator('[data-testid="graph-node"][data-node-id="lora"]').click()
    expect(inspector).to_have_attribute("data-node-id", "lora")
    lora = inspector.locator('[data-param="lora"] [data-testid="file-select"]')
    expect(lora.locator("option")).to_have_text(["Pick a LoRA file", "ink.safetensors"])
    lora.select_option("ink.safetensors")
    wait_until(lambda: _graph_params(admin, url, project["id"], scene_id, "lora"),
               until=lambda p: p.get("lora") == "ink.safetensors", message="the LoRA file in the graph")
    _shot(page, "generation-controls-lora")
    assert console.unexpected() == []
