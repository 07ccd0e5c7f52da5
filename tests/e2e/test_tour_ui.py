"""The guided tour over the real studio, in real Chromium: it starts on a new person's first opening of a project,
moves on when they do what a step asks (add a node, connect two, type a prompt, open the Asset View), can be
skipped (Esc), is offered again after a reload where it was left, replays from the account menu, keeps its state on
the server per person, leaves out the editing steps for a viewer, and works at phone size (the step's panel shown).
Node parameters carry their schema's description as a tooltip. Screenshots land in test-results/e2e/tour-*.png."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser_support import DESKTOP, PHONE, ConsoleLog, create_project, csrf_headers, join_project, new_account
from browser_support import screenshot as _shot
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from support import wait_until

PREFERENCES = "/api/v1/auth/me/preferences"
TABLET = {"width": 820, "height": 1180}
STEPS = 11


def _newcomer(browser: Browser, url: str, prefix: str, **options: Any) -> BrowserContext:
    """A fresh profile of someone who just registered: they never saw the tour."""
    context = browser.new_context(**({"viewport": DESKTOP} | options))
    context.set_default_timeout(15_000)
    answer = context.request.post(f"{url}/api/v1/auth/register", data=new_account(prefix).credentials())
    assert answer.status == 201, answer.text()
    return context


@pytest.fixture
def newcomers(browser: Browser, studio_url: str) -> Iterator[Callable[..., BrowserContext]]:
    made: list[BrowserContext] = []

    def make(prefix: str = "tour", **options: Any) -> BrowserContext:
        made.append(_newcomer(browser, studio_url, prefix, **options))
        return made[-1]

    yield make
    for context in made:
        context.close()


def _preferences(context: BrowserContext, url: str) -> dict[str, Any]:
    answer = context.request.get(f"{url}{PREFERENCES}")
    assert answer.ok, answer.text()
    return answer.json()  # type: ignore[no-any-return]


def _open(context: BrowserContext, url: str, console: ConsoleLog, template: str = "blank",
          project: dict[str, Any] | None = None) -> tuple[Page, dict[str, Any]]:
    project = project or create_project(context, url, "First steps", template)
    page = context.new_page()
    console.watch(page)
    page.goto(f"{url}/projects/{project['id']}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    return page, project


def _card(page: Page) -> Locator:
    return page.get_by_test_id("tour")


def _at(page: Page, step: str, n: int, m: int = STEPS) -> None:
    expect(_card(page)).to_have_attribute("data-step", step)
    expect(page.get_by_test_id("tour-position")).to_have_text(f"Tour · step {n} of {m}")


def _add_node(page: Page, search: str, node_type: str) -> str:
    """Picks a node type in the palette with the pointer (nothing of the tour may lie over it)."""
    page.get_by_test_id("add-node").click()
    page.get_by_test_id("palette-search").fill(search)
    page.locator(f'[data-testid="palette-item"][data-type="{node_type}"]').click()
    node = page.locator(f'[data-testid="graph-node"][data-node-type="{node_type}"]')
    expect(node).to_have_count(1)
    node_id = node.get_attribute("data-node-id")
    assert node_id
    return node_id


def _select(page: Page, node_id: str) -> Locator:
    """Selects a node from the keyboard (its inspector opens)."""
    page.locator(f'.svelte-flow__node[data-id="{node_id}"]').focus()
    page.keyboard.press("Enter")
    inspector = page.get_by_test_id("node-inspector")
    expect(inspector).to_have_attribute("data-node-id", node_id)
    return inspector


def _points_at(page: Page, target: Locator) -> None:
    """The tour's ring surrounds `target` (4 px outside it), once it has moved there."""
    def off() -> float:
        ring, box = page.get_by_test_id("tour-spotlight").bounding_box(), target.bounding_box()
        assert ring and box
        return max(abs(ring["x"] + 4 - box["x"]), abs(ring["y"] + 4 - box["y"]),
                   abs(ring["width"] - 8 - box["width"]), abs(ring["height"] - 8 - box["height"]))
    wait_until(off, until=lambda gap: gap < 2, timeout=5, interval=0.1, message="the ring around its element")


