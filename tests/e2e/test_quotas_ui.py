"""Quotas in real Chromium: an administrator sets each role's limits in Server settings → Quotas (a bad value is
named, not sent), a guest sees theirs in the guest banner and a run refused for its GPU minutes on the canvas, and
a registered person sees theirs on the account page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import ADMIN, DESKTOP, PHONE, csrf_headers, new_account
from browser_support import screenshot as _shot
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from test_accessibility_ui import AXE, EXTRA_RULES

from kinds_for_tests import ENV as TEST_KINDS
from support import RunningServer, png_bytes, start_server, wait_until

ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_GUESTS_ENABLED": "true",
       "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000", "MEDIASTUDIO_GUEST_TASK_QUOTA": "5",
       "MEDIASTUDIO_GUEST_GPU_MINUTES_PER_DAY": "10", "MEDIASTUDIO_GUEST_STORAGE_QUOTA_BYTES": str(2 * 1024**3)}
TABLET = {"width": 820, "height": 1180}
SIZES = {"desktop": DESKTOP, "tablet": TABLET, "phone": PHONE}
SHOTS = Path(os.environ.get("MEDIASTUDIO_QUOTA_SHOTS", "/tmp/shots-quotas"))


def screenshot(page: Page, name: str) -> None:
    _shot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("quotas-ui"), env=ENV)
    assert httpx.get(f"{server.url}/api/v1/health").json()["ui"], "web_dist/ is not built: cd web && npm run build"
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    yield server
    server.stop()


def profile(browser: Browser, url: str, who: str) -> BrowserContext:
    """A fresh desktop profile signed in as the administrator, a new registered person, or a new guest."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    if who == "admin":
        answer = context.request.post(f"{url}/api/v1/auth/login", data={"username": ADMIN.username,
                                                                         "password": ADMIN.password})
    elif who == "guest":
        answer = context.request.post(f"{url}/api/v1/auth/guest")
    else:
        answer = context.request.post(f"{url}/api/v1/auth/register", data=new_account(who).credentials())
    assert answer.ok, answer.text()
    return context


def banner_violations(page: Page) -> list[str]:
    """What axe-core finds serious or critical in the guest banner (the rules of the main pages' test)."""
    page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate(
        "rules => axe.run(document.querySelector('[data-testid=guest-banner]'), { resultTypes: ['violations'], "
        "rules })", EXTRA_RULES)
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def at_each_size(page: Page, name: str, shown: Locator | None = None) -> None:
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.wait_for_timeout(150)  # the layout settles (panels switch at 1100 px)
        if shown is not None:
            shown.scroll_into_view_if_needed()
        screenshot(page, f"{name}-{size}")
    page.set_viewport_size(DESKTOP)


def test_an_admin_sets_each_roles_quotas(browser: Browser, server: RunningServer) -> None:
    context = profile(browser, server.url, "admin")
    page = context.new_page()
    page.goto(f"{server.url}/admin")
    card = page.get_by_test_id("quotas-card")
    expect(card.get_by_role("heading", name="Quotas")).to_be_visible()
    guests = card.get_by_test_id("quotas-guest")
    runs = guests.get_by_label("Runs waiting or running at once")
    gpu = guests.get_by_label("GPU minutes per day")
    storage = guests.get_by_label("Storage (GB)")
    expect(runs).to_have_value("5")
    expect(gpu).to_have_value("10")
    expect(storage).to_have_value("2")
    expect(card.get_by_test_id("quotas-user").get_by_label("GPU minutes per day")).to_have_value("")  # no limit
    expect(card).to_contain_text("Resets at 00:00 UTC")

    runs.fill("-1")  # named, and nothing sent
    card.get_by_role("button", name="Save quotas").click()
    expect(card.get_by_test_id("quotas-problem")).to_contain_text("Guests: runs at once needs a whole number, 0 or")
    runs.fill("3")
    gpu.fill("15")
    storage.fill("0.5")
    card.get_by_role("button", name="Save quotas").click()
    expect(card.get_by_role("status")).to_have_text("Quotas saved. They apply to the next run or upload.")
    saved = context.request.get(f"{server.url}/api/v1/admin/quotas").json()["guest"]
    assert saved["runs_at_once"] == 3 and saved["gpu_minutes_per_day"] == 15
    assert saved["storage_bytes"] == 512 * 1024**2
    at_each_size(page, "quotas-admin-card", card)
    # Keyboard: the fields and the button are reached with Tab, in order.
    runs.focus()
    page.keyboard.press("Tab")
    expect(gpu).to_be_focused()
    context.close()


