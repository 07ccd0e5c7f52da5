"""Comments and the inbox in real Chromium, two people in their own browser profiles: A comments on a take,
pinned on the picture, mentioning B; B, elsewhere in the studio, sees the inbox's unread badge appear live,
opens the line and lands on the take with the mention drawn. Markup in a comment is shown as text. Screenshots
at desktop and phone sizes."""

from __future__ import annotations

from browser_support import PHONE, ConsoleLog, csrf_headers, join_project, screenshot
from playwright.sync_api import Browser, BrowserContext, Page, expect

from support import png_bytes


def test_a_mention_on_a_take_reaches_the_other_person_live(browser: Browser, desktop: BrowserContext, page: Page,
                                                           studio_url: str, console: ConsoleLog) -> None:
    headers = csrf_headers(desktop)
    workspace = desktop.request.post(f"{studio_url}/api/v1/workspaces", data={"name": "Review room"},
                                     headers=headers).json()
    made = desktop.request.post(f"{studio_url}/api/v1/projects", headers=headers,
                                data={"name": "Harbour", "template": "blank", "workspace_id": workspace["id"]})
    assert made.status == 201, made.text()
    project = made.json()
    upload = desktop.request.post(
        f"{studio_url}/api/v1/projects/{project['id']}/assets", headers=headers,
        multipart={"file": {"name": "take-1.png", "mimeType": "image/png",
                            "buffer": png_bytes((40, 90, 160), (640, 360))}})
    assert upload.status == 201, upload.text()
    answer = upload.json()
    take = (answer["items"] if isinstance(answer, dict) else answer)[0]
    account, b_context, _ = join_project(browser, desktop, studio_url, workspace["id"], project["id"], "viewer",
                                         "bea")
    try:
        b_page = b_context.new_page()
        console.watch(b_page)
        b_page.goto(f"{studio_url}/")
        expect(b_page.get_by_test_id("inbox-button")).to_be_visible()
        expect(b_page.get_by_test_id("inbox-badge")).to_have_count(0)

        # A opens the take, pins a comment on the picture and mentions B (picked from the suggestions).
        page.goto(f"{studio_url}/projects/{project['id']}?asset={take['id']}")
        panel = page.get_by_test_id("comments-panel")
        expect(panel).to_be_visible()
        panel.get_by_test_id("comment-pin").click()
        picture = page.get_by_test_id("asset-image").bounding_box()
        assert picture is not None
        page.mouse.click(picture["x"] + picture["width"] * 0.25, picture["y"] + picture["height"] * 0.5)
        expect(panel.get_by_test_id("comment-pin-at")).to_be_visible()
        box = panel.get_by_test_id("comment-new")
        box.fill(f"@{account.username[:5]}")
        page.get_by_test_id("mention-suggestions").get_by_role("option").first.click()
        box.press_sequentially('the sky flickers here <img src=x onerror="alert(1)">')
        panel.get_by_test_id("comment-new-send").click()
        thread = panel.get_by_test_id("comment-thread")
        expect(thread).to_have_count(1)
        expect(thread.get_by_test_id("comment-mention")).to_have_text(f"@{account.username}")
        body = thread.get_by_test_id("comment-body").first
        expect(body).to_contain_text('<img src=x onerror="alert(1)">')  # markup shown as text
        expect(body.locator("img")).to_have_count(0)
        expect(page.get_by_test_id("comment-pin-marker")).to_have_count(1)
        screenshot(page, "comments-asset-view-desktop")

        # B sees the unread badge appear without a reload, opens the inbox and the line.
        expect(b_page.get_by_test_id("inbox-badge")).to_have_text("1")
        b_page.get_by_test_id("inbox-button").click()
        line = b_page.get_by_test_id("inbox-line").first
        expect(line).to_have_attribute("data-kind", "mention")
        expect(line).to_contain_text("mentioned you")
        expect(line.get_by_test_id("inbox-text")).to_contain_text("the sky flickers here")
        screenshot(b_page, "comments-inbox-desktop")
        line.click()
        expect(b_page.get_by_test_id("asset-view")).to_have_attribute("data-asset-id", take["id"])
        b_thread = b_page.get_by_test_id("comment-thread")
        expect(b_thread.get_by_test_id("comment-mention")).to_have_text(f"@{account.username}")
        expect(b_page.get_by_test_id("inbox-badge")).to_have_count(0)  # read once opened

        # B (a viewer) replies; A sees the reply live.
        b_thread.get_by_test_id("comment-reply").fill("Agreed, take 2 fixes it")
        b_thread.get_by_test_id("comment-reply-send").click()
        expect(page.get_by_test_id("comment-thread").get_by_test_id("comment")).to_have_count(2)
        # A is told of the reply in the inbox (read already: A has the thread open, where it appeared).
        page.get_by_test_id("inbox-button").click()
        expect(page.get_by_test_id("inbox-line").first).to_have_attribute("data-kind", "reply")
        page.keyboard.press("Escape")

        # Phone width: the inbox and the comments still fit.
        b_page.set_viewport_size(PHONE)
        b_page.get_by_test_id("inbox-button").click()
        expect(b_page.get_by_test_id("inbox-panel")).to_be_visible()
        screenshot(b_page, "comments-inbox-phone")
        b_page.keyboard.press("Escape")
        b_page.get_by_test_id("comments-panel").scroll_into_view_if_needed()
        screenshot(b_page, "comments-panel-phone")
        assert console.unexpected() == [], console.errors
    finally:
        b_context.close()