def _wait_status(context: BrowserContext, url: str, status: str, step: int | None = None) -> dict[str, Any]:
    return wait_until(lambda: _preferences(context, url),
                      until=lambda p: p["tour_status"] == status and (step is None or p["tour_step"] == step),
                      timeout=10, interval=0.2, message=f"the tour's state on the server: {status} {step}")


def test_a_new_person_is_toured_through_the_studio_by_their_own_actions(
        newcomers: Callable[..., BrowserContext], studio_url: str, console: ConsoleLog) -> None:
    context = newcomers()
    assert _preferences(context, studio_url)["tour_status"] == "new"
    page, _ = _open(context, studio_url, console)

    # It starts by itself, beside the studio (not modal), with the focus on its heading.
    _at(page, "welcome", 1)
    expect(_card(page)).to_have_attribute("aria-modal", "false")
    expect(_card(page).get_by_role("heading", name="Welcome to the studio")).to_be_focused()
    expect(page.get_by_test_id("tour-back")).to_be_disabled()
    _shot(page, "tour-welcome-desktop")
    _wait_status(context, studio_url, "active", 0)

    page.get_by_test_id("tour-next").click()
    _at(page, "browser", 2)
    _points_at(page, page.get_by_test_id("panel-left"))
    page.get_by_test_id("tour-back").click()
    _at(page, "welcome", 1)
    page.keyboard.press("Tab")  # the card's controls are reachable from its heading
    page.get_by_test_id("tour-next").focus()
    page.keyboard.press("Enter")
    _at(page, "browser", 2)
    page.get_by_test_id("tour-next").click()
    _at(page, "canvas", 3)
    page.get_by_test_id("tour-next").click()
    _at(page, "palette", 4)
    expect(page.get_by_test_id("tour-task")).to_contain_text("Add a node from the palette")
    _shot(page, "tour-palette-desktop")

    # Adding a node is the step: the tour moves on by itself.
    prompt = _add_node(page, "prompt", "prompt")
    _at(page, "connect", 5)
    paint = _add_node(page, "text to image", "text_to_image")
    _at(page, "connect", 5)  # a node more is not a connection
    inspector = _select(page, paint)
    source = inspector.get_by_test_id("node-connections").get_by_label("prompt input", exact=True)
    value = source.evaluate("(s, id) => [...s.options].find((o) => o.value.includes(id))?.value", prompt)
    assert value, source.evaluate("s => [...s.options].map((o) => o.value)")
    source.select_option(value)
    _at(page, "prompt", 6)

    inspector = _select(page, prompt)
    inspector.locator('[data-param="text"] textarea').fill("a lighthouse at dusk")
    _at(page, "run", 7)
    _wait_status(context, studio_url, "active", 6)
    if not context.request.get(f"{studio_url}/api/v1/models").json()["items"]:
        expect(_card(page)).to_contain_text("No model is installed")
        expect(_card(page)).to_contain_text("foot of the canvas")
        _points_at(page, page.get_by_test_id("no-model-notice"))  # where models are added
    _shot(page, "tour-run-desktop")
    page.get_by_test_id("tour-next").click()
    _at(page, "progress", 8)
    page.get_by_test_id("tour-next").click()
    _at(page, "result", 9)
    page.get_by_role("tab", name="Asset View").click()
    _at(page, "provenance", 10)
    page.get_by_test_id("tour-next").click()
    _at(page, "help", 11)
    expect(page.get_by_test_id("tour-next")).to_have_text("Finish")
    page.get_by_test_id("tour-next").click()
    expect(_card(page)).to_have_count(0)
    _wait_status(context, studio_url, "done")
    page.reload()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    expect(_card(page)).to_have_count(0)
    expect(page.get_by_test_id("tour-resume")).to_have_count(0)
    assert console.unexpected() == []


