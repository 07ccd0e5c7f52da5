"""Editing graphs on the canvas in real Chromium, beyond single nodes: selecting many (Shift+click, a box, Ctrl+A),
copy, cut, paste and duplicate (within a scene, across projects, and JSON from another browser, checked as
hostile), the context menu (right click, Shift+F10, a long press on a phone), colour and collapse, align,
distribute and lay out. Each action is one undo step and everyone in the scene sees it at once."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import PHONE, Account, ConsoleLog, create_project, join_project, screenshot
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from test_canvas_editing_ui import Person, Studio, _flow_node, _node, _position, _studio, _transform

Graph = dict[str, Any]


def _graph_with_a_chain() -> Graph:
    """Two upscales linked (a → b) and a prompt below them."""
    def node(type_: str, title: str, x: int, y: int, **params: object) -> dict[str, object]:
        return {"type": type_, "title": title, "position": {"x": x, "y": y}, "params": params, "bypass": False}

    return {"nodes": {"a": node("upscale", "First", 0, 120, factor=3), "b": node("upscale", "Second", 340, 160),
                      "c": node("prompt", "Words", 40, 400, text="a harbour at night")},
            "edges": {"a:image->b:image": {"source": "a", "source_handle": "image", "target": "b",
                                           "target_handle": "image"}}}


@pytest.fixture
def chain(browser: Browser, desktop: BrowserContext, page: Page, account: Account, studio_url: str,
          console: ConsoleLog) -> Iterator[Studio]:
    studio = _studio(browser, desktop, page, account, studio_url, "blank")
    studio.put_graph(_graph_with_a_chain())
    yield studio
    for guest in studio.guests:
        guest.context.close()


def _selected(page: Page) -> Locator:
    return page.locator(".svelte-flow__node.selected")


def _menu(page: Page) -> Locator:
    return page.get_by_test_id("canvas-menu")


def _shown_nodes(page: Page) -> Locator:
    return page.get_by_test_id("graph-node")


def _empty_spot(page: Page) -> dict[str, float]:
    """A point on the empty canvas, right of and below the nodes."""
    box = page.get_by_test_id("scene-canvas").bounding_box()
    assert box is not None
    return {"x": box["x"] + box["width"] * 0.62, "y": box["y"] + box["height"] * 0.62}


def _paste_text(page: Page, text: str) -> None:
    """What another browser's copy puts on the system clipboard, pasted here (a real paste event with its data)."""
    page.get_by_test_id("scene-canvas").evaluate(
        """(canvas, text) => {
            const data = new DataTransfer();
            data.setData('text/plain', text);
            canvas.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
        }""", text)


def _copied_text(page: Page) -> str:
    """What a real copy event on the canvas puts on the clipboard."""
    return page.get_by_test_id("scene-canvas").evaluate(  # type: ignore[no-any-return]
        """canvas => {
            const data = new DataTransfer();
            canvas.querySelector('.svelte-flow__node.selected').dispatchEvent(
                new ClipboardEvent('copy', { clipboardData: data, bubbles: true, cancelable: true }));
            return data.getData('text/plain');
        }""")


# -- selecting, copy, paste, duplicate --------------------------------------------------------------------

