"""Editing the Scene View in real Chromium: undo and redo of one's own edits (Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y
and the toolbar's buttons), never of what others did meanwhile; bypassing nodes (Ctrl+B and the inspector's
switch), seen live by everyone, undoable, honoured by a run; viewers see it all and change nothing."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from browser_support import (
    Account,
    ConsoleLog,
    create_project,
    csrf_headers,
    join_project,
    screenshot,
)
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from support import png_bytes, wait_until

Graph = dict[str, Any]


@dataclass
class Person:
    account: Account
    context: BrowserContext
    page: Page


@dataclass
class Studio:
    """A project in a team workspace of its owner (the `desktop` user), with its first scene."""

    url: str
    owner: Person
    workspace: dict[str, Any]
    project: dict[str, Any]
    scene_id: str
    browser: Browser
    guests: list[Person]

    def graph_url(self) -> str:
        return f"{self.url}/api/v1/projects/{self.project['id']}/scenes/{self.scene_id}/graph"

    def graph(self) -> Graph:
        answer = self.owner.context.request.get(self.graph_url())
        assert answer.ok, answer.text()
        return answer.json()  # type: ignore[no-any-return]

    def put_graph(self, graph: Graph) -> None:
        answer = self.owner.context.request.put(self.graph_url(), data=graph, headers=csrf_headers(self.owner.context))
        assert answer.ok, answer.text()

    def wait_graph(self, check: Callable[[Graph], bool], what: str, timeout: float = 10.0) -> Graph:
        return wait_until(self.graph, until=check, timeout=timeout, interval=0.15, message=what)

    def join(self, role: str, prefix: str) -> Person:
        """Another person, member of the workspace with `role` on the project, in a profile of their own."""
        account, context, _ = join_project(self.browser, self.owner.context, self.url, self.workspace["id"],
                                           self.project["id"], role, prefix)
        person = Person(account, context, context.new_page())
        self.guests.append(person)
        return person

    def open(self, person: Person) -> Page:
        person.page.goto(f"{self.url}/projects/{self.project['id']}/scenes/{self.scene_id}")
        expect(person.page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        return person.page


def _studio(browser: Browser, desktop: BrowserContext, page: Page, account: Account, url: str,
            template: str) -> Studio:
    headers = csrf_headers(desktop)
    workspace = desktop.request.post(f"{url}/api/v1/workspaces", data={"name": "Cutting room"}, headers=headers)
    assert workspace.status == 201, workspace.text()
    project = create_project(desktop, url, "Harbour lights", template, workspace_id=workspace.json()["id"])
    detail = desktop.request.get(f"{url}/api/v1/projects/{project['id']}").json()
    return Studio(url, Person(account, desktop, page), workspace.json(), project, detail["scenes"][0]["id"],
                  browser, [])


@pytest.fixture
def blank(browser: Browser, desktop: BrowserContext, page: Page, account: Account, studio_url: str,
          console: ConsoleLog) -> Iterator[Studio]:
    studio = _studio(browser, desktop, page, account, studio_url, "blank")
    yield studio
    for guest in studio.guests:
        guest.context.close()


@pytest.fixture
def storyboard(browser: Browser, desktop: BrowserContext, page: Page, account: Account, studio_url: str,
               console: ConsoleLog) -> Iterator[Studio]:
    studio = _studio(browser, desktop, page, account, studio_url, "storyboard")
    yield studio
    for guest in studio.guests:
        guest.context.close()


# -- helpers ----------------------------------------------------------------------------------------------

def _node(page: Page, node_id: str) -> Locator:
    return page.locator(f'[data-testid="graph-node"][data-node-id="{node_id}"]')


def _flow_node(page: Page, node_id: str) -> Locator:
    return page.locator(f'.svelte-flow__node[data-id="{node_id}"]')


def _transform(page: Page, node_id: str) -> str:
    return _flow_node(page, node_id).evaluate("el => el.style.transform")  # type: ignore[no-any-return]


def _position(transform: str) -> dict[str, int]:
    """A node's graph position from its Svelte Flow transform ("translate(120px, 80px)")."""
    found = re.fullmatch(r"translate\((-?[\d.]+)px, (-?[\d.]+)px\)", transform)
    assert found, transform
    return {"x": round(float(found[1])), "y": round(float(found[2]))}


