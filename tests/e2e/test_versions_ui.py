"""Versions in real Chromium: a labelled save shows in the History and is found by search; an earlier
version's node is shown read-only in the inspector, with the way back; an image sequence's frames are
ordered by name whatever order they were picked in, and can be reordered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from browser_support import PHONE, ConsoleLog, create_project, csrf_headers, screenshot
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from support import png_bytes, wait_until

SHOTS = "/tmp/shots-versions"


def _shoot(page: Page, name: str) -> None:
    page.screenshot(path=f"{SHOTS}/{name}.png")
    screenshot(page, name)


def _node(page: Page, node_id: str, within: Locator | None = None) -> Locator:
    return (within or page).locator(f'.svelte-flow__node[data-id="{node_id}"]')


def _open(page: Page, url: str, project_id: object) -> None:
    page.goto(f"{url}/projects/{project_id}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")


def test_a_labelled_version_is_listed_and_found_by_search(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(desktop, studio_url, "Lighthouse", "text-to-image")
    _open(page, studio_url, project["id"])
    page.get_by_test_id("save-version").click()
    dialog = page.get_by_test_id("save-version-dialog")
    dialog.get_by_label("Label").fill("Client review")
    dialog.get_by_role("button", name="Save version").click()
    expect(page.get_by_test_id("save-version")).to_contain_text("Saved")

    page.get_by_role("tab", name="History").click()
    commits = page.get_by_test_id("commit")
    expect(commits).to_have_count(2)  # nothing had changed: the label still made a version
    expect(commits.first.get_by_test_id("commit-kind")).to_have_text("Version")
    expect(commits.first.get_by_test_id("commit-title")).to_have_text("“Client review”")
    expect(commits.last.get_by_test_id("commit-kind")).to_have_text("Created")
    search = page.get_by_test_id("history-search")
    search.fill("client")
    expect(commits).to_have_count(1)
    search.fill("no such words")
    expect(page.get_by_text("No version matches")).to_be_visible()
    search.fill("")
    expect(commits).to_have_count(2)

    assert console.errors == []


def test_an_old_version_never_leaves_the_inspector_editing_the_current_node(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(desktop, studio_url, "Harbour", "text-to-image")
    saved = desktop.request.post(f"{studio_url}/api/v1/projects/{project['id']}/save", data={"message": "Draft"},
                                 headers=csrf_headers(desktop))
    assert saved.ok, saved.text()  # a second version: the first is no longer the current one
    _open(page, studio_url, project["id"])
    _node(page, "generate").click()  # the current node, open in the inspector
    expect(page.get_by_test_id("node-inspector")).to_be_visible()
    page.get_by_role("tab", name="History").click()
    commits = page.get_by_test_id("commit")
    commits.last.click()
    expect(page.get_by_test_id("node-inspector")).to_have_count(0)
    # The version's node picked on its canvas: the inspector shows it, read-only.
    history = page.get_by_role("tabpanel", name="History")
    _node(page, "generate", history).click()
    inspector = page.get_by_test_id("version-inspector")
    expect(inspector).to_contain_text("— read-only")
    expect(inspector.get_by_test_id("version-node").locator('[data-param="steps"]')).to_have_text("30")
    expect(page.get_by_test_id("node-inspector")).to_have_count(0)
    expect(inspector.get_by_role("button", name="Restore…")).to_be_visible()
    page.wait_for_load_state("networkidle")
    _shoot(page, "version-read-only-desktop")
    page.set_viewport_size(PHONE)
    page.get_by_text("Properties", exact=True).click()
    expect(inspector).to_be_visible()
    _shoot(page, "version-read-only-phone")
    page.set_viewport_size({"width": 1440, "height": 900})
    inspector.get_by_role("button", name="Restore…").click()
    expect(page.get_by_role("dialog", name="Restore version")).to_be_visible()
    page.keyboard.press("Escape")
    inspector.get_by_role("button", name="Back to current").click()
    expect(page.get_by_role("tab", name="Scene View")).to_have_attribute("aria-selected", "true")
    _node(page, "generate").click()
    expect(page.get_by_test_id("node-inspector")).to_be_visible()
    expect(page.get_by_test_id("version-inspector")).to_have_count(0)
    assert console.errors == []


def test_the_history_list_and_search_fit_a_phone(browser: Browser, desktop: BrowserContext, studio_url: str) -> None:
    project = create_project(desktop, studio_url, "Pocket", "text-to-image")
    save = desktop.request.post(f"{studio_url}/api/v1/projects/{project['id']}/save",
                                data={"message": "Before the client call"}, headers=csrf_headers(desktop))
    assert save.ok, save.text()
    phone = browser.new_context(viewport=PHONE, storage_state=desktop.storage_state())
    try:
        page = phone.new_page()
        _open(page, studio_url, project["id"])
        page.get_by_role("tab", name="History").click()
        expect(page.get_by_test_id("commit").first).to_contain_text("Before the client call")
        expect(page.get_by_test_id("history-search")).to_be_visible()
        page.wait_for_load_state("networkidle")
        _shoot(page, "history-phone")
    finally:
        phone.close()


def _graph(context: BrowserContext, url: str, project_id: str, scene_id: str) -> dict[str, Any]:
    answer = context.request.get(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/graph")
    assert answer.ok, answer.text()
    return answer.json()  # type: ignore[no-any-return]


def test_an_image_sequence_is_in_name_order_whatever_the_picking_order_and_can_be_reordered(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(desktop, studio_url, "Flipbook")
    pid = str(project["id"])
    frames = []
    for index in range(3):  # uploaded 0, 1, 2: the picker lists the newest first
        upload = desktop.request.post(f"{studio_url}/api/v1/projects/{pid}/assets", headers=csrf_headers(desktop),
                                      multipart={"file": {"name": f"frame{index}.png", "mimeType": "image/png",
                                                          "buffer": png_bytes(color=(80 * index, 90, 200))}})
        assert upload.status == 201, upload.text()
        frames.append(upload.json()[0]["id"])
    scene = desktop.request.get(f"{studio_url}/api/v1/projects/{pid}/scenes").json()["items"][0]
    loader = {"type": "load_image", "title": "Frames", "position": {"x": 0, "y": 0}, "params": {}, "bypass": False}
    put = desktop.request.put(f"{studio_url}/api/v1/projects/{pid}/scenes/{scene['id']}/graph",
                              data={"nodes": {"frames": loader}, "edges": {}}, headers=csrf_headers(desktop))
    assert put.ok, put.text()

    _open(page, studio_url, pid)
    _node(page, "frames").click()
    param = page.get_by_test_id("node-inspector").locator('[data-param="asset_ids"]')
    param.get_by_test_id("asset-pick").click()
    options = param.get_by_test_id("asset-option")
    expect(options).to_have_count(3)
    for option in options.all():  # as listed: frame2, frame1, frame0
        option.click()
    chosen = param.get_by_test_id("asset-chosen")

    def order_is(expected: list[str], saved: Callable[[], object] | None = None) -> None:
        expect(chosen).to_have_count(3)
        wait_until(lambda: [chosen.nth(i).get_attribute("data-asset-id") for i in range(3)],
                   until=lambda ids: ids == expected, message="the order shown")
        wait_until(lambda: _graph(desktop, studio_url, pid, scene["id"])["nodes"]["frames"]["params"].get("asset_ids"),
                   until=lambda ids: ids == expected, timeout=15, message="the order saved in the graph")

    order_is(frames)
    expect(param.get_by_test_id("asset-order")).to_contain_text("In name order")
    expect(param.get_by_test_id("asset-position")).to_have_text(["1.", "2.", "3."])
    param.get_by_role("button", name="Move frame2.png earlier").click()
    order_is([frames[0], frames[2], frames[1]])
    expect(param.get_by_test_id("asset-order")).to_contain_text("In your order")
    param.get_by_test_id("asset-pick").click()  # close the picker for the picture
    page.wait_for_load_state("networkidle")
    _shoot(page, "sequence-order-desktop")
    page.set_viewport_size(PHONE)
    page.get_by_text("Properties", exact=True).click()
    expect(param).to_be_visible()
    _shoot(page, "sequence-order-phone")
    page.set_viewport_size({"width": 1440, "height": 900})
    param.get_by_role("button", name="Sort by name").click()
    order_is(frames)
    assert console.errors == []
