"""Connecting nodes without dragging a handle, in real Chromium: the Properties Inspector's Connections
section picks each input's source among the outputs that fit it (by keyboard, or by touch on a phone) and
lists where each output goes, with a button to disconnect it. The edges are the very ones a drag on the
canvas makes, shared live, one undo step each; viewers read the connections and change nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from browser_support import (
    PHONE,
    ConsoleLog,
    create_project,
    csrf_headers,
    join_project,
    screenshot,
)
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from support import wait_until

Graph = dict[str, Any]

NOT_CONNECTED = "Not connected"


def _node(type_: str, title: str, x: int, y: int, **params: object) -> dict[str, object]:
    return {"type": type_, "title": title, "position": {"x": x, "y": y}, "params": params, "bypass": False}


def _edge(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
    """An edge as the canvas makes it: keyed "source:output->target:input", the handles the ports' names."""
    return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                                 "target_handle": into}


NODES = {
    "words": _node("prompt", "Lighthouse words", 0, 0, text="A lighthouse at dusk"),
    "other": _node("prompt", "Harbour words", 0, 200, text="A harbour at dawn"),
    "seed": _node("seed", "Seed", 0, 400, value=7, mode="fixed"),
    "paint": _node("text_to_image", "Painter", 380, 120, width=64, height=64, steps=2),
    "shot": _node("shot", "Shot", 760, 160, name="Shot", tags=[]),
}
WORDS_TO_PROMPT = _edge("words", "text", "paint", "prompt")
OTHER_TO_PROMPT = _edge("other", "text", "paint", "prompt")
SEED_TO_SEED = _edge("seed", "seed", "paint", "seed")
IMAGE_TO_SHOT = _edge("paint", "image", "shot", "images")


@dataclass
class Scene:
    """A project in a team workspace of its owner, its first scene holding NODES."""

    url: str
    owner: BrowserContext
    workspace: dict[str, Any]
    project: dict[str, Any]
    scene_id: str
    browser: Browser
    guests: list[BrowserContext] = field(default_factory=list)

    def graph_url(self) -> str:
        return f"{self.url}/api/v1/projects/{self.project['id']}/scenes/{self.scene_id}/graph"

    def graph(self) -> Graph:
        answer = self.owner.request.get(self.graph_url())
        assert answer.ok, answer.text()
        return answer.json()  # type: ignore[no-any-return]

    def put_edges(self, *edges: tuple[str, dict[str, str]]) -> None:
        answer = self.owner.request.put(self.graph_url(), data={"nodes": NODES, "edges": dict(edges)},
                                        headers=csrf_headers(self.owner))
        assert answer.ok, answer.text()

    def wait_edges(self, expected: dict[str, dict[str, str]], what: str, timeout: float = 10.0) -> Graph:
        return wait_until(self.graph, until=lambda graph: graph["edges"] == expected, timeout=timeout,
                          interval=0.15, message=what)

    def join(self, role: str, prefix: str) -> Page:
        """Another person, member of the workspace with `role` on the project, in a profile of their own."""
        _, context, _ = join_project(self.browser, self.owner, self.url, self.workspace["id"], self.project["id"],
                                     role, prefix)
        self.guests.append(context)
        return context.new_page()

    def open(self, page: Page) -> Page:
        page.goto(f"{self.url}/projects/{self.project['id']}/scenes/{self.scene_id}")
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        expect(page.get_by_test_id("graph-node")).to_have_count(len(NODES))
        return page


def _scene(browser: Browser, context: BrowserContext, url: str, name: str) -> Scene:
    headers = csrf_headers(context)
    workspace = context.request.post(f"{url}/api/v1/workspaces", data={"name": f"{name} room"}, headers=headers)
    assert workspace.status == 201, workspace.text()
    project = create_project(context, url, name, "blank", workspace_id=workspace.json()["id"])
    detail = context.request.get(f"{url}/api/v1/projects/{project['id']}").json()
    scene = Scene(url, context, workspace.json(), project, detail["scenes"][0]["id"], browser)
    scene.put_edges()
    return scene


