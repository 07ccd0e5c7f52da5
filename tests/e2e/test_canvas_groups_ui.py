"""Groups on the canvas in real Chromium: Ctrl+G frames the selected nodes, the title is renamed in place, the
frame's title bar moves its nodes (one undo step), a node dropped in a frame joins its group, the menu bypasses and
ungroups, a duplicate of a whole group's nodes brings its frame, and a second person sees each change live. On a
phone, a long press on the frame opens the group's menu."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import PHONE, Account, ConsoleLog, join_project, screenshot
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from test_canvas_arranging_ui import _graph_with_a_chain, _long_press, _menu, _right_click, _shown_nodes
from test_canvas_editing_ui import Person, Studio, _drag, _flow_node, _inspector, _node, _studio

Graph = dict[str, Any]


@pytest.fixture
def chain(browser: Browser, desktop: BrowserContext, page: Page, account: Account, studio_url: str,
          console: ConsoleLog) -> Iterator[Studio]:
    studio = _studio(browser, desktop, page, account, studio_url, "blank")
    studio.put_graph(_graph_with_a_chain())
    yield studio
    for guest in studio.guests:
        guest.context.close()


def _frames(page: Page) -> Locator:
    return page.get_by_test_id("group-frame")


def _title_bar(page: Page) -> Locator:
    return _frames(page).first.locator(".frame-title")


def _only_group(graph: Graph) -> tuple[str, dict[str, Any]]:
    assert len(graph.get("groups", {})) == 1, graph.get("groups")
    return next(iter(graph["groups"].items()))


def _members(graph: Graph, group: str) -> set[str]:
    return {node_id for node_id, node in graph["nodes"].items() if node.get("group") == group}


def test_a_group_is_made_renamed_moved_joined_bypassed_and_ungrouped_live_and_undoably(
        chain: Studio, console: ConsoleLog) -> None:
    ben = chain.join("editor", "ben")
    console.watch(ben.page)
    a, b = chain.open(chain.owner), chain.open(ben)
    expect(_shown_nodes(a)).to_have_count(3)

    # Ctrl+G frames the selection; its title is edited at once.
    _node(a, "a").click()
    _node(a, "b").click(modifiers=["Shift"])
    a.keyboard.press("Control+g")
    for page in (a, b):
        expect(_frames(page)).to_have_count(1)
    field = a.get_by_test_id("group-title-field")
    expect(field).to_be_focused()
    field.fill("Upscaling")
    field.press("Enter")
    expect(b.get_by_test_id("group-title")).to_have_text("Upscaling")
    graph = chain.wait_graph(lambda g: "Upscaling" in str(g.get("groups")), "the named group on the server")
    group, frame = _only_group(graph)
    assert _members(graph, group) == {"a", "b"}
    before = {n: graph["nodes"][n]["position"] for n in ("a", "b", "c")}

    # A double-click on the title renames it again.
    a.get_by_test_id("group-title").dblclick()
    a.get_by_test_id("group-title-field").fill("Bigger")
    a.get_by_test_id("group-title-field").press("Enter")
    expect(b.get_by_test_id("group-title")).to_have_text("Bigger")

    # Dragging the title bar moves the frame and both its nodes, not the node outside.
    _drag(a, _title_bar(a), 120, 80, pause_ms=300)
    moved = chain.wait_graph(lambda g: g["nodes"]["a"]["position"] != before["a"], "the group moved")
    moved = chain.wait_graph(lambda g: g["groups"][group]["bounds"]["x"] != frame["bounds"]["x"]
                             and g["nodes"]["b"]["position"]["x"] - before["b"]["x"]
                             == g["groups"][group]["bounds"]["x"] - frame["bounds"]["x"], "the group moved whole")
    dx = moved["groups"][group]["bounds"]["x"] - frame["bounds"]["x"]
    dy = moved["groups"][group]["bounds"]["y"] - frame["bounds"]["y"]
    assert dx > 20 and abs(dx / dy - 120 / 80) < 0.2, (dx, dy)  # as dragged, at the canvas's zoom
    for n in ("a", "b"):
        assert moved["nodes"][n]["position"] == {"x": before[n]["x"] + dx, "y": before[n]["y"] + dy}
    assert moved["nodes"]["c"]["position"] == before["c"]
    # One Ctrl+Z puts the frame and both nodes back (the drag was one step).
    a.keyboard.press("Control+z")
    back = chain.wait_graph(lambda g: g["nodes"]["a"]["position"] == before["a"], "the move undone")
    assert back["nodes"]["b"]["position"] == before["b"] and back["groups"][group]["bounds"] == frame["bounds"]
    assert back["groups"][group]["title"] == "Bigger"

    # The prompt dragged into the frame joins the group.
    frame_box = _frames(a).bounding_box()
    node_box = _flow_node(a, "c").bounding_box()
    assert frame_box is not None and node_box is not None
    _drag(a, _flow_node(a, "c"), frame_box["x"] + frame_box["width"] / 2 - node_box["x"] - 30,
          frame_box["y"] + frame_box["height"] / 2 - node_box["y"] - 10)
    chain.wait_graph(lambda g: g["nodes"]["c"].get("group") == group, "the prompt joined the group")

    # The frame's menu bypasses the group: both browsers draw its nodes bypassed; the nodes keep their own setting.
    _title_bar(a).click(button="right")
    expect(_menu(a)).to_have_attribute("data-target", "group")
    _menu(a).get_by_test_id("menu-group-bypass").click()
    for page in (a, b):
        expect(page.get_by_test_id("group-bypassed")).to_be_visible()
        expect(_node(page, "a")).to_have_attribute("data-bypass", "true")
    bypassed = chain.wait_graph(lambda g: g["groups"][group].get("bypass") is True, "the group bypassed")
    assert bypassed["nodes"]["a"]["bypass"] is False
    screenshot(a, "canvas-group-desktop")

    # Ctrl+Shift+G with the frame selected ungroups: the frame goes, the nodes stay; Ctrl+Z brings it back.
    _title_bar(a).click()
    a.keyboard.press("Control+Shift+g")
    for page in (a, b):
        expect(_frames(page)).to_have_count(0)
        expect(_shown_nodes(page)).to_have_count(3)
    ungrouped = chain.wait_graph(lambda g: not g.get("groups"), "ungrouped on the server")
    assert not any(node.get("group") for node in ungrouped["nodes"].values())
    a.keyboard.press("Control+z")
    for page in (a, b):
        expect(_frames(page)).to_have_count(1)
    again = chain.wait_graph(lambda g: bool(g.get("groups")), "the group back")
    assert _members(again, group) == {"a", "b", "c"}

    # Duplicating the whole group's nodes duplicates the group with them (a new frame, its own id).
    _title_bar(a).click(button="right")
    _menu(a).get_by_test_id("menu-group-select").click()
    expect(a.locator(".svelte-flow__node-graph.selected")).to_have_count(3)
    a.keyboard.press("Control+d")
    for page in (a, b):
        expect(_frames(page)).to_have_count(2)
    copied = chain.wait_graph(lambda g: len(g.get("groups", {})) == 2 and len(g["nodes"]) == 6, "the group duplicated")
    twin = next(g for g in copied["groups"] if g != group)
    assert len(_members(copied, twin)) == 3 and copied["groups"][twin]["bypass"] is True
    a.keyboard.press("Control+z")
    expect(_frames(b)).to_have_count(1)
    assert console.unexpected() == []


def test_on_a_phone_a_long_press_on_a_frame_opens_the_group_menu(
        chain: Studio, browser: Browser, console: ConsoleLog) -> None:
    graph = _graph_with_a_chain()
    for node_id in ("a", "b"):
        graph["nodes"][node_id]["group"] = "g1"
    graph["groups"] = {"g1": {"title": "Upscaling", "bounds": {"x": -30, "y": 60, "width": 620, "height": 230},
                              "color": "teal"}}
    chain.put_graph(graph)
    account, phone, _ = join_project(browser, chain.owner.context, chain.url, chain.workspace["id"],
                                     chain.project["id"], "editor", "pia", viewport=PHONE, device_scale_factor=3,
                                     is_mobile=True, has_touch=True)
    chain.guests.append(Person(account, phone, phone.new_page()))
    page = chain.guests[-1].page
    console.watch(page)
    page.goto(f"{chain.url}/projects/{chain.project['id']}/scenes/{chain.scene_id}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    expect(_frames(page)).to_have_count(1)
    screenshot(page, "canvas-group-phone")
    box = _title_bar(page).bounding_box()
    assert box is not None
    # The graph is framed wider than a phone (titles stay readable): press the title bar where it is on screen.
    x, y = max(box["x"], 0) + 40, box["y"] + box["height"] / 2
    _long_press(page, x, y)
    expect(_menu(page)).to_have_attribute("data-target", "group")
    screenshot(page, "canvas-group-menu-phone")
    _menu(page).get_by_test_id("menu-group-rename").tap()
    field = page.get_by_test_id("group-title-field")
    expect(field).to_be_focused()
    field.fill("Finishing")
    field.press("Enter")
    chain.wait_graph(lambda g: g["groups"]["g1"]["title"] == "Finishing", "renamed by finger")
    assert console.unexpected() == []


def _inside(node: dict[str, Any], width: float, height: float, bounds: dict[str, Any]) -> bool:
    x, y = node["position"]["x"], node["position"]["y"]
    return (x >= bounds["x"] and y >= bounds["y"] and x + width <= bounds["x"] + bounds["width"]
            and y + height <= bounds["y"] + bounds["height"])


def test_a_frame_grows_for_a_node_dropped_on_its_edge_layout_keeps_frames_and_the_inspector_names_the_group(
        chain: Studio, console: ConsoleLog) -> None:
    graph = _graph_with_a_chain()
    graph["nodes"]["a"]["group"] = "g1"
    # A frame just big enough for `a`; `b` (fed by a) and the prompt outside it.
    graph["groups"] = {"g1": {"title": "Upscaling", "bounds": {"x": -30, "y": 60, "width": 300, "height": 240},
                              "bypass": True}}
    chain.put_graph(graph)
    ben = chain.join("editor", "ben")
    console.watch(ben.page)
    a, b = chain.open(chain.owner), chain.open(ben)
    expect(_frames(a)).to_have_count(1)
    frame = graph["groups"]["g1"]["bounds"]

    # The inspector of a node in a bypassed group says the group bypasses it (its own switch stays off).
    _node(a, "a").click()
    expect(_inspector(a).get_by_test_id("bypass-group-note")).to_contain_text("Bypassed by group “Upscaling”")
    expect(_inspector(a).get_by_test_id("bypass-switch")).to_have_attribute("aria-checked", "false")
    _node(a, "c").click()
    expect(_inspector(a).get_by_test_id("bypass-group-note")).to_have_count(0)

    # The prompt dropped with its centre just inside the frame's right edge: it joins, and the frame grows to
    # hold it whole, for B too; one Ctrl+Z takes back the drop and the growth together.
    frame_box = _frames(a).bounding_box()
    node_box = _flow_node(a, "c").bounding_box()
    assert frame_box is not None and node_box is not None
    _drag(a, _flow_node(a, "c"), frame_box["x"] + frame_box["width"] - 8 - (node_box["x"] + node_box["width"] / 2),
          frame_box["y"] + frame_box["height"] / 2 - (node_box["y"] + node_box["height"] / 2))
    grown = chain.wait_graph(lambda g: g["nodes"]["c"].get("group") == "g1"
                             and g["groups"]["g1"]["bounds"]["width"] > frame["width"], "joined, the frame grown")
    bounds = grown["groups"]["g1"]["bounds"]
    zoom = frame_box["width"] / frame["width"]
    assert _inside(grown["nodes"]["c"], node_box["width"] / zoom, node_box["height"] / zoom, bounds), (grown, bounds)
    assert bounds["x"] == frame["x"]  # grown to the right only
    expect(_flow_node(b, "group:g1")).to_have_attribute("style", _width(bounds["width"]))
    screenshot(a, "canvas-group-grown-desktop")
    a.keyboard.press("Control+z")
    back = chain.wait_graph(lambda g: g["nodes"]["c"].get("group") is None, "the drop undone")
    assert back["groups"]["g1"]["bounds"] == frame and back["nodes"]["c"]["position"] == graph["nodes"]["c"]["position"]

    # Lay out everything: `a` stays in its frame (the frame fitted and moved with it), `b` and the prompt do not
    # land in it.
    _node(a, "c").click()
    a.keyboard.press("Control+a")
    _right_click(a, _node(a, "c"))
    _menu(a).get_by_role("menuitem", name="Lay out left to right").click()
    laid = chain.wait_graph(lambda g: g["nodes"]["b"]["position"] != graph["nodes"]["b"]["position"], "laid out")
    bounds = laid["groups"]["g1"]["bounds"]
    sizes = {n: _flow_node(a, n).bounding_box() for n in ("a", "b", "c")}
    assert _inside(laid["nodes"]["a"], sizes["a"]["width"] / zoom, sizes["a"]["height"] / zoom, bounds), laid  # type: ignore[index]
    for loose in ("b", "c"):  # no part of them over the frame
        x, y = laid["nodes"][loose]["position"]["x"], laid["nodes"][loose]["position"]["y"]
        w, h = sizes[loose]["width"] / zoom, sizes[loose]["height"] / zoom  # type: ignore[index]
        assert (x >= bounds["x"] + bounds["width"] or x + w <= bounds["x"] or y >= bounds["y"] + bounds["height"]
                or y + h <= bounds["y"]), (loose, laid)
    assert laid["nodes"]["b"]["position"]["x"] > bounds["x"] + bounds["width"] - 1  # b is fed by a: after its frame
    screenshot(a, "canvas-group-laid-out-desktop")
    a.keyboard.press("Control+z")
    chain.wait_graph(lambda g: g["groups"]["g1"]["bounds"] == frame
                     and g["nodes"]["b"]["position"] == graph["nodes"]["b"]["position"],
                     "the layout undone in one step")
    assert console.unexpected() == []


def _width(width: float) -> Any:
    import re
    return re.compile(rf"width: {width:g}px")
