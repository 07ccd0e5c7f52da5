"""Unread comment badges on the asset browser's tiles in real Chromium: a comment someone else writes on a take
shows on its tile at once (no reload), counted; opening the take reads it and the badge goes. Screenshots at
desktop and phone sizes."""

from __future__ import annotations

from browser_support import PHONE, ConsoleLog, csrf_headers, join_project, screenshot
from playwright.sync_api import Browser, BrowserContext, Page, expect

from support import png_bytes


def _upload(context: BrowserContext, url: str, project_id: str, name: str) -> str:
    upload = context.request.post(f"{url}/api/v1/projects/{project_id}/assets", headers=csrf_headers(context),
                                  multipart={"file": {"name": name, "mimeType": "image/png",
                                                      "buffer": png_bytes((40, 90, 160), (320, 180))}})
    assert upload.status == 201, upload.text()
    answer = upload.json()
    return (answer["items"] if isinstance(answer, dict) else answer)[0]["id"]  # type: ignore[no-any-return]


def test_a_takes_unread_comments_show_on_its_tile_live_and_go_once_read(
        browser: Browser, desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    headers = csrf_headers(desktop)
    workspace = desktop.request.post(f"{studio_url}/api/v1/workspaces", data={"name": "Badges"},
                                     headers=headers).json()
    project = desktop.request.post(f"{studio_url}/api/v1/projects", headers=headers, data={
        "name": "Harbour", "template": "blank", "workspace_id": workspace["id"]}).json()
    first = _upload(desktop, studio_url, project["id"], "take-1.png")
    second = _upload(desktop, studio_url, project["id"], "take-2.png")
    _, bea, _ = join_project(browser, desktop, studio_url, workspace["id"], project["id"], "viewer", "bea")
    try:
        page.goto(f"{studio_url}/projects/{project['id']}")
        tile = page.locator(f'[data-testid="asset-item"][data-asset-id="{first}"]')
        expect(tile).to_be_visible()
        expect(page.get_by_test_id("asset-unread")).to_have_count(0)

        # Bea comments twice on the first take (one thread, a reply): the owner's tile says 2, live.
        comments = f"{studio_url}/api/v1/projects/{project['id']}/comments"
        thread = bea.request.post(comments, headers=csrf_headers(bea),
                                  data={"target": {"kind": "asset", "id": first}, "body": "Too dark"}).json()
        expect(tile.get_by_test_id("asset-unread")).to_have_text("1")
        bea.request.post(f"{comments}/{thread['id']}/replies", headers=csrf_headers(bea), data={"body": "And noisy"})
        expect(tile.get_by_test_id("asset-unread")).to_have_text("2")
        expect(tile.get_by_test_id("asset-open")).to_have_attribute("aria-label",
                                                                    "take-1.png, image, 2 unread comments")
        other = page.locator(f'[data-testid="asset-item"][data-asset-id="{second}"]')
        expect(other.get_by_test_id("asset-unread")).to_have_count(0)
        screenshot(page, "asset-unread-badge-desktop")

        # Opening the take shows the thread, which reads it: the badge goes.
        tile.get_by_test_id("asset-open").dblclick()
        expect(page.get_by_test_id("comment-thread")).to_have_count(1)
        expect(tile.get_by_test_id("asset-unread")).to_have_count(0)
        assert console.unexpected() == []
    finally:
        bea.close()


def test_the_badge_on_a_phone(browser: Browser, desktop: BrowserContext, studio_url: str,
                              console: ConsoleLog) -> None:
    headers = csrf_headers(desktop)
    workspace = desktop.request.post(f"{studio_url}/api/v1/workspaces", data={"name": "Badges 2"},
                                     headers=headers).json()
    project = desktop.request.post(f"{studio_url}/api/v1/projects", headers=headers,
                                   data={"name": "Dunes", "template": "blank", "workspace_id": workspace["id"]}).json()
    take = _upload(desktop, studio_url, project["id"], "dune.png")
    _, pia, _ = join_project(browser, desktop, studio_url, workspace["id"], project["id"], "editor", "pia",
                             viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)
    try:
        phone = pia.new_page()
        console.watch(phone)
        desktop.request.post(f"{studio_url}/api/v1/projects/{project['id']}/comments", headers=headers,
                             data={"target": {"kind": "asset", "id": take}, "body": "Crop tighter"})
        phone.goto(f"{studio_url}/projects/{project['id']}")
        phone.get_by_role("button", name="Browser").first.tap()
        tile = phone.locator(f'[data-testid="asset-item"][data-asset-id="{take}"]')
        expect(tile.get_by_test_id("asset-unread")).to_have_text("1")
        screenshot(phone, "asset-unread-badge-phone")
        assert console.unexpected() == []
    finally:
        pia.close()