def _inspector(page: Page) -> Locator:
    return page.get_by_test_id("node-inspector")


def _focus_canvas(page: Page) -> None:
    """A click on the empty canvas (its top-left area, clear of the nodes and the scene's name)."""
    page.get_by_test_id("scene-canvas").click(position={"x": 40, "y": 260})


def _drag(page: Page, target: Locator, dx: float, dy: float, pause_ms: int = 0) -> None:
    """Drags `target` by (dx, dy) in two halves, holding still `pause_ms` between them."""
    box = target.bounding_box()
    assert box is not None
    x, y = box["x"] + 30, box["y"] + 10
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(x + dx * step / 8, y + dy * step / 8)
        if step == 4 and pause_ms:
            page.wait_for_timeout(pause_ms)  # part of the gesture, not a wait: the pointer held still
    page.mouse.up()


def _buttons(page: Page) -> tuple[Locator, Locator]:
    return page.get_by_test_id("undo"), page.get_by_test_id("redo")


def _expect_history(page: Page, can_undo: bool, can_redo: bool) -> None:
    undo, redo = _buttons(page)
    (expect(undo).to_be_enabled if can_undo else expect(undo).to_be_disabled)()
    (expect(redo).to_be_enabled if can_redo else expect(redo).to_be_disabled)()


# -- undo and redo ----------------------------------------------------------------------------------------

