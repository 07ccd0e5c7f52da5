"""The review board in real Chromium, two people in their own browser profiles: A picks a take of a shot and
sets its status; B's board shows the new cover and status without a reload. B moves a card with the keyboard
(announced) and A's board follows. Screenshots of the board at desktop, tablet and phone sizes."""

from __future__ import annotations

import re
import time

from browser_support import ConsoleLog, csrf_headers, join_project, screenshot, skip_tour
from playwright.sync_api import Browser, BrowserContext, Page, expect

from support import png_bytes

DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}


def _node(type_: str, title: str, x: int, y: int, **params: object) -> dict[str, object]:
    return {"type": type_, "title": title, "position": {"x": x, "y": y}, "params": params, "bypass": False}


def _upload(context: BrowserContext, url: str, project_id: str, name: str, color: tuple[int, int, int]) -> str:
    answer = context.request.post(f"{url}/api/v1/projects/{project_id}/assets", headers=csrf_headers(context),
                                  multipart={"file": {"name": name, "mimeType": "image/png",
                                                      "buffer": png_bytes(color, (320, 180))}})
    assert answer.status == 201, answer.text()
    body = answer.json()
    return (body["items"] if isinstance(body, dict) else body)[0]["id"]


def _run(context: BrowserContext, url: str, project_id: str, scene_id: str, graph: dict) -> None:
    headers = csrf_headers(context)
    put = context.request.put(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/graph", data=graph,
                              headers=headers)
    assert put.status == 200, put.text()
    task = context.request.post(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/run", data={"force": True},
                                headers=headers).json()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        state = context.request.get(f"{url}/api/v1/tasks/{task['id']}").json()
        if state["status"] in ("succeeded", "failed", "cancelled"):
            assert state["status"] == "succeeded", state
            return
        time.sleep(0.3)
    raise AssertionError("the run did not end")


def _open_board(page: Page, url: str, project_id: str) -> None:
    page.goto(f"{url}/projects/{project_id}")
    page.get_by_role("tab", name="Board").click()
    expect(page.get_by_test_id("board-view")).to_be_visible()


