"""The studio's Hand off menu in real Chromium: a contact sheet chosen with the mouse (PNG: a page of the right
size, downloaded when the task is done), an animatic chosen with the keyboard (an MP4 of the scene's shots), a
running export cancelled from the dialog, and the menu and dialog at tablet and phone sizes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from browser_support import ADMIN, DESKTOP, PHONE, SCREENSHOTS, ConsoleLog, csrf_headers, screenshot, skip_tour
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from support import RunningServer, png_bytes, project_folder, start_server

TABLET = {"width": 820, "height": 1180}
LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("handoff-ui"), env={"MEDIASTUDIO_PROBE_GPU": "0"})
    setup = httpx.post(f"{running.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    yield running
    running.stop()


@pytest.fixture
def context(browser: Browser, server: RunningServer) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    made.set_default_timeout(20_000)
    answer = made.request.post(f"{server.url}/api/v1/auth/login", data=ADMIN.credentials())
    assert answer.ok, answer.text()
    skip_tour(made, server.url)
    yield made
    made.close()


def film(context: BrowserContext, server: RunningServer, name: str, shots: int = 3,
         seconds: float | None = None) -> dict[str, Any]:
    """A project whose scene has `shots` shots, each with a generated take (an uploaded picture whose record
    names the shot, as a run's takes do)."""
    url, headers = server.url, csrf_headers(context)
    project = context.request.post(f"{url}/api/v1/projects", data={"name": name}, headers=headers).json()
    scene = context.request.get(f"{url}/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    nodes = {f"s{i}": {"type": "shot", "title": f"Shot {i + 1}", "position": {"x": 300 * i, "y": 0},
                       "params": {"name": f"Shot {i + 1}"}} for i in range(shots)}
    put = context.request.put(f"{url}/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph",
                              data={"nodes": nodes, "edges": {}}, headers=headers)
    assert put.ok, put.text()
    folder = project_folder(server, project)
    colours = [(200, 60, 40), (40, 140, 200), (230, 190, 40), (90, 180, 90)]
    for i in range(shots):
        upload = context.request.post(f"{url}/api/v1/projects/{project['id']}/assets", headers=headers, multipart={
            "file": {"name": f"Shot {i + 1} · seed {i} · #1.png", "mimeType": "image/png",
                     "buffer": png_bytes(colours[i % 4], (640, 360))},
            "category": "generated"})
        assert upload.ok, upload.text()
        asset_id = upload.json()[0]["id"]
        meta_path = folder / "assets" / f"{asset_id}.json"
        meta = json.loads(meta_path.read_text())
        meta["provenance"] = {"scene_id": scene["id"], "node_id": f"s{i}", "seed": i}
        meta_path.write_text(json.dumps(meta))
    if seconds is not None:
        scene_path = folder / "scenes" / f"{scene['id']}.json"
        stored = json.loads(scene_path.read_text())
        for node in stored["graph"]["nodes"].values():
            node["params"]["duration"] = seconds
        scene_path.write_text(json.dumps(stored))
    return {"project": project, "scene": scene}


def shoot(page: Page, name: str) -> None:
    screenshot(page, f"handoff-{name}")


def open_studio(page: Page, server: RunningServer, project: dict[str, Any]) -> None:
    page.goto(f"{server.url}/projects/{project['id']}")
    expect(page.get_by_test_id("handoff-menu")).to_be_visible()