def _upscale_scene(context: BrowserContext, url: str, factor: float = 2.0) -> tuple[dict[str, Any], str]:
    """A project of the guest's with a scene that runs without a model: load a picture, upscale it, a shot."""
    headers = csrf_headers(context)
    project = context.request.post(f"{url}/api/v1/projects", data={"name": "Trying quotas"}, headers=headers).json()
    plate = context.request.post(f"{url}/api/v1/projects/{project['id']}/assets", headers=headers, multipart={
        "file": {"name": "plate.png", "mimeType": "image/png", "buffer": png_bytes(size=(32, 32))}}).json()[0]
    scene = context.request.get(f"{url}/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    nodes = {"plate": {"type": "load_image", "title": "Plate", "position": {"x": 0, "y": 0},
                       "params": {"asset_id": plate["id"]}, "bypass": False},
             "big": {"type": "upscale", "title": "Big", "position": {"x": 260, "y": 0},
                     "params": {"factor": factor, "method": "bicubic"}, "bypass": False},
             "shot": {"type": "shot", "title": "Shot", "position": {"x": 520, "y": 0},
                      "params": {"name": "Big"}, "bypass": False}}
    edges = {"plate:image->big:image": {"source": "plate", "source_handle": "image", "target": "big",
                                        "target_handle": "image"},
             "big:image->shot:images": {"source": "big", "source_handle": "image", "target": "shot",
                                        "target_handle": "images"}}
    put = context.request.put(f"{url}/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph", headers=headers,
                              data={"nodes": nodes, "edges": edges})
    assert put.ok, put.text()
    return project, scene["id"]


def test_a_guest_sees_their_quotas_and_why_a_run_is_refused(browser: Browser, server: RunningServer) -> None:
    admin = httpx.Client(base_url=server.url)
    admin.post("/api/v1/auth/login", json={"username": ADMIN.username, "password": ADMIN.password})
    changed = admin.patch("/api/v1/admin/quotas", headers={"X-CSRF-Token": admin.cookies["ms_csrf"]},
                          json={"guest": {"runs_at_once": 5, "gpu_minutes_per_day": 0.02,
                                          "storage_bytes": 2 * 1024**3}})
    assert changed.status_code == 200, changed.text
    context = profile(browser, server.url, "guest")
    project, scene_id = _upscale_scene(context, server.url)
    # A GPU task of about 1.5 s uses up the guest's 0.02 minutes (1.2 s); it runs to its end all the same.
    started = context.request.post(f"{server.url}/api/v1/tasks", headers=csrf_headers(context),
                                   data={"kind": "test.sleep", "params": {"steps": 3, "step_seconds": 0.5}}).json()
    wait_until(lambda: context.request.get(f"{server.url}/api/v1/tasks/{started['id']}").json()["status"],
               until=lambda status: status == "succeeded", timeout=30, message="the guest's task to finish")

    page = context.new_page()
    page.goto(f"{server.url}/")
    banner = page.get_by_test_id("guest-quotas")
    expect(banner).to_contain_text("Your limits: 0 of 5 runs queued · ")
    expect(banner).to_contain_text(" of 0.02 GPU minutes today · ")
    expect(banner).to_contain_text("of 2.0 GB")
    assert banner_violations(page) == []
    at_each_size(page, "quotas-guest-banner")

    page.goto(f"{server.url}/projects/{project['id']}/scenes/{scene_id}")
    page.get_by_test_id("run-scene").click()
    refused = page.get_by_test_id("run-refused")
    expect(refused).to_contain_text("GPU minutes used up")
    expect(refused).to_contain_text("of your 0.02 GPU minutes today; they reset at 00:00 UTC")
    expect(refused).to_contain_text("Register an account for more GPU time.")
    expect(page.get_by_test_id("guest-quotas")).to_contain_text("of 0.02 GPU minutes today")
    at_each_size(page, "quotas-guest-refused")
    context.close()


