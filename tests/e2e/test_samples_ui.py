"""The sample projects in real Chromium: offered on the empty gallery (and from New project when the gallery is
not empty), a copy opened at once; each sample opens with its scenes and the previews of its media, without an
error; a generated take shows its provenance; and a guest's first hour, timed: "Try without an account", the
samples in the sandbox, the text-to-image sample's take and provenance, the shot run again with the tiny model,
the new take in the Asset View."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_support import ADMIN, DESKTOP, PHONE, ConsoleLog, create_project, csrf_headers, new_account, screenshot
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from support import RunningServer, start_server

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000",
       "MEDIASTUDIO_GUESTS_ENABLED": "true", "MEDIASTUDIO_GUESTS_PER_IP_PER_HOUR": "100",
       "MEDIASTUDIO_REGISTRATION_OPEN": "true"}  # stated: the first-run defaults may change
TABLET = {"width": 820, "height": 1180}
SAMPLES = {"storyboard": "Storyboard", "text-to-image": "Text-to-image shot",
           "image-sequence": "Image sequence to clip"}
RUN_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A studio with the tiny model the text-to-image sample was made with, guests allowed, set up."""
    from tiny_models import build_tiny_sd

    folder = tmp_path_factory.mktemp("samples-ui")
    model = build_tiny_sd(folder / "models" / "tiny-sd")
    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(model), "--data-dir",
                            str(folder / "data")], capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    server: RunningServer = start_server(folder, env=ENV)
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    assert httpx.get(f"{server.url}/api/v1/health").json()["ui"], "web_dist/ is not built: cd web && npm run build"
    yield server.url
    server.stop()


def _person(browser: Browser, url: str, **options: Any) -> BrowserContext:
    context = browser.new_context(**({"viewport": DESKTOP} | options))
    context.set_default_timeout(15_000)
    answer = context.request.post(f"{url}/api/v1/auth/register", data=new_account("sam").credentials())
    assert answer.status == 201, answer.text()
    return context


def _watched(context: BrowserContext, console: ConsoleLog) -> Page:
    page = context.new_page()
    console.watch(page)
    return page


def _loaded(image: Locator) -> None:
    expect(image).to_be_visible()
    expect(image).to_have_js_property("complete", True)
    expect(image).not_to_have_js_property("naturalWidth", 0, timeout=25_000)


def _no_error_notice(page: Page) -> None:
    expect(page.locator('[data-testid="toast"][data-tone="error"]')).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)


def _copy(context: BrowserContext, url: str, sample: str) -> dict[str, Any]:
    answer = context.request.post(f"{url}/api/v1/samples/{sample}/copy", data={}, headers=csrf_headers(context))
    assert answer.status == 201, answer.text()
    return answer.json()  # type: ignore[no-any-return]


def _open_project(page: Page, url: str, project_id: str, scene_id: str | None = None) -> None:
    page.goto(f"{url}/projects/{project_id}" + (f"/scenes/{scene_id}" if scene_id else ""))
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")


def _open_take(page: Page, name: re.Pattern[str] | str) -> Locator:
    page.get_by_test_id("asset-item").filter(has_text=name).first.get_by_test_id("asset-open").dblclick()
    expect(page.get_by_test_id("asset-view")).to_be_visible()
    return page.get_by_test_id("asset-provenance")


def test_the_empty_gallery_offers_the_samples_and_opens_a_copy(browser: Browser, studio: str) -> None:
    console = ConsoleLog()
    context = _person(browser, studio)
    page = _watched(context, console)
    page.goto(studio)
    samples = page.get_by_test_id("samples")
    expect(samples.get_by_role("heading", name="Or start from a sample")).to_be_visible()
    for sample, name in SAMPLES.items():
        card = samples.get_by_test_id(f"sample-{sample}")
        expect(card.get_by_role("heading", name=name)).to_be_visible()
        _loaded(card.locator("img"))
    screenshot(page, "samples-gallery-desktop")
    for label, size in (("tablet", TABLET), ("phone", PHONE)):
        page.set_viewport_size(size)
        expect(samples.get_by_test_id("sample-image-sequence")).to_be_visible()
        screenshot(page, f"samples-gallery-{label}")
    page.set_viewport_size(DESKTOP)

    opener = samples.get_by_role("button", name="Open a copy of “Storyboard”")
    opener.focus()  # keyboard reachable
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/projects/p_[A-Za-z0-9_-]+"))
    expect(page.get_by_test_id("project-tree")).to_contain_text("The Lighthouse — storyboard")
    _no_error_notice(page)
    assert console.unexpected() == []
    context.close()