def test_a_contact_sheet_from_the_menu_downloads_a_png_page(context: BrowserContext, server: RunningServer,
                                                            console: ConsoleLog) -> None:
    made = film(context, server, "Harbour at night")
    page = context.new_page()
    console.watch(page)
    open_studio(page, server, made["project"])
    page.get_by_test_id("handoff-menu").click()
    expect(page.get_by_test_id("handoff-animatic")).to_be_visible()
    shoot(page, "menu-desktop")
    page.get_by_test_id("handoff-sheet").click()
    dialog = page.get_by_test_id("handoff-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("handoff-format").select_option("png")
    shoot(page, "sheet-options-desktop")
    dialog.get_by_test_id("handoff-start").click()
    link = dialog.get_by_test_id("handoff-download")
    expect(link).to_be_visible(timeout=60_000)
    expect(link).to_contain_text("Harbour at night contact sheet.png")
    shoot(page, "sheet-done-desktop")
    with page.expect_download() as waiting:
        link.click()
    saved = Path(waiting.value.path())
    with Image.open(saved) as sheet:
        assert sheet.size == (1754, 1240)
    (SCREENSHOTS / "handoff-contact-sheet.png").write_bytes(saved.read_bytes())
    assert console.unexpected() == []


def test_an_animatic_chosen_with_the_keyboard_and_a_cancelled_one(context: BrowserContext, server: RunningServer,
                                                                  console: ConsoleLog) -> None:
    made = film(context, server, "Rooftop chase", shots=2)
    page = context.new_page()
    console.watch(page)
    open_studio(page, server, made["project"])
    page.get_by_test_id("handoff-menu").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("handoff-sheet")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_test_id("handoff-animatic")).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_test_id("handoff-dialog")
    dialog.get_by_test_id("handoff-size").select_option("640x360")
    dialog.get_by_test_id("handoff-fps").select_option("12")
    dialog.get_by_test_id("handoff-start").focus()
    page.keyboard.press("Enter")
    link = dialog.get_by_test_id("handoff-download")
    expect(link).to_be_visible(timeout=60_000)
    with page.expect_download() as waiting:
        link.click()
    with av.open(str(waiting.value.path())) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (640, 360)
        assert sum(1 for _ in container.decode(stream)) == 2 * 2 * 12  # two shots held 2 s each at 12 fps
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # A long one (every shot held 60 s at 1920×1080), cancelled while it runs.
    long = film(context, server, "Long take", shots=4, seconds=60)
    open_studio(page, server, long["project"])
    page.get_by_test_id("handoff-menu").click()
    page.get_by_test_id("handoff-animatic").click()
    dialog.get_by_test_id("handoff-size").select_option("1920x1080")
    dialog.get_by_test_id("handoff-fps").select_option("30")
    dialog.get_by_test_id("handoff-start").click()
    task = dialog.get_by_test_id("handoff-task")
    expect(task).to_have_attribute("data-status", "running", timeout=30_000)
    shoot(page, "animatic-running-desktop")
    dialog.get_by_test_id("handoff-cancel").click()
    expect(task).to_have_attribute("data-status", "cancelled", timeout=20_000)
    expect(dialog.get_by_test_id("handoff-download")).to_have_count(0)
    assert console.unexpected() == []


@pytest.mark.parametrize(("size", "label"), [(TABLET, "tablet"), (PHONE, "phone"), (DESKTOP, "wide")])
def test_the_menu_and_dialog_fit_each_screen(browser: Browser, server: RunningServer, context: BrowserContext,
                                             size: dict[str, int], label: str, console: ConsoleLog) -> None:
    made = film(context, server, f"Fit {label}", shots=1)
    options: dict[str, Any] = {"viewport": size}
    if size is PHONE:
        options |= {"device_scale_factor": 3, "is_mobile": True, "has_touch": True}
    sized = browser.new_context(**options)
    sized.set_default_timeout(20_000)
    try:
        assert sized.request.post(f"{server.url}/api/v1/auth/login", data=ADMIN.credentials()).ok
        page = sized.new_page()
        console.watch(page)
        page.goto(f"{server.url}/projects/{made['project']['id']}")
        if size is PHONE:  # no room in the header beside the account menu: the Browser has it
            expect(page.get_by_test_id("handoff-menu")).to_be_hidden()
            page.get_by_test_id("tab-browser").tap()
            menu = page.get_by_test_id("handoff-menu-browser")
        else:
            menu = page.get_by_test_id("handoff-menu")
        expect(menu).to_be_visible()
        account = page.get_by_role("button", name=re.compile("Account", re.I)).first
        for button in (menu, account):  # both in view, nothing pushed off the screen
            box = button.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
        assert (menu.bounding_box() or {"height": 0})["height"] >= (36 if size is PHONE else 28)
        if size is PHONE:
            menu.tap()
        else:
            menu.click()
        shoot(page, f"menu-{label}")
        page.get_by_test_id("handoff-sequence").click()
        dialog = page.get_by_test_id("handoff-dialog")
        expect(dialog.get_by_test_id("handoff-frames")).to_be_visible()
        dialog.get_by_test_id("handoff-frames").select_option("timed")
        expect(dialog.get_by_test_id("handoff-fps")).to_be_visible()
        shown = dialog.bounding_box()
        assert shown is not None and shown["width"] <= size["width"]
        shoot(page, f"sequence-options-{label}")
        assert console.unexpected() == []
    finally:
        sized.close()
