"""Models in the browser: an administrator's Models page (the empty state, the catalog, a download with its
progress, cancel and resume, adding a folder, removing), the Asset Browser's read-only list, and the New project
dialog that picks a model for the text-to-image template. Downloads come from a fake hub on 127.0.0.1
(tests/fake_hub.py); screenshots at desktop, tablet and phone sizes go to /tmp/shots-models/."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_support import ADMIN, DESKTOP, PHONE, ConsoleLog
from playwright.sync_api import Browser, BrowserContext, Page, expect

from fake_hub import FakeHub
from mediastudio.models.catalog import BUILT_IN
from support import RunningServer, start_server, wait_until

SHOTS = Path("/tmp/shots-models")
TABLET = {"width": 820, "height": 1180}
REPO = "tester/tiny-sd"
STALLED = "text_encoder/model.safetensors"  # the largest file: fetched last (smallest first)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeHub]:
    from tiny_models import build_tiny_sd

    hub = FakeHub(build_tiny_sd(tmp_path_factory.mktemp("hub") / "tiny-sd"), REPO)
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, hub: FakeHub) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("models-ui")
    size = sum(len(d) for d in hub.files.values())
    tiny = {"id": "tiny-sd", "name": "Tiny SD", "repo": REPO, "kind": "text-to-image",
            "pipeline": "StableDiffusionPipeline", "size_bytes": size, "vram_gb": 1,
            "licence": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
            "good_for": "Trying the studio out: a tiny model with random weights (noise, fast).",
            "recommended": {"width": 64, "height": 64, "steps": 2, "steps_min": 1, "steps_max": 3, "guidance": 1.5}}
    catalog = folder / "catalog.json"
    real = json.loads(BUILT_IN.read_text())["models"]
    catalog.write_text(json.dumps({"models": [tiny, {**tiny, "id": "tiny-sd-2", "name": "Tiny SD (second copy)"},
                                              *real]}))
    server = start_server(folder, env={
        "MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_PRELOAD_MODELS": "false", "MEDIASTUDIO_MODELS_CATALOG": str(catalog),
        "MEDIASTUDIO_MODELS_DISK_MARGIN_BYTES": "0", "HF_ENDPOINT": hub.url, "HF_HOME": str(folder / "hf"),
        "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DOWNLOAD_TIMEOUT": "3", "HF_HUB_DISABLE_XET": "1"})
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    yield server
    server.stop()


def _admin(browser: Browser, url: str, **options: object) -> BrowserContext:
    context = browser.new_context(**({"viewport": DESKTOP} | options))  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    answer = context.request.post(f"{url}/api/v1/auth/login",
                                  data={"username": ADMIN.username, "password": ADMIN.password})
    assert answer.ok, answer.text()
    return context


def _shot(page: Page, name: str) -> None:
    """The viewport, and the whole page (it scrolls inside its main area: a viewport as tall as that, for a moment)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    size = page.viewport_size
    assert size is not None
    tall = page.evaluate("Math.max(...[...document.querySelectorAll('main')].map(m => m.scrollHeight))")
    if tall > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": tall + 60})
        page.screenshot(path=str(SHOTS / f"{name}-whole.png"))
        page.set_viewport_size(size)