def test_new_project_offers_the_samples_beside_other_projects(browser: Browser, studio: str) -> None:
    console = ConsoleLog()
    context = _person(browser, studio)
    create_project(context, studio, "Mine")
    page = _watched(context, console)
    page.goto(studio)
    expect(page.get_by_test_id("project-grid")).to_contain_text("Mine")
    expect(page.get_by_test_id("samples")).to_have_count(0)  # the gallery is the person's own
    page.get_by_test_id("new-project").click()
    page.get_by_test_id("open-samples").click()
    dialog = page.get_by_test_id("samples-dialog")
    expect(dialog.get_by_test_id("sample-text-to-image")).to_be_visible()
    _loaded(dialog.get_by_test_id("sample-text-to-image").locator("img"))
    screenshot(page, "samples-dialog-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "samples-dialog-phone")
    page.set_viewport_size(DESKTOP)
    dialog.get_by_role("button", name="Open a copy of “Text-to-image shot”").click()
    expect(page).to_have_url(re.compile(r"/projects/p_"))
    expect(page.get_by_test_id("project-tree")).to_contain_text("Dusk — text to image")
    assert console.unexpected() == []
    context.close()


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_each_sample_opens_with_its_scenes_and_previews_without_errors(browser: Browser, studio: str,
                                                                        sample: str) -> None:
    console = ConsoleLog()
    context = _person(browser, studio)
    project = _copy(context, studio, sample)
    scenes = context.request.get(f"{studio}/api/v1/projects/{project['id']}/scenes").json()["items"]
    assets = context.request.get(f"{studio}/api/v1/projects/{project['id']}/assets",
                                 params={"limit": 100}).json()["items"]
    page = _watched(context, console)
    for scene in scenes:
        _open_project(page, studio, project["id"], scene["id"])
        expect(page.get_by_test_id("scene-name")).to_have_text(scene["name"])
        graph = context.request.get(f"{studio}/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph").json()
        expect(page.get_by_test_id("graph-node")).to_have_count(len(graph["nodes"]))
        _no_error_notice(page)
    thumbs = page.get_by_test_id("asset-thumb")
    expect(thumbs).to_have_count(len(assets))
    for index in range(len(assets)):
        thumbs.nth(index).scroll_into_view_if_needed()
        _loaded(thumbs.nth(index))
    screenshot(page, f"sample-{sample}-desktop")
    if sample == "text-to-image":
        provenance = _open_take(page, re.compile(r"Hero shot · seed 4\d · #\d\.png"))
        expect(provenance.get_by_test_id("provenance-model")).to_have_text("tiny-sd")
        expect(provenance.get_by_test_id("provenance-prompt")).to_have_text("A lighthouse at dusk")
        expect(provenance.get_by_test_id("provenance-seed")).to_have_text(re.compile(r"^4[234]$"))
        expect(provenance.get_by_test_id("provenance-steps")).to_have_text("8")
        screenshot(page, "sample-text-to-image-provenance")
    if sample == "image-sequence":
        _open_take(page, "Clip")
        expect(page.get_by_test_id("asset-duration")).to_be_visible()
    _no_error_notice(page)
    assert console.unexpected() == []
    context.close()


def test_a_guest_opens_the_text_to_image_sample_and_runs_the_shot_again(browser: Browser, studio: str) -> None:
    console = ConsoleLog()
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = _watched(context, console)
    started = time.monotonic()
    page.goto(f"{studio}/login")
    page.get_by_role("button", name="Try without an account").click()
    grid = page.get_by_test_id("project-grid")
    expect(grid.get_by_role("link", name=re.compile("Dusk — text to image"))).to_be_visible()
    expect(grid).to_contain_text("The Lighthouse — storyboard")
    expect(grid).to_contain_text("Sunset — frames to clip")
    screenshot(page, "samples-guest-gallery-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "samples-guest-gallery-phone")
    page.set_viewport_size(DESKTOP)
    grid.get_by_role("link", name=re.compile("Dusk — text to image")).click()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")

    provenance = _open_take(page, re.compile(r"Hero shot · seed 44 · #3\.png"))
    expect(provenance.get_by_test_id("provenance-model")).to_have_text("tiny-sd")
    expect(provenance.get_by_test_id("provenance-seed")).to_have_text("44")
    expect(provenance.get_by_test_id("provenance-prompt")).to_have_text("A lighthouse at dusk")

    page.get_by_test_id("tab-scene").click()  # back from the Asset View to the graph
    page.get_by_test_id("run-scene").click()
    new_take = page.get_by_test_id("asset-item").filter(has_text=re.compile(r"Hero shot · seed \d+ · [^#]+ · #4\.png"))
    expect(new_take).to_have_count(1, timeout=RUN_TIMEOUT_MS)
    new_take.get_by_test_id("asset-open").dblclick()
    view = page.get_by_test_id("asset-view")
    expect(view.get_by_test_id("asset-meta-name")).to_have_text(re.compile(r"#4\.png$"))
    expect(view.get_by_test_id("asset-provenance").get_by_test_id("provenance-model")).to_have_text("tiny-sd")
    secs = time.monotonic() - started
    print(f"guest first shot: {secs:.1f} s")
    screenshot(page, "samples-guest-first-shot-desktop")
    assert secs < 120, f"a guest's first shot took {secs:.1f} s"
    _no_error_notice(page)
    assert console.unexpected() == []
    context.close()