def test_skipped_resumed_after_a_reload_and_replayed_from_the_menu_per_person(
        newcomers: Callable[..., BrowserContext], studio_url: str, console: ConsoleLog) -> None:
    context = newcomers()
    other = newcomers("other")
    page, project = _open(context, studio_url, console)
    _at(page, "welcome", 1)
    page.get_by_test_id("tour-next").click()
    page.get_by_test_id("tour-next").click()
    _at(page, "canvas", 3)
    _wait_status(context, studio_url, "active", 2)

    # A reload does not push the tour back on screen: it offers to resume where it was.
    page.reload()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    resume = page.get_by_test_id("tour-resume-button")
    expect(resume).to_have_text("Resume tour · step 3 of 11")
    expect(_card(page)).to_have_count(0)
    _shot(page, "tour-resume-desktop")
    resume.click()
    _at(page, "canvas", 3)
    expect(_card(page).get_by_role("heading")).to_be_focused()

    # Escape skips it, for good: no offer after a reload either.
    page.keyboard.press("Escape")
    expect(_card(page)).to_have_count(0)
    _wait_status(context, studio_url, "skipped")
    page.reload()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    expect(_card(page)).to_have_count(0)
    expect(page.get_by_test_id("tour-resume")).to_have_count(0)

    # The account menu replays it from the start.
    page.get_by_test_id("account-menu").click()
    page.get_by_role("menuitem", name="Take the tour").click()
    _at(page, "welcome", 1)
    _wait_status(context, studio_url, "active", 0)

    # From the gallery it starts on opening the next project.
    page.get_by_test_id("tour-skip").click()
    _wait_status(context, studio_url, "skipped")
    page.goto(studio_url)
    page.get_by_test_id("account-menu").click()
    page.get_by_role("menuitem", name="Take the tour").click()
    expect(page.get_by_text("The tour starts when you open a project")).to_be_visible()
    page.locator(f'a[href="/projects/{project["id"]}"]').first.click()
    _at(page, "welcome", 1)

    # Another person's tour is theirs alone.
    assert _preferences(other, studio_url)["tour_status"] == "new"
    other_page, _ = _open(other, studio_url, console, project=create_project(other, studio_url, "Theirs"))
    _at(other_page, "welcome", 1)
    assert _preferences(context, studio_url)["tour_status"] == "active"
    assert console.unexpected() == []