@pytest.fixture
def scene(browser: Browser, desktop: BrowserContext, studio_url: str) -> Iterator[Scene]:
    made = _scene(browser, desktop, studio_url, "Wiring by hand")
    yield made
    for guest in made.guests:
        guest.close()


# -- helpers ----------------------------------------------------------------------------------------------

def _flow_node(page: Page, node_id: str) -> Locator:
    return page.locator(f'.svelte-flow__node[data-id="{node_id}"]')


def _flow_edges(page: Page) -> Locator:
    return page.locator(".svelte-flow__edge")


def _flow_edge(page: Page, key: str) -> Locator:
    return page.locator(f'.svelte-flow__edge[data-id="{key}"]')


def _inspector(page: Page) -> Locator:
    return page.get_by_test_id("node-inspector")


def _connections(page: Page) -> Locator:
    return _inspector(page).get_by_test_id("node-connections")


def _source(page: Page, port: str) -> Locator:
    """The select of an input's source (its accessible name: "<input> input")."""
    return _connections(page).get_by_label(f"{port} input", exact=True)


def _chosen_label(select: Locator) -> str:
    return str(select.evaluate("select => select.selectedOptions[0]?.textContent ?? ''")).strip()


def _expect_chosen(select: Locator, label: str) -> None:
    """The select shows `label` (its value is that option's: the source's node and output)."""
    value = select.evaluate("(select, label) => [...select.options].find((o) => o.textContent.trim() === label)?.value",
                            label)
    assert value is not None, (label, _options(select))
    expect(select).to_have_value(value)


def _options(select: Locator) -> list[str]:
    return [str(text).strip() for text in select.evaluate("select => [...select.options].map((o) => o.textContent)")]


def _select_by_keyboard(page: Page, node_id: str) -> None:
    """Tab-reachable Svelte Flow node, selected with Enter: its inspector opens."""
    _flow_node(page, node_id).focus()
    page.keyboard.press("Enter")
    expect(_inspector(page)).to_have_attribute("data-node-id", node_id)


def _choose_by_keyboard(page: Page, select: Locator, label: str) -> None:
    """Focuses the select and steps through its options with the arrow keys until `label` is chosen
    (Chromium changes a closed select's value, and fires `change`, on each arrow key)."""
    select.focus()
    options = _options(select)
    assert label in options, (label, options)
    now = options.index(_chosen_label(select))
    key = "ArrowDown" if options.index(label) > now else "ArrowUp"
    for _ in range(abs(options.index(label) - now)):
        page.keyboard.press(key)
    _expect_chosen(select, label)


def _canvas_key(page: Page, key: str) -> None:
    """A shortcut pressed on the canvas (a node of it focused from the keyboard)."""
    _flow_node(page, "shot").focus()
    page.keyboard.press(key)


# -- the tests --------------------------------------------------------------------------------------------