def test_copy_paste_cut_and_duplicate_keep_links_land_at_the_pointer_and_undo_in_one_step(
        chain: Studio, console: ConsoleLog) -> None:
    ben = chain.join("editor", "ben")
    console.watch(ben.page)
    a, b = chain.open(chain.owner), chain.open(ben)
    expect(_shown_nodes(a)).to_have_count(3)

    # Shift+click adds to the selection; the copy is the versioned JSON format, with the link between the two.
    _node(a, "a").click()
    _node(a, "b").click(modifiers=["Shift"])
    expect(_selected(a)).to_have_count(2)
    copied = json.loads(_copied_text(a))
    assert copied["format"] == "mediastudio/nodes" and copied["version"] == 1
    assert sorted(copied["nodes"]) == ["a", "b"] and len(copied["edges"]) == 1
    assert copied["nodes"]["a"]["params"] == {"factor": 3}

    # Ctrl+C, then Ctrl+V with the pointer on an empty spot: two new nodes there, linked, selected; B sees them.
    a.keyboard.press("Control+c")
    spot = _empty_spot(a)
    a.mouse.move(spot["x"], spot["y"])
    a.keyboard.press("Control+v")
    for page in (a, b):
        expect(_shown_nodes(page)).to_have_count(5)
    graph = chain.wait_graph(lambda g: len(g["nodes"]) == 5 and len(g["edges"]) == 2, "the paste on the server")
    new = sorted(set(graph["nodes"]) - {"a", "b", "c"})
    first = next(n for n in new if graph["nodes"][n]["title"] == "First")
    second = next(n for n in new if n != first)
    assert f"{first}:image->{second}:image" in graph["edges"]
    assert graph["nodes"][second]["position"]["x"] - graph["nodes"][first]["position"]["x"] == 340
    expect(_selected(a)).to_have_count(2)
    # The top-left pasted node sits under the pointer (its corner where the pointer was).
    landed = _flow_node(a, first).bounding_box()
    assert landed is not None and abs(landed["x"] - spot["x"]) < 4 and abs(landed["y"] - spot["y"]) < 48, (landed, spot)

    # One Ctrl+Z takes the whole paste away, for everyone.
    a.keyboard.press("Control+z")
    for page in (a, b):
        expect(_shown_nodes(page)).to_have_count(3)
    chain.wait_graph(lambda g: sorted(g["nodes"]) == ["a", "b", "c"] and len(g["edges"]) == 1, "the paste undone")

    # Ctrl+A and Ctrl+D: a copy of everything beside it, links kept; one undo step too.
    _node(a, "c").click()
    a.keyboard.press("Control+a")
    expect(_selected(a)).to_have_count(3)
    a.keyboard.press("Control+d")
    expect(_shown_nodes(b)).to_have_count(6)
    graph = chain.wait_graph(lambda g: len(g["nodes"]) == 6 and len(g["edges"]) == 2, "the duplicate")
    copy_of_c = next(n for n, node in graph["nodes"].items() if node["title"] == "Words" and n != "c")
    assert graph["nodes"][copy_of_c]["position"] == {"x": 80, "y": 440}
    assert graph["nodes"][copy_of_c]["params"] == {"text": "a harbour at night"}
    a.keyboard.press("Control+z")
    expect(_shown_nodes(b)).to_have_count(3)

    # Ctrl+X cuts (the node and its link go), and Ctrl+V brings it back under a fresh id.
    _node(a, "b").click()
    a.keyboard.press("Control+x")
    for page in (a, b):
        expect(_node(page, "b")).to_have_count(0)
    chain.wait_graph(lambda g: "b" not in g["nodes"] and not g["edges"], "the cut")
    a.mouse.move(spot["x"], spot["y"])
    a.keyboard.press("Control+v")
    expect(_shown_nodes(b)).to_have_count(3)
    graph = chain.wait_graph(lambda g: len(g["nodes"]) == 3, "the cut node pasted")
    assert "b" not in graph["nodes"] and any(node["title"] == "Second" for node in graph["nodes"].values())
    assert console.unexpected() == []