def test_a_pick_and_a_status_change_reach_the_other_board_live(browser: Browser, desktop: BrowserContext,
                                                                page: Page, studio_url: str,
                                                                console: ConsoleLog) -> None:
    headers = csrf_headers(desktop)
    workspace = desktop.request.post(f"{studio_url}/api/v1/workspaces", data={"name": "Board room"},
                                     headers=headers).json()
    project = desktop.request.post(f"{studio_url}/api/v1/projects", headers=headers,
                                   data={"name": "Lighthouse", "template": "blank",
                                         "workspace_id": workspace["id"]}).json()
    scene = desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    blue = _upload(desktop, studio_url, project["id"], "blue.png", (40, 90, 160))
    amber = _upload(desktop, studio_url, project["id"], "amber.png", (220, 150, 40))
    edges = {"plate:image->hero:images": {"source": "plate", "source_handle": "image", "target": "hero",
                                          "target_handle": "images"},
             "plate:image->wide:images": {"source": "plate", "source_handle": "image", "target": "wide",
                                          "target_handle": "images"}}
    for asset in (blue, amber):  # two takes of each shot: blue first, amber newest
        _run(desktop, studio_url, project["id"], scene["id"], {
            "nodes": {"plate": _node("load_image", "Plate", 0, 0, asset_id=asset),
                      "hero": _node("shot", "Hero", 400, 0, name="Hero"),
                      "wide": _node("shot", "Wide", 400, 300, name="Wide")}, "edges": edges})
    takes = desktop.request.get(
        f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene['id']}/shots/hero/takes").json()["items"]
    first, newest = takes[-1]["asset_id"], takes[0]["asset_id"]
    second = desktop.request.post(f"{studio_url}/api/v1/projects/{project['id']}/scenes", data={"name": "Harbour"},
                                  headers=headers)
    assert second.status == 201, second.text()

    _, b_context, _ = join_project(browser, desktop, studio_url, workspace["id"], project["id"], "editor", "bo")
    try:
        skip_tour(b_context, studio_url)
        b_page = b_context.new_page()
        console.watch(b_page)
        _open_board(b_page, studio_url, project["id"])
        _open_board(page, studio_url, project["id"])
        cards = page.get_by_test_id("shot-card")
        expect(cards).to_have_count(2)
        hero = page.locator('[data-testid="shot-card"][data-node="hero"]')
        b_hero = b_page.locator('[data-testid="shot-card"][data-node="hero"]')
        expect(hero.get_by_test_id("card-cover-image")).to_have_attribute("data-asset", newest)
        expect(b_hero.get_by_test_id("take-count")).to_have_text("2 takes")

        # A picks the first take in the card's takes; B's card shows it as the cover, live.
        hero.get_by_test_id("card-cover").click()
        dialog = page.get_by_test_id("takes-dialog")
        expect(dialog.get_by_test_id("take")).to_have_count(2)
        dialog.locator(f'[data-testid="take"][data-asset="{first}"]').get_by_test_id("pick-take").click()
        expect(dialog.locator(f'[data-testid="take"][data-asset="{first}"]')).to_have_attribute("data-picked", "true")
        screenshot(page, "board-takes-desktop")
        # The takes open side by side in the Compare view: the cover (the pick) first.
        compare = dialog.get_by_test_id("takes-compare")
        expect(compare).to_have_attribute("href", f"/projects/{project['id']}/compare?assets={first},{newest}")
        dialog.get_by_role("button", name="Done").click()
        expect(b_hero.get_by_test_id("card-cover-image")).to_have_attribute("data-asset", first)
        expect(b_hero.get_by_test_id("take-count")).to_have_text("2 takes · picked")

        # A sets the status from the pill's menu; B sees it and who changed it.
        hero.get_by_test_id("status-menu").click()
        page.get_by_test_id("status-approved").click()
        expect(hero.get_by_test_id("status-pill")).to_have_attribute("data-status", "approved")
        expect(b_hero.get_by_test_id("status-pill")).to_have_attribute("data-status", "approved")
        expect(b_hero.get_by_test_id("card-last")).to_contain_text("set the status")

        # B moves 'Wide' before 'Hero' with the keyboard; it is announced, and A's board follows.
        b_page.locator('[data-testid="shot-card"][data-node="wide"]').get_by_test_id("card-handle").press("Alt+ArrowLeft")
        expect(b_page.get_by_test_id("board-announcement")).to_have_text("Moved Wide to place 1 of 2 in Scene 1.")
        expect(cards.first).to_have_attribute("data-node", "wide")
        expect(page.locator('[data-testid="shot-card"][data-node="wide"]').get_by_test_id("card-handle")).to_be_visible()

        # B moves the scene 'Harbour' (no shots yet) above 'Scene 1' with the keyboard; A's rows follow.
        rows = page.get_by_test_id("board-scene")
        expect(rows).to_have_count(2)
        expect(rows.nth(1)).to_contain_text("No shots in this scene.")
        b_page.get_by_test_id("board-scene").nth(1).get_by_test_id("scene-handle").press("Alt+ArrowUp")
        expect(b_page.get_by_test_id("board-announcement")).to_have_text("Moved the scene Harbour to place 1 of 2.")
        expect(rows.first).to_contain_text("Harbour")

        # A drags 'Hero' back before 'Wide' with the mouse; B's board follows.
        handle = page.locator('[data-testid="shot-card"][data-node="hero"]').get_by_test_id("card-handle")
        grip, target = handle.bounding_box(), page.locator('[data-testid="shot-card"][data-node="wide"]').bounding_box()
        assert grip is not None and target is not None
        page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
        page.mouse.down()
        page.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 3, steps=8)
        expect(page.locator('[data-testid="shot-card"][data-node="wide"]')).to_have_class(re.compile("ring-accent"))
        page.mouse.up()
        expect(b_page.get_by_test_id("shot-card").first).to_have_attribute("data-node", "hero")
        expect(cards.first).to_have_attribute("data-node", "hero")

        # Screenshots at three sizes (B's board, A looking at the Hero card: B sees who).
        hero.hover()
        expect(b_hero.get_by_test_id("presence-dot")).to_have_count(1)
        for size, name in ((DESKTOP, "desktop"), (TABLET, "tablet"), (PHONE, "phone")):
            b_page.set_viewport_size(size)
            expect(b_page.get_by_test_id("board-view")).to_be_visible()
            expect(b_page.get_by_test_id("shot-card")).to_have_count(2)
            screenshot(b_page, f"board-{name}")

        # A opens the shot's graph from its card; the inspector of the shot node has its take strip.
        hero.get_by_test_id("card-title").click()
        expect(page.get_by_role("tab", name="Scene View")).to_have_attribute("aria-selected", "true")
        page.locator('.svelte-flow__node[data-id="hero"]').click()
        strip = page.get_by_test_id("inspector-takes")
        expect(strip.get_by_test_id("take")).to_have_count(2)
        expect(strip.locator(f'[data-testid="take"][data-asset="{first}"]')).to_have_attribute("data-picked", "true")
        strip.locator(f'[data-testid="take"][data-asset="{newest}"]').get_by_test_id("pick-take").click()
        expect(strip.locator(f'[data-testid="take"][data-asset="{newest}"]')).to_have_attribute("data-picked", "true")
        screenshot(page, "board-inspector-takes-desktop")
        expect(b_hero.get_by_test_id("card-cover-image")).to_have_attribute("data-asset", newest)
    finally:
        b_context.close()