def test_a_take_the_storage_quota_refuses_shows_the_error_and_no_picture_on_the_shot(
        browser: Browser, server: RunningServer) -> None:
    """A run whose shot cannot keep its take (the person's storage is used up): the shot's card says why and shows
    no picture — it showed the picture it received, as if the take had been kept — while the node that made the
    picture still shows it."""
    admin = httpx.Client(base_url=server.url)
    admin.post("/api/v1/auth/login", json={"username": ADMIN.username, "password": ADMIN.password})
    quotas = {"X-CSRF-Token": admin.cookies["ms_csrf"]}
    context = profile(browser, server.url, "keeper")
    project, scene_id = _upscale_scene(context, server.url, factor=4.0)
    used = context.request.get(f"{server.url}/api/v1/auth/me/usage").json()["used_bytes"]
    # Room for 64 bytes more than the plate: not for the 128² take the run makes.
    limited = admin.patch("/api/v1/admin/quotas", headers=quotas, json={"user": {"storage_bytes": used + 64}})
    assert limited.status_code == 200, limited.text
    try:
        run = context.request.post(f"{server.url}/api/v1/projects/{project['id']}/scenes/{scene_id}/run",
                                   headers=csrf_headers(context), data={}).json()
        ended = wait_until(lambda: context.request.get(f"{server.url}/api/v1/tasks/{run['id']}").json(),
                           until=lambda task: task["status"] in ("succeeded", "failed"), timeout=60,
                           message="the run to end")
        assert ended["status"] == "failed" and "storage quota" in ended["error"]["message"], ended

        page = context.new_page()
        page.goto(f"{server.url}/projects/{project['id']}/scenes/{scene_id}")
        shot = page.locator('[data-testid="graph-node"][data-node-id="shot"]')
        expect(shot.get_by_test_id("node-state")).to_have_attribute("data-state", "error")
        expect(shot.get_by_test_id("node-error")).to_contain_text("storage quota")
        expect(page.locator('[data-testid="graph-node"][data-node-id="big"]').get_by_test_id("node-preview")) \
            .to_be_visible()
        expect(shot.get_by_test_id("node-preview")).to_have_count(0)
        at_each_size(page, "quotas-take-refused", shot)
        context.close()
    finally:
        restored = admin.patch("/api/v1/admin/quotas", headers=quotas, json={"user": {"storage_bytes": None}})
        assert restored.status_code == 200, restored.text


def test_a_person_sees_their_quotas_on_the_account_page(browser: Browser, server: RunningServer) -> None:
    context = profile(browser, server.url, "meter")
    page = context.new_page()
    page.goto(f"{server.url}/account")
    card = page.get_by_test_id("quotas-card")
    expect(card.get_by_test_id("quota-runs")).to_have_text("0 of 100 runs queued")
    expect(card.get_by_test_id("quota-gpu")).to_have_text("0 GPU minutes today (no limit)")
    expect(card.get_by_test_id("quota-storage")).to_have_text("0 B stored (no limit)")
    expect(card.get_by_role("progressbar", name="Runs used")).to_have_attribute("aria-valuenow", "0")
    expect(card).to_contain_text("reset at 00:00 UTC")
    at_each_size(page, "quotas-account", card)
    context.close()