def test_undo_and_redo_step_through_my_edits_on_the_canvas_and_the_server(
        blank: Studio, console: ConsoleLog) -> None:
    page = blank.open(blank.owner)
    undo, redo = _buttons(page)
    expect(undo).to_have_attribute("aria-label", "Undo")
    expect(undo).to_have_attribute("title", re.compile(r"Ctrl\+Z"))
    expect(redo).to_have_attribute("title", re.compile(r"Ctrl\+Shift\+Z"))
    _expect_history(page, False, False)

    # 1. Add an Upscale node from the palette (it is selected: the inspector shows it).
    page.get_by_test_id("add-node").click()
    page.get_by_test_id("palette-search").fill("upscale")
    page.get_by_test_id("palette-search").press("Enter")
    upscale = page.locator('[data-testid="graph-node"][data-node-type="upscale"]')
    expect(upscale).to_have_count(1)
    node_id = upscale.get_attribute("data-node-id")
    assert node_id
    added = blank.wait_graph(lambda g: node_id in g["nodes"], "the new node")["nodes"][node_id]
    _expect_history(page, True, False)

    # 2. Move it, holding still midway longer than edits of one gesture are joined: still one step.
    start = _transform(page, node_id)
    assert _position(start) == added["position"]
    _drag(page, _flow_node(page, node_id), 160, 90, pause_ms=1_200)
    end = _transform(page, node_id)
    moved = _position(end)
    assert moved["x"] > added["position"]["x"] + 50 and moved["y"] > added["position"]["y"] + 30, (moved, added)
    blank.wait_graph(lambda g: g["nodes"][node_id]["position"] == moved, "the move")

    # 3. Change its factor, keystroke by keystroke (one burst of edits of one field: one step).
    factor = _inspector(page).get_by_label("factor", exact=True)
    expect(factor).to_have_value("2")
    factor.select_text()
    factor.press_sequentially("3.5", delay=60)
    summary = upscale.get_by_test_id("node-summary")
    expect(summary).to_have_text("×3.5 · lanczos")
    blank.wait_graph(lambda g: g["nodes"][node_id]["params"]["factor"] == 3.5, "factor 3.5")

    # A text field on the canvas (the palette's search) keeps its own Ctrl+Z: the graph's steps stay.
    page.get_by_test_id("add-node").click()
    search = page.get_by_test_id("palette-search")
    search.press_sequentially("seed")
    search.press("Control+z")
    expect(search).not_to_have_value("seed")  # the field's own undo (a letter or the word)
    search.press("Escape")
    expect(page.get_by_test_id("node-palette")).to_have_count(0)
    page.wait_for_timeout(400)  # a window, not a wait: an undo would have reached the server by now
    assert blank.graph()["nodes"][node_id]["params"]["factor"] == 3.5
    expect(summary).to_have_text("×3.5 · lanczos")

    # Ctrl+Z thrice, on the canvas: the factor, then the move, then the node itself.
    _focus_canvas(page)
    page.keyboard.press("Control+z")
    expect(summary).to_have_text("×2 · lanczos")
    expect(factor).to_have_value("2")
    expect(_inspector(page)).to_have_attribute("data-node-id", node_id)  # what was undone is selected
    blank.wait_graph(lambda g: g["nodes"][node_id]["params"]["factor"] == 2, "factor 2 again")
    _expect_history(page, True, True)
    page.keyboard.press("Control+z")
    expect(_flow_node(page, node_id)).to_have_attribute("style", re.compile(re.escape(start)))
    blank.wait_graph(lambda g: g["nodes"][node_id]["position"] == added["position"], "the position before the move")
    page.keyboard.press("Control+z")
    expect(upscale).to_have_count(0)
    expect(page.get_by_test_id("graph-node")).to_have_count(0)
    expect(_inspector(page)).to_have_count(0)
    blank.wait_graph(lambda g: g["nodes"] == {}, "the node removed")
    _expect_history(page, False, True)
    page.keyboard.press("Control+z")  # nothing more to undo: nothing happens
    expect(page.get_by_test_id("graph-node")).to_have_count(0)

    # Redo: Ctrl+Shift+Z brings the node back (selected), then the move; Ctrl+Y the factor.
    page.keyboard.press("Control+Shift+Z")
    expect(upscale).to_have_count(1)
    expect(_inspector(page)).to_have_attribute("data-node-id", node_id)
    expect(summary).to_have_text("×2 · lanczos")
    page.keyboard.press("Control+Shift+Z")
    expect(_flow_node(page, node_id)).to_have_attribute("style", re.compile(re.escape(end)))
    blank.wait_graph(lambda g: g["nodes"].get(node_id, {}).get("position") == moved, "the move again")
    page.keyboard.press("Control+y")
    expect(summary).to_have_text("×3.5 · lanczos")
    blank.wait_graph(lambda g: g["nodes"][node_id]["params"]["factor"] == 3.5, "factor 3.5 again")
    _expect_history(page, True, False)
    screenshot(page, "canvas-undo-toolbar")

    # The toolbar's buttons do the same.
    undo.click()
    expect(summary).to_have_text("×2 · lanczos")
    _expect_history(page, True, True)
    redo.click()
    expect(summary).to_have_text("×3.5 · lanczos")
    _expect_history(page, True, False)
    # A new edit after an undo drops what could be redone.
    undo.click()
    _expect_history(page, True, True)
    _focus_canvas(page)
    _drag(page, _flow_node(page, node_id), -60, 40)
    _expect_history(page, True, False)
    assert console.unexpected() == []