def _touch(session: object, kind: str, points: list[tuple[float, float]]) -> None:
    """A touch event as a finger on the screen makes it (Chromium makes the pointer events from it)."""
    session.send("Input.dispatchTouchEvent",  # type: ignore[attr-defined]
                 {"type": kind, "touchPoints": [{"x": x, "y": y} for x, y in points]})


def test_a_card_dragged_by_a_finger_on_a_phone_moves_on_the_board(browser: Browser, studio_url: str,
                                                                 console: ConsoleLog) -> None:
    from browser_support import create_project, new_account

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        account = new_account("fingers")
        assert context.request.post(f"{studio_url}/api/v1/auth/register", data=account.credentials()).status == 201
        skip_tour(context, studio_url)
        project = create_project(context, studio_url, "Storm")
        scene = context.request.get(f"{studio_url}/api/v1/projects/{project['id']}/scenes").json()["items"][0]
        put = context.request.put(
            f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph", headers=csrf_headers(context),
            data={"nodes": {"hero": _node("shot", "Hero", 0, 0, name="Hero"),
                            "wide": _node("shot", "Wide", 0, 300, name="Wide")}, "edges": {}})
        assert put.status == 200, put.text()
        page = context.new_page()
        console.watch(page)
        _open_board(page, studio_url, project["id"])
        cards = page.get_by_test_id("shot-card")
        expect(cards).to_have_count(2)
        expect(cards.first).to_have_attribute("data-node", "hero")

        # A finger on Wide's handle drags it over Hero's card and lifts: Wide comes first, on the server too.
        grip = page.locator('[data-testid="shot-card"][data-node="wide"]').get_by_test_id("card-handle").bounding_box()
        target = page.locator('[data-testid="shot-card"][data-node="hero"]').bounding_box()
        assert grip is not None and target is not None
        x, y = grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2
        to_x, to_y = target["x"] + target["width"] / 3, target["y"] + target["height"] / 3
        fingers = context.new_cdp_session(page)
        _touch(fingers, "touchStart", [(x, y)])
        for step in range(1, 11):
            _touch(fingers, "touchMove", [(x + (to_x - x) * step / 10, y + (to_y - y) * step / 10)])
        _touch(fingers, "touchEnd", [])
        expect(cards.first).to_have_attribute("data-node", "wide")
        # The card moves at once; the announcement waits for the server's answer (read the board only then).
        expect(page.get_by_test_id("board-announcement")).to_have_text("Moved Wide to place 1 of 2 in Scene 1.")
        board = context.request.get(f"{studio_url}/api/v1/projects/{project['id']}/board").json()
        shots = next(row for row in board["scenes"] if row["id"] == scene["id"])["shots"]
        assert [shot["node_id"] for shot in shots] == ["wide", "hero"]
        assert console.unexpected() == []
    finally:
        context.close()