def test_nodes_pasted_in_another_project_and_json_from_another_browser_is_checked(
        chain: Studio, console: ConsoleLog, desktop: BrowserContext) -> None:
    a = chain.open(chain.owner)
    _node(a, "a").click()
    _node(a, "b").click(modifiers=["Shift"])
    a.keyboard.press("Control+c")

    # Another project, in another tab of this browser: Ctrl+V pastes the two nodes and their link.
    other = create_project(desktop, chain.url, "Second harbour", "blank")
    detail = desktop.request.get(f"{chain.url}/api/v1/projects/{other['id']}").json()
    tab = desktop.new_page()
    console.watch(tab)
    tab.goto(f"{chain.url}/projects/{other['id']}/scenes/{detail['scenes'][0]['id']}")
    expect(tab.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    tab.get_by_test_id("scene-canvas").click(position={"x": 300, "y": 300})
    tab.keyboard.press("Control+v")
    expect(_shown_nodes(tab)).to_have_count(2)
    expect(tab.locator(".svelte-flow__edge")).to_have_count(1)

    # JSON from another browser, hostile: an unknown kind of node, a parameter out of range, a link to a node that
    # is not there, a colour off the palette. What is fine is pasted; what is not is named.
    hostile = {
        "format": "mediastudio/nodes", "version": 1,
        "nodes": {
            "ok": {"type": "prompt", "title": "Kept", "position": {"x": 0, "y": 0}, "params": {"text": "fine"},
                   "color": "green"},
            "big": {"type": "upscale", "title": "Too big", "position": {"x": 300, "y": 0},
                    "params": {"factor": 99, "method": "nearest"}, "color": "</style><script>alert(1)</script>"},
            "evil": {"type": "shell_exec", "title": "Nope", "position": {"x": 0, "y": 200}, "params": {}},
        },
        "edges": [{"source": "evil", "source_handle": "out", "target": "big", "target_handle": "image"}],
    }
    a.get_by_test_id("scene-canvas").click(position={"x": 40, "y": 600})
    _paste_text(a, json.dumps(hostile))
    notice = a.get_by_test_id("paste-notice")
    expect(notice).to_contain_text("Pasted 2 nodes")
    expect(notice).to_contain_text("“shell_exec” is not a kind of node this studio has")
    expect(notice).to_contain_text("factor: Must be at most 8.")
    expect(notice).to_contain_text("is not a node colour")
    expect(notice).to_contain_text("1 link between nodes that were not pasted")
    screenshot(a, "canvas-paste-refused")
    graph = chain.wait_graph(lambda g: len(g["nodes"]) == 5, "the checked paste")
    kept = next(node for node in graph["nodes"].values() if node["title"] == "Kept")
    big = next(node for node in graph["nodes"].values() if node["title"] == "Too big")
    assert kept["color"] == "green" and "color" not in big
    assert big["params"] == {"method": "nearest"}  # the factor left out: its default applies
    a.get_by_test_id("paste-notice-close").click()
    expect(notice).to_have_count(0)

    # Plain text is no paste of nodes: nothing happens, nothing is said; another version is refused in words.
    _paste_text(a, "just words")
    _paste_text(a, json.dumps({**hostile, "version": 9}))
    expect(notice).to_contain_text("another version of the studio")
    expect(_shown_nodes(a)).to_have_count(5)

    # The canvas's menu pastes too, where it was opened: the two nodes copied first (this browser's copy when
    # the page may not read the system clipboard).
    box = a.get_by_test_id("scene-canvas").bounding_box()
    assert box is not None
    a.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 24, button="right")
    _menu(a).get_by_role("menuitem", name="Paste").click()
    expect(_shown_nodes(a)).to_have_count(7)
    graph = chain.wait_graph(lambda g: len(g["nodes"]) == 7 and len(g["edges"]) == 2, "pasted from the menu")
    assert sum(node["title"] == "First" for node in graph["nodes"].values()) == 2
    assert console.unexpected() == []


# -- the context menu: colour, collapse, align, distribute, lay out ---------------------------------------

def _right_click(page: Page, target: Locator) -> None:
    target.click(button="right", position={"x": 30, "y": 10})
    expect(_menu(page)).to_be_visible()


def _y(page: Page, node_id: str) -> int:
    return _position(_transform(page, node_id))["y"]