def test_keyboard_connects_replaces_and_disconnects_an_input_like_a_drag_would(
        scene: Scene, page: Page, console: ConsoleLog) -> None:
    scene.open(page)
    expect(_flow_edges(page)).to_have_count(0)

    # A connection dragged on the canvas, for reference: the inspector shows it as the input's source.
    prompt_handle = _flow_node(page, "paint").locator(
        '[data-testid="node-input"][data-port="prompt"] .svelte-flow__handle')
    _flow_node(page, "words").locator('[data-testid="node-output"][data-port="text"] .svelte-flow__handle').hover()
    page.mouse.down()
    box = prompt_handle.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=12)
    page.mouse.up()
    dragged = scene.wait_edges(dict([WORDS_TO_PROMPT]), "the dragged edge")["edges"]

    # Keyboard only from here: the node is reached and selected with the keyboard, the source picked with arrows.
    _select_by_keyboard(page, "paint")
    connections = _connections(page)
    expect(connections.get_by_role("heading", name="Connections")).to_be_visible()
    inputs = connections.get_by_test_id("connection-input")
    expect(inputs).to_have_count(4)
    prompt = _source(page, "prompt")
    _expect_chosen(prompt, "Lighthouse words · text")
    required = connections.locator('[data-testid="connection-input"][data-port="prompt"] [data-testid="port-required"]')
    expect(required).to_contain_text("required")
    expect(connections.locator('[data-testid="connection-input"][data-port="seed"] [data-testid="port-required"]')
           ).to_have_text("optional")
    expect(connections.locator('[data-testid="connection-input"][data-port="seed"] [data-testid="port-type"]')
           ).to_have_text("seed")

    # Only outputs that fit are offered: text for the prompt (two prompts, and the shot's asset list, which
    # is text), never the seed or the painter's own picture; the seed input takes the seed and nothing else.
    assert _options(prompt) == [NOT_CONNECTED, "Harbour words · text", "Lighthouse words · text", "Shot · assets"]
    assert _options(_source(page, "seed")) == [NOT_CONNECTED, "Seed · seed"]
    assert _options(_source(page, "model")) == [NOT_CONNECTED]
    expect(connections.locator('[data-testid="connection-input"][data-port="model"]')).to_contain_text(
        "No other node of this scene gives model")

    # "Not connected" removes the dragged edge, on the canvas and on the server.
    _choose_by_keyboard(page, prompt, NOT_CONNECTED)
    expect(_flow_edges(page)).to_have_count(0)
    scene.wait_edges({}, "the edge removed")
    expect(prompt).to_be_focused()

    # Picking the same source again makes exactly the edge the drag made (same key, ends and handles).
    _choose_by_keyboard(page, prompt, "Lighthouse words · text")
    expect(_flow_edge(page, WORDS_TO_PROMPT[0])).to_have_count(1)
    assert scene.wait_edges(dragged, "the edge made again")["edges"] == dragged

    # Another source replaces it: still one edge into the prompt.
    _choose_by_keyboard(page, prompt, "Harbour words · text")
    expect(_flow_edge(page, OTHER_TO_PROMPT[0])).to_have_count(1)
    expect(_flow_edges(page)).to_have_count(1)
    graph = scene.wait_edges(dict([OTHER_TO_PROMPT]), "the replaced edge")
    assert [e for e in graph["edges"].values() if e["target"] == "paint" and e["target_handle"] == "prompt"] == [
        OTHER_TO_PROMPT[1]]

    # The seed too, with Tab from the inputs before it and an arrow key.
    _source(page, "model").focus()
    page.keyboard.press("Tab")
    expect(_source(page, "seed")).to_be_focused()
    page.keyboard.press("ArrowDown")
    _expect_chosen(_source(page, "seed"), "Seed · seed")
    scene.wait_edges(dict([OTHER_TO_PROMPT, SEED_TO_SEED]), "the seed's edge")
    expect(_flow_edges(page)).to_have_count(2)
    # The canvas marks the prompt as connected, as after a drag.
    expect(_flow_node(page, "paint").locator('[data-testid="node-input"][data-port="prompt"]')).not_to_have_class(
        re.compile(r"\bis-missing\b"))
    assert console.unexpected() == []