def test_my_undo_reverts_only_my_change_not_the_other_persons(storyboard: Studio, console: ConsoleLog) -> None:
    ben = storyboard.join("editor", "ben")
    console.watch(ben.page)
    a, b = storyboard.open(storyboard.owner), storyboard.open(ben)
    before = storyboard.graph()["nodes"]["generate"]["params"]
    steps, width = before["steps"] + 7, before["width"] + 64

    # A changes the steps, then B the width, of the same node.
    _node(a, "generate").click()
    _inspector(a).get_by_label("steps", exact=True).fill(str(steps))
    storyboard.wait_graph(lambda g: g["nodes"]["generate"]["params"]["steps"] == steps, "A's steps")
    _node(b, "generate").click()
    expect(_inspector(b).get_by_label("steps", exact=True)).to_have_value(str(steps))
    _inspector(b).get_by_label("width", exact=True).fill(str(width))
    expect(_inspector(a).get_by_label("width", exact=True)).to_have_value(str(width))
    storyboard.wait_graph(lambda g: g["nodes"]["generate"]["params"]["width"] == width, "B's width")
    _expect_history(a, True, False)
    _expect_history(b, True, False)

    # A undoes: A's steps go back, B's width stays, in both pages and on the server.
    _node(a, "generate").click()
    a.keyboard.press("Control+z")
    for page in (a, b):
        expect(_inspector(page).get_by_label("steps", exact=True)).to_have_value(str(before["steps"]))
        expect(_inspector(page).get_by_label("width", exact=True)).to_have_value(str(width))
    graph = storyboard.wait_graph(lambda g: g["nodes"]["generate"]["params"]["steps"] == before["steps"],
                                  "A's steps undone")
    assert graph["nodes"]["generate"]["params"]["width"] == width
    _expect_history(a, False, True)
    _expect_history(b, True, False)  # B's own step is still there for B

    # B undoes with the toolbar: B's width goes back; A's undone steps stay undone.
    _buttons(b)[0].click()
    for page in (a, b):
        expect(_inspector(page).get_by_label("width", exact=True)).to_have_value(str(before["width"]))
    graph = storyboard.wait_graph(lambda g: g["nodes"]["generate"]["params"]["width"] == before["width"],
                                  "B's width undone")
    assert graph["nodes"]["generate"]["params"]["steps"] == before["steps"]
    # A redoes: A's steps return, B's undo stands.
    _buttons(a)[1].click()
    expect(_inspector(b).get_by_label("steps", exact=True)).to_have_value(str(steps))
    graph = storyboard.wait_graph(lambda g: g["nodes"]["generate"]["params"]["steps"] == steps, "A's redo")
    assert graph["nodes"]["generate"]["params"]["width"] == before["width"]
    assert console.unexpected() == []


# -- bypass -----------------------------------------------------------------------------------------------

def _load_upscale_shot(studio: Studio) -> str:
    """Load image (a 64×64 picture) → Upscale ×2 → Shot; answers the picture's asset id."""
    upload = studio.owner.context.request.post(
        f"{studio.url}/api/v1/projects/{studio.project['id']}/assets", headers=csrf_headers(studio.owner.context),
        multipart={"file": {"name": "buoy.png", "mimeType": "image/png", "buffer": png_bytes(size=(64, 64))}})
    assert upload.status == 201, upload.text()
    asset_id = str(upload.json()[0]["id"])

    def node(type_: str, title: str, x: int, **params: object) -> dict[str, object]:
        return {"type": type_, "title": title, "position": {"x": x, "y": 120}, "params": params, "bypass": False}

    def edge(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
        return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                                     "target_handle": into}

    studio.put_graph({
        "nodes": {"load": node("load_image", "Buoy", 0, asset_id=asset_id),
                  "bigger": node("upscale", "Bigger", 320, factor=2, method="nearest"),
                  "shot": node("shot", "Shot", 640, name="Passed through", tags=[])},
        "edges": dict([edge("load", "image", "bigger", "image"), edge("bigger", "image", "shot", "images")])})
    return asset_id


def _bypassed(page: Page, node_id: str) -> None:
    expect(_node(page, node_id)).to_have_attribute("data-bypass", "true")
    expect(_node(page, node_id).get_by_test_id("node-bypassed")).to_have_text("Bypassed")


def _not_bypassed(page: Page, node_id: str) -> None:
    expect(_node(page, node_id)).not_to_have_attribute("data-bypass", "true")
    expect(_node(page, node_id).get_by_test_id("node-bypassed")).to_have_count(0)