def test_the_menu_colours_collapses_aligns_and_lays_out_live_for_others_one_undo_step_each(
        chain: Studio, console: ConsoleLog) -> None:
    ben = chain.join("editor", "ben")
    console.watch(ben.page)
    a, b = chain.open(chain.owner), chain.open(ben)

    # Right click on a node: its menu; a colour from the palette shows for B and is stored.
    _right_click(a, _node(a, "a"))
    expect(_menu(a)).to_have_attribute("data-target", "node")
    expect(_menu(a).get_by_role("menuitem", name="Copy")).to_be_focused()
    _menu(a).get_by_role("menuitemradio", name="Teal").click()
    expect(_menu(a)).to_have_count(0)
    for page in (a, b):
        expect(_node(page, "a")).to_have_attribute("data-color", "teal")
    chain.wait_graph(lambda g: g["nodes"]["a"].get("color") == "teal", "the colour on the server")

    # Alt+C collapses the selected node to its title bar (B sees it); Ctrl+Z expands it again.
    height = _node(a, "a").bounding_box()["height"]  # type: ignore[index]
    a.keyboard.press("Alt+c")
    for page in (a, b):
        expect(_node(page, "a")).to_have_attribute("data-collapsed", "true")
    chain.wait_graph(lambda g: g["nodes"]["a"].get("collapsed") is True, "collapsed on the server")
    assert _node(a, "a").bounding_box()["height"] < height / 2  # type: ignore[index]
    screenshot(a, "canvas-collapsed-coloured")
    expect(a.locator('.svelte-flow__edge[data-id="a:image->b:image"]')).to_have_count(1)  # its link stays
    a.keyboard.press("Control+z")
    expect(_node(b, "a")).not_to_have_attribute("data-collapsed", "true")
    expect(_node(b, "a")).to_have_attribute("data-color", "teal")  # only the last step undone

    # Ctrl+A, the menu from the keyboard (Shift+F10), Align top: every node on one line, for B too.
    a.keyboard.press("Control+a")
    a.keyboard.press("Shift+F10")
    expect(_menu(a)).to_have_attribute("data-target", "node")
    _menu(a).get_by_role("menuitem", name="Align top").click()
    graph = chain.wait_graph(lambda g: len({n["position"]["y"] for n in g["nodes"].values()}) == 1, "aligned top")
    assert graph["nodes"]["a"]["position"]["y"] == 120
    for node_id in ("a", "b", "c"):
        expect(_flow_node(b, node_id)).to_have_attribute("style", _contains("px, 120px)"))
    screenshot(a, "canvas-aligned-top")

    # Lay out left to right: a before b (b is fed by a); then one Ctrl+Z puts all three back where they were.
    _right_click(a, _node(a, "c"))
    _menu(a).get_by_role("menuitem", name="Lay out left to right").click()
    graph = chain.wait_graph(lambda g: g["nodes"]["b"]["position"]["x"] > g["nodes"]["a"]["position"]["x"] + 200
                             and g["nodes"]["a"]["position"]["y"] != g["nodes"]["c"]["position"]["y"], "laid out")
    a.keyboard.press("Control+z")
    graph = chain.wait_graph(lambda g: len({n["position"]["y"] for n in g["nodes"].values()}) == 1, "layout undone")
    a.keyboard.press("Control+z")
    start = _graph_with_a_chain()["nodes"]
    chain.wait_graph(lambda g: all(g["nodes"][n]["position"] == start[n]["position"] for n in start), "align undone")
    expect(_flow_node(b, "b")).to_have_attribute("style", _contains("translate(340px, 160px)"))

    # Distribute across: the middle node moves so the gaps are equal.
    moved = _graph_with_a_chain()
    moved["nodes"]["c"]["position"] = {"x": 60, "y": 400}
    chain.put_graph(moved)
    expect(_flow_node(a, "c")).to_have_attribute("style", _contains("translate(60px, 400px)"))
    _node(a, "a").click()
    a.keyboard.press("Control+a")
    _right_click(a, _node(a, "b"))
    _menu(a).get_by_role("menuitem", name="Distribute across").click()
    graph = chain.wait_graph(lambda g: g["nodes"]["c"]["position"]["x"] != 60, "distributed")
    boxes = {n: _flow_node(a, n).bounding_box() for n in ("a", "c", "b")}
    gaps = [boxes["c"]["x"] - boxes["a"]["x"] - boxes["a"]["width"],  # type: ignore[index]
            boxes["b"]["x"] - boxes["c"]["x"] - boxes["c"]["width"]]  # type: ignore[index]
    assert abs(gaps[0] - gaps[1]) <= 2, gaps

    # A link's menu deletes it; Esc closes a menu and gives the canvas its keys back.
    _right_click(a, a.locator('.svelte-flow__edge[data-id="a:image->b:image"]'))
    expect(_menu(a)).to_have_attribute("data-target", "edge")
    _menu(a).get_by_role("menuitem", name="Delete link").click()
    chain.wait_graph(lambda g: not g["edges"], "the link deleted")
    expect(b.locator(".svelte-flow__edge")).to_have_count(0)
    box = a.get_by_test_id("scene-canvas").bounding_box()
    assert box is not None
    empty = (box["x"] + box["width"] / 2, box["y"] + box["height"] - 24)  # below the framed graph
    a.mouse.click(*empty)  # nothing selected now
    expect(_selected(a)).to_have_count(0)
    a.mouse.click(*empty, button="right")
    expect(_menu(a)).to_have_attribute("data-target", "canvas")
    screenshot(a, "canvas-menu")
    a.keyboard.press("Escape")
    expect(_menu(a)).to_have_count(0)
    a.keyboard.press("Control+z")
    chain.wait_graph(lambda g: len(g["edges"]) == 1, "the link back")
    assert console.unexpected() == []


