"""The canvas menu's Comment in real Chromium: on a node it opens that node's thread composer in the Properties
Inspector with the cursor in it; on the canvas it opens the scene's own threads. The thread is saved on the
server and others see it. On a phone, a long press on a node and Comment… show the inspector's tab."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import PHONE, Account, ConsoleLog, join_project, screenshot
from playwright.sync_api import Browser, BrowserContext, Page, expect
from test_canvas_arranging_ui import _graph_with_a_chain, _long_press, _menu, _right_click
from test_canvas_editing_ui import Person, Studio, _flow_node, _node, _studio


@pytest.fixture
def chain(browser: Browser, desktop: BrowserContext, page: Page, account: Account, studio_url: str,
          console: ConsoleLog) -> Iterator[Studio]:
    studio = _studio(browser, desktop, page, account, studio_url, "blank")
    studio.put_graph(_graph_with_a_chain())
    yield studio
    for guest in studio.guests:
        guest.context.close()


def _threads(studio: Studio, kind: str, target: str) -> list[dict[str, Any]]:
    answer = studio.owner.context.request.get(f"{studio.url}/api/v1/projects/{studio.project['id']}/comments",
                                              params={"target_kind": kind, "target_id": target})
    assert answer.ok, answer.text()
    return list(answer.json()["items"])


def test_comment_on_a_node_and_on_the_scene_from_the_canvas_menu(chain: Studio, console: ConsoleLog) -> None:
    a = chain.open(chain.owner)
    expect(_node(a, "b")).to_be_visible()

    # A node's menu: Comment… opens its composer in the inspector, focused; Ctrl+Enter sends.
    _right_click(a, _node(a, "b"))
    _menu(a).get_by_test_id("menu-comment").click()
    inspector = a.get_by_test_id("node-inspector").locator("xpath=..")
    box = a.get_by_test_id("comment-new")
    expect(box).to_be_focused()
    a.keyboard.type("Make this one sharper")
    screenshot(a, "canvas-comment-node-desktop")
    a.keyboard.press("Control+Enter")
    expect(inspector.get_by_text("Make this one sharper")).to_be_visible()
    threads = _threads(chain, "node", "b")
    assert len(threads) == 1 and threads[0]["comments"][0]["body"] == "Make this one sharper"
    assert threads[0]["target"]["scene_id"] == chain.scene_id

    # The canvas's menu: Comment on the scene… opens the scene's threads, focused.
    canvas = a.get_by_test_id("scene-canvas").bounding_box()
    assert canvas is not None
    a.mouse.click(canvas["x"] + canvas["width"] - 60, canvas["y"] + canvas["height"] - 160, button="right")
    expect(_menu(a)).to_have_attribute("data-target", "canvas")
    _menu(a).get_by_test_id("menu-comment-scene").click()
    scene = a.get_by_test_id("scene-comments")
    expect(scene).to_be_visible()
    expect(scene.get_by_test_id("comment-new")).to_be_focused()
    a.keyboard.type("The light is too cold overall")
    scene.get_by_test_id("comment-new-send").click()
    expect(scene.get_by_text("The light is too cold overall")).to_be_visible()
    screenshot(a, "canvas-comment-scene-desktop")
    threads = _threads(chain, "scene", chain.scene_id)
    assert [t["comments"][0]["body"] for t in threads] == ["The light is too cold overall"]
    # Selecting a node shows the node again; the scene's threads close.
    _node(a, "a").click()
    expect(scene).to_have_count(0)
    assert console.unexpected() == []


def test_on_a_phone_comment_from_a_long_press_shows_the_inspector(
        chain: Studio, browser: Browser, console: ConsoleLog) -> None:
    account, phone, _ = join_project(browser, chain.owner.context, chain.url, chain.workspace["id"],
                                     chain.project["id"], "editor", "pia", viewport=PHONE, device_scale_factor=3,
                                     is_mobile=True, has_touch=True)
    chain.guests.append(Person(account, phone, phone.new_page()))
    page = chain.guests[-1].page
    console.watch(page)
    page.goto(f"{chain.url}/projects/{chain.project['id']}/scenes/{chain.scene_id}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    node = _flow_node(page, "c")
    expect(node).to_be_visible()
    box = node.bounding_box()
    assert box is not None
    _long_press(page, box["x"] + 30, box["y"] + 12)
    expect(_menu(page)).to_have_attribute("data-target", "node")
    _menu(page).get_by_test_id("menu-comment").tap()
    composer = page.get_by_test_id("comment-new")
    expect(composer).to_be_visible()
    expect(composer).to_be_focused()
    page.keyboard.type("Words: shorter?")
    screenshot(page, "canvas-comment-node-phone")
    page.get_by_test_id("comment-new-send").tap()
    expect(page.get_by_text("Words: shorter?")).to_be_visible()
    assert [t["comments"][0]["body"] for t in _threads(chain, "node", "c")] == ["Words: shorter?"]
    assert console.unexpected() == []