def _picture_size(studio: Studio, task_id: str) -> tuple[int, int]:
    from PIL import Image

    request = studio.owner.context.request

    def finished(task: dict[str, Any]) -> bool:
        assert task["status"] in ("queued", "running", "succeeded"), task
        return task["status"] == "succeeded"

    task = wait_until(lambda: request.get(f"{studio.url}/api/v1/tasks/{task_id}").json(), until=finished, timeout=60,
                      interval=0.2, message="the run to finish")
    (asset_id,) = task["result"]["assets"]
    content = request.get(f"{studio.url}/api/v1/projects/{studio.project['id']}/assets/{asset_id}/content")
    assert content.ok, content.text()
    return Image.open(io.BytesIO(content.body())).size  # type: ignore[no-any-return]


def test_bypass_by_shortcut_and_switch_is_shared_undoable_and_passes_the_input_through(
        blank: Studio, console: ConsoleLog) -> None:
    _load_upscale_shot(blank)
    ben = blank.join("editor", "ben")
    vera = blank.join("viewer", "vera")
    console.watch(ben.page)
    console.watch(vera.page)
    a, b, look = blank.open(blank.owner), blank.open(ben), blank.open(vera)
    for page in (a, b, look):
        _not_bypassed(page, "bigger")

    # A: Ctrl+B on the selected node. Everyone sees it bypassed; so does the server's graph.
    _node(a, "bigger").click()
    switch = _inspector(a).get_by_test_id("bypass-switch")
    expect(switch).to_have_attribute("aria-checked", "false")
    a.keyboard.press("Control+b")
    for page in (a, b, look):
        _bypassed(page, "bigger")
    expect(switch).to_have_attribute("aria-checked", "true")
    blank.wait_graph(lambda g: g["nodes"]["bigger"]["bypass"] is True, "bypass on the server")
    _not_bypassed(a, "load")
    # A undoes it: cleared everywhere.
    a.keyboard.press("Control+z")
    for page in (a, b, look):
        _not_bypassed(page, "bigger")
    blank.wait_graph(lambda g: g["nodes"]["bigger"]["bypass"] is False, "bypass undone on the server")
    _expect_history(a, False, True)

    # B: the inspector's switch.
    _node(b, "bigger").click()
    _inspector(b).get_by_test_id("bypass-switch").click()
    for page in (a, b, look):
        _bypassed(page, "bigger")
    expect(switch).to_have_attribute("aria-checked", "true")
    blank.wait_graph(lambda g: g["nodes"]["bigger"]["bypass"] is True, "B's bypass on the server")
    _expect_history(b, True, False)
    _expect_history(a, False, True)  # not A's change: A cannot undo it
    _focus_canvas(b)  # nobody selects it now: drawn as bypassed only
    _focus_canvas(a)
    screenshot(a, "canvas-bypassed-node")

    # The viewer sees it, with no switch and no undo; their shortcuts change nothing.
    _node(look, "bigger").click()
    expect(_inspector(look).get_by_test_id("bypass-note")).to_be_visible()
    expect(_inspector(look).get_by_test_id("bypass-switch")).to_have_count(0)
    expect(look.get_by_test_id("undo")).to_have_count(0)
    expect(look.get_by_test_id("redo")).to_have_count(0)
    look.keyboard.press("Control+b")
    look.keyboard.press("Control+z")
    look.wait_for_timeout(400)  # a window, not a wait: anything sent would have reached the server by now
    assert blank.graph()["nodes"]["bigger"]["bypass"] is True
    _bypassed(look, "bigger")
    screenshot(look, "canvas-bypassed-viewer")

    # A run hands the picture straight through the bypassed Upscale: 64×64, not 128×128.
    a.get_by_test_id("run-scene").click()
    runs = wait_until(lambda: [t for t in blank.owner.context.request.get(f"{blank.url}/api/v1/tasks",
                                                                         params={"limit": 5}).json()["items"]
                               if t["kind"] == "scene.run"], timeout=30, interval=0.2, message="a run to start")
    run = max(runs, key=lambda t: t["created_at"])
    assert _picture_size(blank, run["id"]) == (64, 64)
    expect(_node(a, "shot")).to_have_attribute("data-state", "done", timeout=30_000)
    assert console.unexpected() == []