def _contains(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text))


def test_a_reroute_point_is_added_from_a_links_menu_dragged_and_seen_by_others(
        chain: Studio, console: ConsoleLog) -> None:
    ben = chain.join("editor", "ben")
    console.watch(ben.page)
    a, b = chain.open(chain.owner), chain.open(ben)
    key = "a:image->b:image"
    link = a.locator(f'.svelte-flow__edge[data-id="{key}"]')
    _right_click(a, link)
    _menu(a).get_by_role("menuitem", name="Add a reroute point here").click()
    graph = chain.wait_graph(lambda g: "via" in g["edges"][key], "the reroute point on the server")
    point = b.locator(f'[data-testid="reroute-point"][data-edge="{key}"]')
    expect(point).to_be_visible()

    # Dragged down by 120 px on screen: the link bends through it, for B too; one undo step puts it back.
    dot = a.locator(f'[data-testid="reroute-point"][data-edge="{key}"]').bounding_box()
    assert dot is not None
    x, y = dot["x"] + dot["width"] / 2, dot["y"] + dot["height"] / 2
    a.mouse.move(x, y)
    a.mouse.down()
    for step in range(1, 7):
        a.mouse.move(x, y + 20 * step)
    a.mouse.up()
    before = graph["edges"][key]["via"]
    moved = chain.wait_graph(lambda g: g["edges"][key]["via"]["y"] > before["y"] + 40, "the point dragged")
    assert abs(moved["edges"][key]["via"]["x"] - before["x"]) <= 2
    expect(point).to_have_count(1)
    shown = point.bounding_box()
    assert shown is not None and shown["y"] > dot["y"] + 40, (shown, dot)
    screenshot(a, "canvas-reroute-point")
    _node(a, "c").click()
    a.keyboard.press("Control+z")
    chain.wait_graph(lambda g: g["edges"][key].get("via") == before, "the drag undone")

    # The link's menu (a right click on its point) takes it away again.
    a.locator(f'[data-testid="reroute-point"][data-edge="{key}"]').click(button="right")
    expect(_menu(a)).to_have_attribute("data-target", "edge")
    _menu(a).get_by_role("menuitem", name="Remove the reroute point").click()
    chain.wait_graph(lambda g: "via" not in g["edges"][key], "the point removed")
    expect(point).to_have_count(0)
    assert console.unexpected() == []


# -- a box of selection, and a phone ----------------------------------------------------------------------