def test_a_viewer_is_shown_around_without_the_editing_steps(
        browser: Browser, newcomers: Callable[..., BrowserContext], studio_url: str, console: ConsoleLog) -> None:
    owner = newcomers("owner")
    headers = csrf_headers(owner)
    workspace = owner.request.post(f"{studio_url}/api/v1/workspaces", data={"name": "Tour room"}, headers=headers)
    assert workspace.status == 201, workspace.text()
    project = create_project(owner, studio_url, "Dailies", "text-to-image", workspace_id=workspace.json()["id"])
    _, viewer, _ = join_project(browser, owner, studio_url, workspace.json()["id"], project["id"], "viewer", "viewer")
    try:
        reset = viewer.request.patch(f"{studio_url}{PREFERENCES}", data={"tour_status": "new"},
                                     headers=csrf_headers(viewer))
        assert reset.ok, reset.text()
        page, _ = _open(viewer, studio_url, console, project=project)
        _at(page, "welcome", 1, 7)
        expect(_card(page)).to_contain_text("viewer")
        page.get_by_test_id("tour-next").click()
        page.get_by_test_id("tour-next").click()
        _at(page, "canvas", 3, 7)
        page.get_by_test_id("tour-next").click()
        _at(page, "progress", 4, 7)
        assert console.unexpected() == []
    finally:
        viewer.close()


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_on_phones_and_tablets_each_step_shows_its_panel(
        newcomers: Callable[..., BrowserContext], studio_url: str, console: ConsoleLog, size: str) -> None:
    options: dict[str, Any] = ({"viewport": PHONE, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
                               if size == "phone" else {"viewport": TABLET, "has_touch": True})
    context = newcomers(size, **options)
    page, _ = _open(context, studio_url, console, template="text-to-image")
    _at(page, "welcome", 1)
    card = _card(page).bounding_box()
    tabbar = page.get_by_test_id("tabbar").bounding_box()
    assert card and tabbar and card["y"] + card["height"] <= tabbar["y"], (card, tabbar)  # docked above the tab bar
    _shot(page, f"tour-welcome-{size}")
    page.get_by_test_id("tour-next").tap()
    _at(page, "browser", 2)
    expect(page.get_by_test_id("tab-browser")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("panel-left")).to_be_visible()
    _shot(page, f"tour-browser-{size}")
    page.get_by_test_id("tour-next").tap()
    _at(page, "canvas", 3)
    expect(page.get_by_test_id("tab-canvas")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("tour-next").tap()
    page.get_by_test_id("tour-next").tap()
    page.get_by_test_id("tour-next").tap()
    _at(page, "prompt", 6)
    expect(page.get_by_test_id("tab-properties")).to_have_attribute("aria-pressed", "true")
    _shot(page, f"tour-prompt-{size}")
    page.get_by_test_id("tour-skip").tap()
    expect(_card(page)).to_have_count(0)
    assert console.unexpected() == []


def test_a_node_parameter_tells_what_it_does_on_hover_and_focus(
        newcomers: Callable[..., BrowserContext], studio_url: str, console: ConsoleLog) -> None:
    context = newcomers("tips")
    skip = context.request.patch(f"{studio_url}{PREFERENCES}", data={"tour_status": "skipped"},
                                 headers=csrf_headers(context))
    assert skip.ok
    page, _ = _open(context, studio_url, console, template="text-to-image")
    catalog = context.request.get(f"{studio_url}/api/v1/node-types").json()
    types = catalog["items"] if isinstance(catalog, dict) else catalog
    paint = next(t for t in types if t["id"] == "text_to_image")
    steps = paint["params_schema"]["properties"]["steps"]["description"]
    node = page.locator('[data-testid="graph-node"][data-node-type="text_to_image"]')
    node_id = node.get_attribute("data-node-id")
    assert node_id
    inspector = _select(page, node_id)
    param = inspector.locator('[data-param="steps"]')
    info = param.get_by_test_id("param-info")
    expect(info).to_have_accessible_name("About steps")
    tip = page.locator(f'#{info.get_attribute("aria-describedby")}')
    expect(tip).to_have_text(steps)
    expect(tip).to_be_hidden()
    info.hover()
    expect(tip).to_be_visible()
    expect(tip).to_have_attribute("role", "tooltip")
    _shot(page, "tour-tooltip-desktop")
    page.mouse.move(5, 5)
    expect(tip).to_be_hidden()
    info.focus()
    expect(tip).to_be_visible()
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()
    # The field itself is described by the same words (read with it by a screen reader).
    field = param.get_by_label("steps", exact=True)
    expect(field).to_have_accessible_description(steps)
    # The palette says what each node type does.
    page.get_by_test_id("add-node").click()
    expect(page.get_by_test_id("node-palette")).to_contain_text(paint["description"])
    assert console.unexpected() == []


def test_an_empty_asset_list_says_what_to_do_and_offers_it(
        newcomers: Callable[..., BrowserContext], studio_url: str, console: ConsoleLog) -> None:
    context = newcomers("empty")
    context.request.patch(f"{studio_url}{PREFERENCES}", data={"tour_status": "done"}, headers=csrf_headers(context))
    page, _ = _open(context, studio_url, console)
    empty = page.get_by_test_id("asset-empty")
    expect(empty).to_contain_text("No assets yet")
    with page.expect_file_chooser() as chooser:
        empty.get_by_role("button", name="Upload files").click()
    assert chooser.value.is_multiple()
    page.get_by_test_id("asset-search").fill("nothing like this")
    expect(empty).to_contain_text("No assets match “nothing like this”")
    empty.get_by_role("button", name="Clear filters").click()
    expect(empty).to_contain_text("No assets yet")
    expect(page.get_by_test_id("asset-search")).to_have_value("")
    assert console.unexpected() == []


def test_a_project_without_scenes_says_how_to_add_one(
        newcomers: Callable[..., BrowserContext], studio_url: str, console: ConsoleLog) -> None:
    context = newcomers("sceneless")
    context.request.patch(f"{studio_url}{PREFERENCES}", data={"tour_status": "done"}, headers=csrf_headers(context))
    project = create_project(context, studio_url, "Bare")
    scene = context.request.get(f"{studio_url}/api/v1/projects/{project['id']}").json()["scenes"][0]
    gone = context.request.delete(f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene['id']}",
                                  headers=csrf_headers(context))
    assert gone.ok, gone.text()
    page = context.new_page()
    console.watch(page)
    page.goto(f"{studio_url}/projects/{project['id']}")
    canvas = page.get_by_test_id("panel-center")
    expect(canvas).to_contain_text("This project has no scenes")
    expect(canvas).to_contain_text("“New scene” in the Browser")
    expect(page.get_by_test_id("new-scene")).to_be_visible()
    assert console.unexpected() == []