def test_outputs_list_where_they_go_and_each_link_can_be_removed(
        scene: Scene, page: Page, console: ConsoleLog) -> None:
    scene.put_edges(WORDS_TO_PROMPT, SEED_TO_SEED, IMAGE_TO_SHOT)
    scene.open(page)
    expect(_flow_edges(page)).to_have_count(3)
    _select_by_keyboard(page, "paint")
    connections = _connections(page)
    image = connections.locator('[data-testid="connection-output"][data-port="image"]')
    expect(image.get_by_test_id("output-link")).to_have_count(1)
    expect(image.get_by_test_id("output-link")).to_contain_text("Shot · images")
    expect(image.get_by_test_id("port-type")).to_have_text("image")
    _expect_chosen(_source(page, "prompt"), "Lighthouse words · text")
    _expect_chosen(_source(page, "seed"), "Seed · seed")
    _expect_chosen(_source(page, "negative_prompt"), NOT_CONNECTED)
    _inspector(page).get_by_test_id("node-connections").scroll_into_view_if_needed()
    screenshot(page, "inspector-connections")

    # A prompt may feed several inputs: its outputs list each one.
    _select_by_keyboard(page, "words")
    expect(_connections(page).get_by_test_id("connection-input")).to_have_count(0)
    expect(_connections(page).locator('[data-testid="connection-output"][data-port="text"] '
                                      '[data-testid="output-link"]')).to_have_text(
        [re.compile(r"^\s*→\s*Painter · prompt\s*$")])

    # Back on the painter: the remove button, reached and pressed with the keyboard.
    _select_by_keyboard(page, "paint")
    remove = _connections(page).get_by_role("button", name="Disconnect image from Shot")
    expect(remove).to_have_count(1)
    remove.focus()
    page.keyboard.press("Enter")
    expect(_flow_edge(page, IMAGE_TO_SHOT[0])).to_have_count(0)
    expect(_flow_edges(page)).to_have_count(2)
    expect(image.get_by_test_id("output-link")).to_have_count(0)
    expect(image.get_by_test_id("output-unconnected")).to_have_text(re.compile(r"^\s*→\s*Not connected\s*$"))
    scene.wait_edges(dict([WORDS_TO_PROMPT, SEED_TO_SEED]), "the shot's edge removed")
    # The keyboard is not lost: the list keeps the focus.
    expect(_connections(page).get_by_test_id("connection-outputs")).to_be_focused()
    assert console.unexpected() == []


def test_ctrl_z_on_the_canvas_undoes_a_connection_made_in_the_inspector_in_one_step(
        scene: Scene, page: Page, console: ConsoleLog) -> None:
    scene.put_edges(WORDS_TO_PROMPT)
    scene.open(page)
    undo = page.get_by_test_id("undo")
    expect(undo).to_be_disabled()
    _select_by_keyboard(page, "paint")
    # Replacing the source removes one edge and adds another: one step.
    _choose_by_keyboard(page, _source(page, "prompt"), "Harbour words · text")
    scene.wait_edges(dict([OTHER_TO_PROMPT]), "the replaced edge")
    expect(undo).to_be_enabled()

    _canvas_key(page, "Control+z")
    expect(_flow_edge(page, WORDS_TO_PROMPT[0])).to_have_count(1)
    expect(_flow_edges(page)).to_have_count(1)
    scene.wait_edges(dict([WORDS_TO_PROMPT]), "the edge before, back")
    expect(undo).to_be_disabled()  # that was the one step
    _select_by_keyboard(page, "paint")
    _expect_chosen(_source(page, "prompt"), "Lighthouse words · text")

    # Redo brings the replacement back; a disconnection is a step of its own too.
    _canvas_key(page, "Control+Shift+Z")
    scene.wait_edges(dict([OTHER_TO_PROMPT]), "the replacement redone")
    _select_by_keyboard(page, "paint")
    _choose_by_keyboard(page, _source(page, "prompt"), NOT_CONNECTED)
    scene.wait_edges({}, "the edge removed")
    _canvas_key(page, "Control+z")
    expect(_flow_edge(page, OTHER_TO_PROMPT[0])).to_have_count(1)
    scene.wait_edges(dict([OTHER_TO_PROMPT]), "the removal undone")
    assert console.unexpected() == []