def test_an_administrator_downloads_cancels_resumes_and_removes_models(browser: Browser, server: RunningServer,
                                                                       hub: FakeHub, console: ConsoleLog) -> None:
    context = _admin(browser, server.url)
    page = context.new_page()
    console.watch(page)
    page.goto(f"{server.url}/admin")
    page.get_by_test_id("open-models").click()
    expect(page).to_have_url(re.compile(r"/admin/models$"))
    expect(page.get_by_role("heading", name="Models", level=1)).to_be_visible()
    expect(page.get_by_test_id("models-empty")).to_contain_text("No model installed yet")
    expect(page.get_by_test_id("catalog-sd-turbo")).to_contain_text("SD-Turbo")
    expect(page.get_by_test_id("catalog-sd-turbo")).to_contain_text("512×512 · 1–4 steps · guidance 0")
    expect(page.get_by_test_id("catalog-animatediff")).to_contain_text("parts of Stable Diffusion 1.5")
    expect(page.get_by_test_id("catalog-animatediff")).to_contain_text("Video")
    _shot(page, "models-empty-desktop")

    # A download with its progress, its ETA and its end.
    hub.delay = 0.5
    card = page.get_by_test_id("catalog-tiny-sd")
    card.get_by_test_id("catalog-download").click()
    expect(card).to_have_attribute("data-state", "downloading")
    expect(card.get_by_role("progressbar", name="Downloading Tiny SD")).to_be_visible()
    expect(card.get_by_test_id("catalog-progress")).to_contain_text(re.compile(r"KB of \d+ KB"))
    _shot(page, "models-downloading-desktop")
    expect(card).to_have_attribute("data-state", "installed", timeout=60_000)
    hub.delay = 0.0
    expect(card).to_contain_text("Installed as tiny-sd")
    installed = page.get_by_test_id("installed-model").filter(has_text="tiny-sd")
    expect(installed).to_contain_text("Copied into the models folder")
    expect(installed).to_contain_text("64×64 · 1–3 steps · guidance 1.5")

    # Cancel half way, then resume: the files already there are kept.
    hub.stall, hub.released, hub.stalled = STALLED, type(hub.released)(), type(hub.stalled)()
    second = page.get_by_test_id("catalog-tiny-sd-2")
    second.get_by_test_id("catalog-download").click()
    expect(second).to_have_attribute("data-state", "downloading")
    assert hub.stalled.wait(30)
    second.get_by_test_id("catalog-cancel").click()
    hub.release()
    expect(second).to_have_attribute("data-state", "partial", timeout=30_000)
    expect(second).to_contain_text("resuming keeps what is downloaded")
    _shot(page, "models-partial-desktop")
    second.get_by_test_id("catalog-resume").click()
    expect(second).to_have_attribute("data-state", "installed", timeout=60_000)

    # Add from a folder: a folder that is not a model is refused with the reason, then a real one is added.
    form = page.get_by_test_id("add-folder-form")
    form.get_by_label("Folder on the server").fill("/etc")
    form.get_by_role("button", name="Add the folder").click()
    expect(form.get_by_test_id("add-folder-problem")).to_contain_text("model_index.json")
    form.get_by_label("Folder on the server").fill(str(hub.folder))
    form.get_by_label("Name").fill("linked-tiny")
    form.get_by_role("button", name="Add the folder").click()
    linked = page.get_by_test_id("installed-model").filter(has_text="linked-tiny")
    expect(linked).to_contain_text("Linked from a folder on the server")

    # Remove, after confirming.
    linked.get_by_test_id("remove-model").click()
    dialog = page.get_by_role("dialog", name="Remove linked-tiny?")
    expect(dialog).to_contain_text("folder it was linked from stays")
    dialog.get_by_role("button", name="Remove").click()
    expect(page.get_by_test_id("installed-model")).to_have_count(2)
    assert (hub.folder / "model_index.json").is_file()

    _shot(page, "models-desktop")
    for name, size in (("tablet", TABLET), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(f"{server.url}/admin/models")
        expect(page.get_by_test_id("catalog-tiny-sd")).to_have_attribute("data-state", "installed")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
        _shot(page, f"models-{name}")
    assert console.unexpected(400) == []
    context.close()


def test_a_new_text_to_image_project_takes_the_chosen_models_settings(browser: Browser, server: RunningServer,
                                                                      console: ConsoleLog) -> None:
    installed = httpx.get(f"{server.url}/api/v1/health")  # the first test installed models; this one needs one
    assert installed.status_code == 200
    context = _admin(browser, server.url)
    if not context.request.get(f"{server.url}/api/v1/models").json()["items"]:
        started = context.request.post(f"{server.url}/api/v1/models", data={"catalog": "tiny-sd"},
                                       headers={"X-CSRF-Token": next(c["value"] for c in context.cookies()
                                                                     if c["name"] == "ms_csrf")})
        assert started.status == 201
        wait_until(lambda: context.request.get(f"{server.url}/api/v1/models").json()["items"], timeout=60)
    page = context.new_page()
    console.watch(page)
    page.goto(server.url)
    page.get_by_test_id("new-project").click()
    dialog = page.get_by_role("dialog", name="New project")
    expect(dialog.get_by_test_id("template-model")).to_have_count(0)  # the blank template has no model to pick
    dialog.get_by_test_id("template-text-to-image").click()
    model = dialog.get_by_role("combobox", name="Model")
    expect(model).to_have_value(re.compile(r"^tiny-sd"))
    model.select_option("tiny-sd")
    expect(dialog.get_by_test_id("template-model")).to_contain_text("64×64 · 1–3 steps · guidance 1.5")
    dialog.get_by_label("Project name").fill("Fitted shot")
    _shot(page, "new-project-model-desktop")
    dialog.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(re.compile(r"/projects/p_[0-9a-f]+"))
    project_id = re.search(r"/projects/(p_[0-9a-f]+)", page.url).group(1)  # type: ignore[union-attr]
    scene = context.request.get(f"{server.url}/api/v1/projects/{project_id}/scenes").json()["items"][0]
    graph = context.request.get(f"{server.url}/api/v1/projects/{project_id}/scenes/{scene['id']}").json()["graph"]
    assert graph["nodes"]["model"]["params"]["model"] == "tiny-sd"
    params = graph["nodes"]["generate"]["params"]
    assert (params["width"], params["height"], params["steps"], params["guidance_scale"]) == (64, 64, 2, 1.5)

    # The Asset Browser lists the installed models, read-only, for everyone in the project.
    browser_panel = page.get_by_test_id("asset-browser")
    browser_panel.get_by_test_id("asset-models").locator("summary").click()
    expect(browser_panel.locator('[data-testid="asset-model"][data-model="tiny-sd"]')).to_contain_text("Picture")
    expect(browser_panel.get_by_test_id("asset-models-manage")).to_be_visible()
    _shot(page, "asset-browser-models-desktop")
    for name, size in (("tablet", TABLET), ("phone", PHONE)):
        page.set_viewport_size(size)
        if name == "phone" or page.get_by_test_id("tabbar").is_visible():
            tab = page.get_by_test_id("tab-browser")
            if tab.count():
                tab.click()
        expect(browser_panel.get_by_test_id("asset-models")).to_be_visible()
        _shot(page, f"asset-browser-models-{name}")
    assert console.unexpected() == []
    context.close()


def test_offline_the_card_says_how_to_install_by_hand(browser: Browser, tmp_path: Path, console: ConsoleLog) -> None:
    # HF_ENDPOINT at a port nothing listens on: a machine without the internet.
    offline = start_server(tmp_path, env={"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_MODELS_DISK_MARGIN_BYTES": "0",
                                          "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf"),
                                          "HF_HUB_ETAG_TIMEOUT": "2", "HF_HUB_DOWNLOAD_TIMEOUT": "2"})
    try:
        assert httpx.post(f"{offline.url}/api/v1/auth/setup", json=ADMIN.credentials()).status_code == 201
        context = _admin(browser, offline.url)
        page = context.new_page()
        console.watch(page)
        page.goto(f"{offline.url}/admin/models")
        card = page.get_by_test_id("catalog-sd-turbo")
        card.get_by_test_id("catalog-download").click()
        failed = card.get_by_test_id("catalog-failed")
        expect(failed).to_contain_text("cannot reach huggingface.co", timeout=60_000)
        expect(failed).to_contain_text("hf download stabilityai/sd-turbo --local-dir sd-turbo")
        expect(card).to_have_attribute("data-state", "available")
        expect(card.get_by_test_id("catalog-download")).to_have_text("Try again")
        page.get_by_test_id("offline-help").locator("summary").click()
        expect(page.get_by_test_id("offline-help")).to_contain_text("mediastudio models add")
        failed.scroll_into_view_if_needed()
        _shot(page, "models-offline-desktop")
        assert console.unexpected() == []
        context.close()
    finally:
        offline.stop()