def test_shift_drag_selects_a_box_of_nodes_and_the_menu_deletes_them(chain: Studio, console: ConsoleLog) -> None:
    a = chain.open(chain.owner)
    first, second = _flow_node(a, "a").bounding_box(), _flow_node(a, "b").bounding_box()
    assert first is not None and second is not None
    a.keyboard.down("Shift")
    a.mouse.move(first["x"] - 20, first["y"] - 20)
    a.mouse.down()
    a.mouse.move(second["x"] + second["width"] + 20, second["y"] + second["height"] + 20, steps=8)
    a.mouse.up()
    a.keyboard.up("Shift")
    expect(_selected(a)).to_have_count(2)
    # A right click inside the box the selection draws: the menu of the selected nodes.
    a.mouse.click(second["x"] + 30, second["y"] + 10, button="right")
    expect(_menu(a)).to_have_attribute("data-target", "node")
    _menu(a).get_by_role("menuitem", name="Delete 2 nodes").click()
    chain.wait_graph(lambda g: sorted(g["nodes"]) == ["c"], "the box deleted")
    a.keyboard.press("Control+z")
    chain.wait_graph(lambda g: sorted(g["nodes"]) == ["a", "b", "c"] and len(g["edges"]) == 1, "the box back")

    # The canvas's menu lays every node out when none is selected: a, the one fed by it (b) a column right.
    box = a.get_by_test_id("scene-canvas").bounding_box()
    assert box is not None
    empty = (box["x"] + box["width"] / 2, box["y"] + box["height"] - 24)
    a.mouse.click(*empty)
    a.mouse.click(*empty, button="right")
    _menu(a).get_by_role("menuitem", name="Lay out all, left to right").click()
    graph = chain.wait_graph(lambda g: g["nodes"]["b"]["position"]["x"] > g["nodes"]["a"]["position"]["x"] + 200
                             and g["nodes"]["c"]["position"]["x"] == g["nodes"]["a"]["position"]["x"], "laid out")
    assert graph["nodes"]["a"]["position"]["y"] != graph["nodes"]["c"]["position"]["y"]
    assert console.unexpected() == []


def _touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    session = page.context.new_cdp_session(page)
    session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
    for step in range(1, 11):
        x, y = (start[i] + (end[i] - start[i]) * step / 10 for i in (0, 1))
        session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()


def _long_press(page: Page, x: float, y: float) -> None:
    session = page.context.new_cdp_session(page)
    point = [{"x": x, "y": y}]
    session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point})
    page.wait_for_timeout(800)  # part of the gesture: the finger held still
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()


def test_on_a_phone_a_long_press_opens_the_menu_and_a_colour_is_picked_by_finger(
        chain: Studio, browser: Browser, console: ConsoleLog) -> None:
    account, phone, _ = join_project(browser, chain.owner.context, chain.url, chain.workspace["id"],
                                     chain.project["id"], "editor", "pia", viewport=PHONE, device_scale_factor=3,
                                     is_mobile=True, has_touch=True)
    chain.guests.append(Person(account, phone, phone.new_page()))  # closed with the others
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
    menu_box = _menu(page).bounding_box()
    assert menu_box is not None and menu_box["x"] >= 0 and menu_box["x"] + menu_box["width"] <= 390
    screenshot(page, "canvas-menu-phone")
    _menu(page).get_by_role("menuitemradio", name="Purple").tap()
    chain.wait_graph(lambda g: g["nodes"]["c"].get("color") == "purple", "coloured by finger")
    screenshot(page, "canvas-coloured-phone")

    # The box button by the zoom controls: a finger's drag selects a box of nodes instead of panning.
    page.get_by_test_id("box-select").tap()
    expect(page.get_by_test_id("box-select")).to_have_attribute("aria-pressed", "true")
    canvas = page.get_by_test_id("scene-canvas").bounding_box()
    assert canvas is not None
    left, top = canvas["x"] + 8, canvas["y"] + 80
    _touch_drag(page, (left, top), (left + canvas["width"] * 0.8, top + canvas["height"] * 0.6))
    expect(_selected(page)).not_to_have_count(0)
    screenshot(page, "canvas-box-selected-phone")
    assert console.unexpected() == []