def test_another_editor_sees_the_connection_live_and_a_viewer_only_reads_it(
        scene: Scene, page: Page, console: ConsoleLog) -> None:
    a = scene.open(page)
    b = scene.open(scene.join("editor", "ben"))
    look = scene.open(scene.join("viewer", "vera"))
    for other in (b, look):
        console.watch(other)
    # Nothing feeds the painter's prompt yet: the server's check says so on its node (beside, on this server
    # with no model installed, that nothing can be generated yet).
    prompt_problem = _flow_node(look, "paint").locator('[data-testid="node-problem-badge"][title*="prompt"]')
    expect(prompt_problem).to_have_count(1)
    _select_by_keyboard(b, "paint")
    _select_by_keyboard(look, "paint")
    _expect_chosen(_source(b, "prompt"), NOT_CONNECTED)
    viewer_prompt = _connections(look).locator('[data-testid="connection-input"][data-port="prompt"]')
    expect(viewer_prompt.get_by_test_id("connection-source")).to_have_text(re.compile(r"^\s*←\s*Not connected\s*$"))

    _select_by_keyboard(a, "paint")
    _choose_by_keyboard(a, _source(a, "prompt"), "Lighthouse words · text")
    for other in (b, look):
        expect(_flow_edge(other, WORDS_TO_PROMPT[0])).to_have_count(1)
    _expect_chosen(_source(b, "prompt"), "Lighthouse words · text")
    expect(viewer_prompt.get_by_test_id("connection-source")).to_have_text(
        re.compile(r"^\s*←\s*Lighthouse words · text\s*$"))
    # B's change of source reaches A's inspector too.
    _choose_by_keyboard(b, _source(b, "prompt"), "Harbour words · text")
    _expect_chosen(_source(a, "prompt"), "Harbour words · text")
    expect(viewer_prompt.get_by_test_id("connection-source")).to_have_text(
        re.compile(r"^\s*←\s*Harbour words · text\s*$"))
    scene.wait_edges(dict([OTHER_TO_PROMPT]), "B's edge")

    # The viewer: the connections as text, no select and no remove button.
    _select_by_keyboard(look, "other")
    viewer_text = _connections(look).locator('[data-testid="connection-output"][data-port="text"]')
    expect(viewer_text.get_by_test_id("output-link")).to_have_text([re.compile(r"^\s*→\s*Painter · prompt\s*$")])
    expect(_connections(look).locator("select")).to_have_count(0)
    expect(_connections(look).get_by_role("button")).to_have_count(0)
    _select_by_keyboard(look, "paint")
    expect(_connections(look).locator("select")).to_have_count(0)
    expect(_connections(look).get_by_role("button")).to_have_count(0)
    # The server's check agrees: the painter's prompt is connected (its problem goes once the check is in).
    expect(prompt_problem).to_have_count(0)
    _connections(look).scroll_into_view_if_needed()
    screenshot(look, "inspector-connections-viewer")
    assert console.unexpected() == []


def test_connections_are_made_by_touch_on_a_phone(
        browser: Browser, phone: BrowserContext, studio_url: str, watched: Callable[[BrowserContext], Page],
        console: ConsoleLog) -> None:
    scene = _scene(browser, phone, studio_url, "Pocket wiring")
    scene.put_edges(IMAGE_TO_SHOT)
    page = scene.open(watched(phone))
    expect(_flow_edges(page)).to_have_count(1)
    _flow_node(page, "paint").tap()
    page.get_by_test_id("tab-properties").tap()
    prompt = _source(page, "prompt")
    expect(prompt).to_be_visible()
    prompt.scroll_into_view_if_needed()
    box = prompt.bounding_box()
    assert box is not None and box["height"] >= 40, box  # a finger's size, not a desktop's 32 px
    prompt.select_option(label="Lighthouse words · text")
    scene.wait_edges(dict([IMAGE_TO_SHOT, WORDS_TO_PROMPT]), "the edge picked on the phone")
    remove = _connections(page).get_by_role("button", name="Disconnect image from Shot")
    remove_box = remove.bounding_box()
    assert remove_box is not None and remove_box["height"] >= 36 and remove_box["width"] >= 36, remove_box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _source(page, "seed").scroll_into_view_if_needed()
    remove.scroll_into_view_if_needed()
    screenshot(page, "inspector-connections-phone")
    remove.tap()
    scene.wait_edges(dict([WORDS_TO_PROMPT]), "the edge removed on the phone")

    page.get_by_test_id("tab-canvas").tap()
    expect(_flow_edge(page, WORDS_TO_PROMPT[0])).to_be_visible()
    expect(_flow_edges(page)).to_have_count(1)
    assert console.unexpected() == []
