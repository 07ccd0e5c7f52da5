"""Generation in the studio, in real Chromium against a server with a tiny Stable Diffusion model (random
weights, made here, 64×64 in 2 steps on the CPU): typed nodes from the palette, connections checked by
port type, the Properties Inspector's schema controls landing in the scene's graph, Run with per-node
states and pictures, problems on their nodes, Cancel, provenance with Regenerate and Variation, the
no-model notice with the command to run, and a viewer who cannot run."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import (
    ADMIN,
    DESKTOP,
    PHONE,
    Account,
    ConsoleLog,
    create_project,
    csrf_headers,
    join_project,
    new_account,
    skip_tour,
)
from browser_support import screenshot as _shot
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from support import RunningServer, add_model, png_bytes, start_server, wait_until

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}
RUN_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_models import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("gen-ui-models") / "tiny-sd")


def _server(folder: Path, model: Path | None) -> RunningServer:
    if model is not None:  # registered through the CLI before the studio starts, as a user would
        add_model(model, folder / "data")
    server = start_server(folder, env=ENV)
    setup = httpx.post(f"{server.url}/api/v1/auth/setup", json=ADMIN.credentials())
    assert setup.status_code == 201, setup.text
    health = httpx.get(f"{server.url}/api/v1/health").json()
    assert health["ui"], "web_dist/ is not built: cd web && npm install && npm run build"
    return server


@pytest.fixture(scope="module")
def gen_url(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[str]:
    """A server with the tiny model installed, set up with its administrator."""
    server = _server(tmp_path_factory.mktemp("gen-ui"), tiny_model)
    yield server.url
    server.stop()


def _context(browser: Browser, url: str, account: Account | None = None, **options: object) -> BrowserContext:
    """A fresh profile logged in as `account` (registered here), or as the administrator."""
    context = browser.new_context(**({"viewport": DESKTOP} | options))  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    if account is None:
        answer = context.request.post(f"{url}/api/v1/auth/login", data={"username": ADMIN.username,
                                                                         "password": ADMIN.password})
        assert answer.status == 200, answer.text()
    else:
        answer = context.request.post(f"{url}/api/v1/auth/register", data=account.credentials())
        assert answer.status == 201, answer.text()
    skip_tour(context, url)
    return context


@pytest.fixture
def user(browser: Browser, gen_url: str) -> Iterator[BrowserContext]:
    context = _context(browser, gen_url, new_account("gen"))
    yield context
    context.close()


# -- helpers ----------------------------------------------------------------------------------------------

def _scene(context: BrowserContext, url: str, project: dict[str, Any]) -> str:
    detail = context.request.get(f"{url}/api/v1/projects/{project['id']}").json()
    return str(detail["scenes"][0]["id"])


def _graph(context: BrowserContext, url: str, project_id: str, scene_id: str) -> dict[str, Any]:
    answer = context.request.get(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/graph")
    assert answer.ok, answer.text()
    return answer.json()  # type: ignore[no-any-return]


def _put_graph(context: BrowserContext, url: str, project_id: str, scene_id: str, graph: dict[str, Any]) -> None:
    answer = context.request.put(f"{url}/api/v1/projects/{project_id}/scenes/{scene_id}/graph", data=graph,
                                 headers=csrf_headers(context))
    assert answer.ok, answer.text()


def _fast_t2i(context: BrowserContext, url: str, name: str, steps: int = 2, size: int = 64,
              **workspace: object) -> tuple[dict[str, Any], str]:
    """A text-to-image project whose graph makes a small picture quickly with the tiny model."""
    project = create_project(context, url, name, "text-to-image", **workspace)
    scene_id = _scene(context, url, project)
    graph = _graph(context, url, project["id"], scene_id)
    graph["nodes"]["generate"]["params"].update({"width": size, "height": size, "steps": steps,
                                                 "guidance_scale": 5.0})
    _put_graph(context, url, project["id"], scene_id, graph)
    return project, scene_id


def _wait_graph(context: BrowserContext, url: str, project_id: str, scene_id: str,
                check: Callable[[dict[str, Any]], bool], what: str, timeout: float = 10.0) -> dict[str, Any]:
    return wait_until(lambda: _graph(context, url, project_id, scene_id), until=check, timeout=timeout,
                      interval=0.15, message=what)


def _open(page: Page, url: str, project_id: str, scene_id: str | None = None) -> None:
    page.goto(f"{url}/projects/{project_id}" + (f"/scenes/{scene_id}" if scene_id else ""))
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")


# A picture a shot named "Hero shot" saved: its name adds the seed and the take.
TAKE = re.compile(r"Hero shot · seed \d+(?: · [^#]+)? · #\d+\.png")


def _node(page: Page, node_id: str) -> Locator:
    return page.locator(f'[data-testid="graph-node"][data-node-id="{node_id}"]')


def _typed(page: Page, node_type: str) -> Locator:
    return page.locator(f'[data-testid="graph-node"][data-node-type="{node_type}"]')


def _handle(node: Locator, direction: str, port: str) -> Locator:
    return node.locator(f'[data-testid="node-{direction}"][data-port="{port}"] .svelte-flow__handle')


def _connect(page: Page, source: Locator, output: str, target: Locator, input_: str) -> None:
    """Drags from an output handle to an input handle, as a person would."""
    _handle(source, "output", output).hover()
    page.mouse.down()
    box = _handle(target, "input", input_).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=12)
    page.mouse.up()


def _palette_at(page: Page, x: float, y: float) -> Locator:
    """Double-clicks the empty canvas at (x, y) (canvas pixels): the palette opens there."""
    box = page.get_by_test_id("scene-canvas").bounding_box()
    assert box is not None
    page.mouse.dblclick(box["x"] + x, box["y"] + y)
    palette = page.get_by_test_id("node-palette")
    expect(palette).to_be_visible()
    return palette


def _inspector(page: Page) -> Locator:
    return page.get_by_test_id("node-inspector")


def _latest_run(context: BrowserContext, url: str) -> dict[str, Any]:
    tasks = context.request.get(f"{url}/api/v1/tasks", params={"limit": 5}).json()["items"]
    runs = [t for t in tasks if t["kind"] == "scene.run"]
    assert runs, tasks
    return max(runs, key=lambda t: t["created_at"])  # type: ignore[no-any-return]


def _wait_task(context: BrowserContext, url: str, task_id: str, status: str = "succeeded",
               timeout: float = 60.0) -> dict[str, Any]:
    def reached(task: dict[str, Any]) -> bool:
        if task["status"] == status:
            return True
        assert task["status"] in ("queued", "running"), task
        return False

    return wait_until(lambda: context.request.get(f"{url}/api/v1/tasks/{task_id}").json(), until=reached,
                      timeout=timeout, interval=0.1, message=f"task {task_id} to reach {status}")


def _content(context: BrowserContext, url: str, project_id: str, asset_id: str) -> bytes:
    answer = context.request.get(f"{url}/api/v1/projects/{project_id}/assets/{asset_id}/content")
    assert answer.ok, answer.text()
    return answer.body()


def _loaded(image: Locator) -> None:
    expect(image).to_be_visible()
    expect(image).to_have_js_property("complete", True)
    try:  # a just-made picture may be fetched again: the page retries a failed picture for about 18 s
        expect(image).not_to_have_js_property("naturalWidth", 0, timeout=25_000)
    except AssertionError:
        src = image.evaluate("img => img.src")
        answer = image.page.context.request.get(src)
        kind = answer.headers.get("content-type", "")
        body = answer.text()[:200] if "json" in kind else kind
        raise AssertionError(f"the picture did not load: {src} answers {answer.status} {body}") from None


# -- the tests --------------------------------------------------------------------------------------------

def test_palette_adds_typed_nodes_and_connections_are_checked_by_type(
        user: BrowserContext, gen_url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    project = create_project(user, gen_url, "Wiring")
    scene_id = _scene(user, gen_url, project)
    page = watched(user)
    _open(page, gen_url, project["id"])

    # Double-click the empty canvas: the palette opens there; the search narrows it; Enter adds the first.
    palette = _palette_at(page, 140, 120)
    expect(palette.get_by_test_id("palette-category").first).to_be_visible()
    palette.get_by_test_id("palette-search").fill("prompt")
    titles = palette.get_by_test_id("palette-item").all_inner_texts()
    assert any(t.startswith("Prompt") for t in titles) and not any(t.startswith("Upscale") for t in titles)
    palette.get_by_test_id("palette-search").fill("")
    palette.get_by_test_id("palette-search").press_sequentially("positive pro")  # matches nothing
    expect(palette.get_by_test_id("palette-empty")).to_be_visible()
    palette.get_by_test_id("palette-search").fill("what the picture")  # searches descriptions too
    palette.get_by_test_id("palette-search").press("Enter")
    expect(palette).to_have_count(0)
    expect(_typed(page, "prompt")).to_have_count(1)

    # A click on an item adds it where the palette was opened.
    palette = _palette_at(page, 460, 120)
    palette.locator('[data-testid="palette-item"][data-type="text_to_image"]').click()
    t2i = _typed(page, "text_to_image")
    expect(t2i).to_have_count(1)
    # Its inputs and outputs, labelled and typed; the prompt is required (its own prompt text is empty).
    expect(t2i.get_by_test_id("node-input")).to_have_count(4)
    expect(t2i.locator('[data-testid="node-input"][data-port="seed"]')).to_have_attribute("data-port-type", "seed")
    expect(t2i.locator('[data-testid="node-input"][data-port="prompt"]')).to_have_class(re.compile("is-missing"))

    # The toolbar's button opens it too; a type dragged from it lands where it is dropped.
    page.get_by_test_id("add-node").click()
    palette = page.get_by_test_id("node-palette")
    canvas = page.get_by_test_id("scene-canvas")
    shot_item = palette.locator('[data-testid="palette-item"][data-type="shot"]')
    shot_item.drag_to(canvas, target_position={"x": 800, "y": 160})
    expect(_typed(page, "shot")).to_have_count(1)
    expect(page.get_by_test_id("node-palette")).to_have_count(0)
    # Keyboard only: open, search, arrow down, Enter.
    _palette_at(page, 460, 440)
    page.keyboard.type("upscale")  # two matches: "Upscale", then "Upscale with a model"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(_typed(page, "upscale")).to_have_count(1)
    expect(_typed(page, "upscale_model")).to_have_count(0)

    # New nodes carry their schema's defaults, through the scene's live document into the server's graph.
    graph = _wait_graph(user, gen_url, project["id"], scene_id,
                        lambda g: len(g["nodes"]) == 4, "the four nodes")
    by_type = {n["type"]: n for n in graph["nodes"].values()}
    assert by_type["text_to_image"]["params"]["steps"] == 20 and by_type["upscale"]["params"]["method"] == "lanczos"
    assert by_type["shot"]["params"] == {"name": "Shot", "tags": []}

    # prompt → text to image → shot.
    prompt, shot, upscale = _typed(page, "prompt"), _typed(page, "shot"), _typed(page, "upscale")
    _connect(page, prompt, "text", t2i, "prompt")
    _connect(page, t2i, "image", shot, "images")
    expect(page.locator(".svelte-flow__edge")).to_have_count(2)
    expect(t2i.locator('[data-testid="node-input"][data-port="prompt"]')).not_to_have_class(
        re.compile("is-missing"))
    # A prompt's text into Upscale's image is refused, with the reason.
    _connect(page, prompt, "text", upscale, "image")
    refused = page.get_by_test_id("connection-refused")
    expect(refused).to_contain_text("takes image")
    expect(refused).to_contain_text("gives text")
    expect(page.locator(".svelte-flow__edge")).to_have_count(2)
    graph = _wait_graph(user, gen_url, project["id"], scene_id, lambda g: len(g["edges"]) == 2, "two edges")
    ids = {n["type"]: i for i, n in graph["nodes"].items()}
    assert set(graph["edges"]) == {f"{ids['prompt']}:text->{ids['text_to_image']}:prompt",
                                   f"{ids['text_to_image']}:image->{ids['shot']}:images"}
    # An input takes one connection: a second prompt into the same input replaces the first.
    _palette_at(page, 140, 320).locator('[data-testid="palette-item"][data-type="prompt"]').click()
    second = _typed(page, "prompt").nth(1)
    expect(_typed(page, "prompt")).to_have_count(2)
    second_id = second.get_attribute("data-node-id")
    _connect(page, second, "text", t2i, "prompt")
    graph = _wait_graph(user, gen_url, project["id"], scene_id,
                        lambda g: f"{second_id}:text->{ids['text_to_image']}:prompt" in g["edges"], "the new edge")
    assert f"{ids['prompt']}:text->{ids['text_to_image']}:prompt" not in graph["edges"]
    _shot(page, "generation-palette-wiring")
    assert console.unexpected() == []


def test_inspector_controls_follow_the_schema_and_land_in_the_graph(
        user: BrowserContext, gen_url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    project = create_project(user, gen_url, "Knobs", "text-to-image")
    scene_id = _scene(user, gen_url, project)
    page = watched(user)
    _open(page, gen_url, project["id"])

    # Numbers: a field and a slider (bounded), int vs float steps; out of range is flagged under the field.
    _node(page, "generate").click()
    inspector = _inspector(page)
    expect(inspector).to_have_attribute("data-node-id", "generate")
    steps = inspector.get_by_label("steps", exact=True)
    expect(steps).to_have_value("30")
    expect(steps).to_have_attribute("step", "1")
    steps.fill("12")
    guidance = inspector.get_by_label("guidance scale slider")
    guidance.focus()
    page.keyboard.press("ArrowRight")
    expect(inspector.get_by_label("guidance scale", exact=True)).to_have_value("7.1")
    width = inspector.get_by_label("width", exact=True)
    expect(width).to_have_attribute("step", "8")
    steps.fill("500")
    problem = inspector.locator('[data-testid="param"][data-param="steps"] [data-testid="param-problem"]')
    expect(problem).to_have_text("Must be at most 150.")
    # The server's check marks the node too.
    expect(_node(page, "generate").get_by_test_id("node-problem-badge")).to_be_visible()
    expect(_node(page, "generate").get_by_test_id("node-problem")).to_contain_text("steps")
    steps.fill("12")
    expect(problem).to_have_count(0)
    expect(_node(page, "generate").get_by_test_id("node-problem-badge")).to_have_count(0)
    # A prompt typed on the node itself (created by the first keystroke: the template's node lacks it).
    inspector.get_by_label("prompt text", exact=True).fill("a red kite")

    # The seed: mode (a select of the schema's choices), value, randomize.
    _node(page, "seed").click()
    expect(inspector).to_have_attribute("data-node-id", "seed")
    inspector.get_by_label("mode", exact=True).select_option("increment")
    value = inspector.get_by_label("value", exact=True)
    expect(value).to_have_value("42")
    inspector.get_by_test_id("seed-randomize").click()
    expect(value).not_to_have_value("42")
    seed = int(value.input_value())

    # The model: the installed ones.
    _node(page, "model").click()
    model = inspector.get_by_test_id("model-select")
    expect(model.locator("option")).to_have_count(2)  # the default, and tiny-sd
    model.select_option("tiny-sd")

    # The prompt: a Y.Text, typed into in place.
    _node(page, "prompt").click()
    text = inspector.get_by_label("text", exact=True)
    text.press("Control+End")
    page.keyboard.type(", at noon")

    # The shot's tags: a list.
    _node(page, "shot").click()
    tags = inspector.get_by_test_id("list-add")
    tags.fill("hero, wide")
    tags.press("Enter")
    expect(inspector.get_by_test_id("list-item")).to_have_count(2)

    # A picture for a Load image node: picked by its preview among the project's pictures.
    upload = user.request.post(f"{gen_url}/api/v1/projects/{project['id']}/assets", headers=csrf_headers(user),
                               multipart={"file": {"name": "plate.png", "mimeType": "image/png",
                                                   "buffer": png_bytes(size=(64, 64))}})
    assert upload.status == 201, upload.text()
    plate = upload.json()[0]["id"]
    _palette_at(page, 700, 700).get_by_test_id("palette-search").fill("load image")
    page.keyboard.press("Enter")
    expect(inspector).to_have_attribute("data-node-type", "load_image")
    inspector.locator('[data-param="asset_id"]').get_by_test_id("asset-pick").click()
    inspector.locator(f'[data-param="asset_id"] [data-testid="asset-option"][data-asset-id="{plate}"]').click()
    expect(inspector.locator('[data-param="asset_id"] [data-testid="asset-chosen"]')).to_have_attribute(
        "data-asset-id", plate)
    expect(_typed(page, "load_image").get_by_test_id("node-summary")).to_have_text("1 picture")

    graph = _wait_graph(user, gen_url, project["id"], scene_id, lambda g: g["nodes"]["shot"]["params"].get("tags")
                        == ["hero", "wide"], "the shot's tags")
    (loader,) = [n for n in graph["nodes"].values() if n["type"] == "load_image"]
    assert loader["params"]["asset_id"] == plate
    generate = graph["nodes"]["generate"]["params"]
    assert generate["steps"] == 12 and abs(generate["guidance_scale"] - 7.1) < 1e-9
    assert generate["prompt_text"] == "a red kite"
    assert graph["nodes"]["seed"]["params"] == {"value": seed, "mode": "increment"}
    assert graph["nodes"]["model"]["params"]["model"] == "tiny-sd"
    assert graph["nodes"]["prompt"]["params"]["text"].endswith("35mm film, at noon")
    _shot(page, "generation-inspector")
    assert console.unexpected() == []


def test_run_shows_node_states_pictures_problems_and_a_new_asset(
        user: BrowserContext, gen_url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    project, scene_id = _fast_t2i(user, gen_url, "Lighthouse")
    page = watched(user)
    _open(page, gen_url, project["id"])
    expect(page.get_by_test_id("cpu-warning")).to_be_visible()  # no GPU here
    expect(page.get_by_test_id("no-model-notice")).to_have_count(0)

    page.get_by_test_id("run-scene").click()
    for node_id in ("prompt", "seed", "model", "generate", "shot"):
        expect(_node(page, node_id)).to_have_attribute("data-state", "done", timeout=RUN_TIMEOUT_MS)
    # The picture, on the generating node and on the shot it reached; larger in the inspector.
    _loaded(_node(page, "generate").get_by_test_id("node-preview"))
    _loaded(_node(page, "shot").get_by_test_id("node-preview"))
    _node(page, "generate").click()
    _loaded(_inspector(page).get_by_test_id("inspector-preview"))
    expect(_inspector(page).get_by_test_id("inspector-run")).to_have_attribute("data-state", "done")
    # The shot's asset appears in the Asset Browser.
    item = page.get_by_test_id("asset-item").filter(has_text=TAKE)
    expect(item).to_have_count(1)
    _shot(page, "generation-run-done")

    # Run this node: unchanged, so it comes from the cache (and keeps its picture).
    _inspector(page).get_by_test_id("run-node").click()
    expect(_node(page, "generate")).to_have_attribute("data-state", "cached", timeout=RUN_TIMEOUT_MS)
    _loaded(_node(page, "generate").get_by_test_id("node-preview"))

    # A graph that cannot run (changed elsewhere, through the API): refused, each problem on its node.
    graph = _graph(user, gen_url, project["id"], scene_id)
    graph["edges"] = {k: e for k, e in graph["edges"].items() if not k.startswith("prompt:")}
    _put_graph(user, gen_url, project["id"], scene_id, graph)
    generate = _node(page, "generate")
    expect(generate.get_by_test_id("node-problem")).to_contain_text("needs its 'prompt' input connected")
    expect(generate.locator('[data-testid="node-input"][data-port="prompt"]')).to_have_class(re.compile("is-missing"))
    page.get_by_test_id("run-scene").click()
    expect(page.get_by_test_id("run-refused")).to_contain_text("cannot run")
    _node(page, "generate").click()
    problems = _inspector(page).get_by_test_id("inspector-problem")
    expect(problems.filter(has_text="needs its 'prompt' input connected")).to_have_count(1)
    _shot(page, "generation-problems")
    graph["nodes"]["generate"]["params"]["steps"] = 999
    _put_graph(user, gen_url, project["id"], scene_id, graph)
    expect(generate.get_by_test_id("node-problem")).to_contain_text("steps")
    expect(_inspector(page).locator('[data-param="steps"] [data-testid="param-problem"]')).to_have_text(
        "Must be at most 150.")
    assert console.unexpected(422) == []


def test_a_long_run_shows_its_progress_and_cancels(
        user: BrowserContext, gen_url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    project, _ = _fast_t2i(user, gen_url, "Slow", steps=150, size=128)
    page = watched(user)
    _open(page, gen_url, project["id"])
    page.get_by_test_id("run-scene").click()
    generate = _node(page, "generate")
    expect(generate).to_have_attribute("data-state", "running", timeout=RUN_TIMEOUT_MS)
    expect(generate.get_by_test_id("node-progress")).to_be_visible()
    expect(page.get_by_test_id("run-progress")).to_be_visible()
    # What it is making shows on the node as it goes: a small picture of the latents, replaced as steps pass. The
    # node reads running while its model loads, which takes seconds on a loaded machine: the first step's preview
    # is waited for as long as a run.
    expect(generate.get_by_test_id("node-preview")).to_have_attribute("src", re.compile(r"^data:image/webp;base64,"),
                                                                      timeout=RUN_TIMEOUT_MS)
    _shot(page, "generation-running")
    page.get_by_test_id("run-cancel").click()
    expect(generate).to_have_attribute("data-state", "cancelled", timeout=15_000)
    expect(page.get_by_test_id("run-progress")).to_have_count(0)
    assert _latest_run(user, gen_url)["status"] == "cancelled"
    assert console.unexpected() == []



def test_run_times_three_queues_a_batch_with_stepping_seeds(
        user: BrowserContext, gen_url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    project, scene_id = _fast_t2i(user, gen_url, "Batch")
    graph = _graph(user, gen_url, project["id"], scene_id)
    graph["nodes"]["seed"]["params"].update({"mode": "increment", "value": 40})
    _put_graph(user, gen_url, project["id"], scene_id, graph)
    page = watched(user)
    _open(page, gen_url, project["id"])
    repeat = page.get_by_test_id("run-repeat")
    repeat.fill("3")
    repeat.press("Tab")
    expect(page.get_by_test_id("run-scene")).to_have_text("Run ×3")
    page.get_by_test_id("run-scene").click()
    rows = page.get_by_test_id("task-row").filter(has_text="of 3)")
    expect(rows).to_have_count(3, timeout=RUN_TIMEOUT_MS)
    expect(page.get_by_test_id("task-row").filter(has_text="(3 of 3)")).to_be_visible()
    tasks = [t for t in user.request.get(f"{gen_url}/api/v1/tasks", params={"limit": 50}).json()["items"]
             if t["kind"] == "scene.run" and t["project_id"] == project["id"]]
    assert len(tasks) == 3
    done = [_wait_task(user, gen_url, t["id"]) for t in sorted(tasks, key=lambda t: t["title"])]
    seeds = [user.request.get(f"{gen_url}/api/v1/projects/{project['id']}/assets/{t['result']['assets'][0]}")
             .json()["provenance"]["seed"] for t in done]
    assert seeds == [40, 41, 42]
    expect(rows.and_(page.locator('[data-status="succeeded"]'))).to_have_count(3, timeout=RUN_TIMEOUT_MS)
    for take, seed in enumerate(seeds, start=1):  # all three, live, each named by its seed and take
        named = f"Hero shot · seed {seed} · tiny-sd · #{take}.png"
        expect(page.get_by_test_id("asset-item").filter(has_text=named)).to_have_count(1)
    # One toast for the batch, once its last run is done.
    expect(page.get_by_test_id("toast").filter(has_text="Run 'Hero shot' ×3 finished")).to_contain_text("3 assets")
    expect(page.get_by_test_id("toast").filter(has_text="of 3) finished")).to_have_count(0)
    _shot(page, "generation-batch")
    # Out of range is put back in range (1–100).
    repeat.fill("500")
    repeat.press("Tab")
    expect(repeat).to_have_value("100")
    assert console.unexpected() == []


def test_provenance_opens_the_graph_and_regenerates_the_same_picture_or_a_variation(
        user: BrowserContext, gen_url: str, watched: Callable[[BrowserContext], Page], console: ConsoleLog) -> None:
    project, scene_id = _fast_t2i(user, gen_url, "Provenance")
    run = user.request.post(f"{gen_url}/api/v1/projects/{project['id']}/scenes/{scene_id}/run", data={},
                            headers=csrf_headers(user)).json()
    (asset_id,) = _wait_task(user, gen_url, run["id"])["result"]["assets"]
    original = _content(user, gen_url, project["id"], asset_id)
    page = watched(user)
    _open(page, gen_url, project["id"])

    page.get_by_test_id("asset-item").filter(has_text=TAKE).get_by_test_id("asset-open").dblclick()
    provenance = page.get_by_test_id("asset-provenance")
    expect(provenance.get_by_test_id("provenance-prompt")).to_have_text("A lighthouse on a cliff at dusk, cinematic, "
                                                                        "35mm film")
    expect(provenance.get_by_test_id("provenance-seed")).to_have_text("42")
    expect(provenance.get_by_test_id("provenance-model")).to_have_text("tiny-sd")
    expect(provenance.get_by_test_id("provenance-steps")).to_have_text("2")
    expect(provenance.get_by_test_id("provenance-task")).to_have_attribute("title", run["id"])
    _shot(page, "generation-provenance")

    # Regenerate: the same seed, the same picture; Variation: a new seed, another picture.
    provenance.get_by_test_id("provenance-regenerate").click()
    expect(provenance.get_by_test_id("provenance-started")).to_be_visible()
    again = _wait_task(user, gen_url, _latest_run(user, gen_url)["id"])
    assert _content(user, gen_url, project["id"], again["result"]["assets"][0]) == original
    expect(page.get_by_test_id("toast").filter(has_text="finished").first).to_be_visible()
    provenance.get_by_test_id("provenance-variation").click()
    expect(provenance.get_by_test_id("provenance-variation")).to_be_enabled()
    variation = _latest_run(user, gen_url)
    assert variation["id"] != again["id"]
    variation = _wait_task(user, gen_url, variation["id"])
    assert _content(user, gen_url, project["id"], variation["result"]["assets"][0]) != original

    # Open the graph that made it: its scene, with the shot selected.
    provenance.get_by_test_id("provenance-open-graph").click()
    expect(page.get_by_role("tab", name="Scene View")).to_have_attribute("aria-selected", "true")
    expect(_inspector(page)).to_have_attribute("data-node-id", "shot")
    # Once the scene computes something else, a copy of the recorded graph can become a new scene.
    _node(page, "generate").click()
    _inspector(page).get_by_label("steps", exact=True).fill("3")
    _wait_graph(user, gen_url, project["id"], scene_id, lambda g: g["nodes"]["generate"]["params"]["steps"] == 3,
                "steps 3")
    page.get_by_test_id("asset-item").filter(has_text=TAKE).first.get_by_test_id("asset-open").dblclick()
    expect(provenance.get_by_test_id("provenance-scene-state")).to_have_attribute("data-state", "changed")
    provenance.get_by_test_id("provenance-copy-graph").click()
    expect(page.get_by_test_id("tree-scene")).to_have_count(2)
    expect(page.get_by_test_id("scene-name")).to_contain_text("Hero shot — ")
    expect(_inspector(page)).to_have_attribute("data-node-id", "shot")
    _node(page, "generate").click()
    expect(_inspector(page).get_by_label("steps", exact=True)).to_have_value("2")
    assert console.unexpected() == []


def test_a_viewer_sees_the_graph_but_cannot_run_it(
        browser: Browser, user: BrowserContext, gen_url: str, watched: Callable[[BrowserContext], Page],
        console: ConsoleLog) -> None:
    headers = csrf_headers(user)
    workspace = user.request.post(f"{gen_url}/api/v1/workspaces", data={"name": "Review room"},
                                  headers=headers).json()
    project, _ = _fast_t2i(user, gen_url, "Shared", workspace_id=workspace["id"])
    account = new_account("viewer")
    viewer = _context(browser, gen_url, account)
    try:
        me = viewer.request.get(f"{gen_url}/api/v1/auth/me").json()["user"]
        added = user.request.post(f"{gen_url}/api/v1/workspaces/{workspace['id']}/members",
                                  data={"username": account.username, "role": "member"}, headers=headers)
        assert added.status == 201, added.text()
        granted = user.request.put(f"{gen_url}/api/v1/projects/{project['id']}/roles/{me['id']}",
                                   data={"role": "viewer"}, headers=headers)
        assert granted.ok, granted.text()
        page = watched(viewer)
        _open(page, gen_url, project["id"])
        expect(_node(page, "generate")).to_be_visible()
        expect(page.get_by_test_id("run-scene")).to_have_count(0)
        _node(page, "generate").click()
        inspector = _inspector(page)
        expect(inspector.get_by_label("steps", exact=True)).to_be_disabled()
        expect(inspector.get_by_test_id("run-node")).to_have_count(0)
        expect(inspector.get_by_test_id("seed-randomize")).to_have_count(0)
        # Nor through the API.
        scene_id = _scene(viewer, gen_url, project)
        refused = viewer.request.post(f"{gen_url}/api/v1/projects/{project['id']}/scenes/{scene_id}/run", data={},
                                      headers=csrf_headers(viewer))
        assert refused.status == 403
    finally:
        viewer.close()
    assert console.unexpected() == []


def test_a_run_is_seen_live_by_others_in_the_scene_with_who_started_it(
        browser: Browser, user: BrowserContext, gen_url: str, watched: Callable[[BrowserContext], Page],
        console: ConsoleLog) -> None:
    """A run is shared, as on multiplayer canvases: a viewer with the scene open sees someone else's run start,
    its nodes' states and who started it, also after opening the scene mid-run; only its owner may cancel it."""
    headers = csrf_headers(user)
    workspace = user.request.post(f"{gen_url}/api/v1/workspaces", data={"name": "Watch room"}, headers=headers).json()
    project, scene_id = _fast_t2i(user, gen_url, "Watched", steps=150, size=128, workspace_id=workspace["id"])
    owner_name = user.request.get(f"{gen_url}/api/v1/auth/me").json()["user"]["display_name"]
    _, viewer, _ = join_project(browser, user, gen_url, workspace["id"], project["id"], "viewer", "watcher")
    try:
        theirs = watched(viewer)
        _open(theirs, gen_url, project["id"], scene_id)
        mine = watched(user)
        _open(mine, gen_url, project["id"], scene_id)
        mine.get_by_test_id("run-scene").click()
        expect(_node(theirs, "generate")).to_have_attribute("data-state", "running", timeout=RUN_TIMEOUT_MS)
        progress = theirs.get_by_test_id("run-progress")
        expect(progress.get_by_test_id("run-owner")).to_have_text(f"by {owner_name}")
        expect(progress.get_by_test_id("run-cancel")).to_have_count(0)  # not theirs to cancel
        expect(mine.get_by_test_id("run-progress").get_by_test_id("run-owner")).to_have_count(0)
        _shot(theirs, "generation-shared-run")
        theirs.reload()  # opening the scene mid-run: the run is asked for, not only heard
        expect(_node(theirs, "generate")).to_have_attribute("data-state", "running", timeout=15_000)
        expect(theirs.get_by_test_id("run-owner")).to_have_text(f"by {owner_name}")
        mine.get_by_test_id("run-cancel").click()
        expect(_node(theirs, "generate")).to_have_attribute("data-state", "cancelled", timeout=15_000)
        expect(theirs.get_by_test_id("run-progress")).to_have_count(0)
    finally:
        viewer.close()
    assert console.unexpected() == []


def test_the_scene_view_on_a_phone(
        browser: Browser, gen_url: str, console: ConsoleLog) -> None:
    context = _context(browser, gen_url, new_account("pocket"), viewport=PHONE, device_scale_factor=2,
                       is_mobile=True, has_touch=True)
    try:
        project, scene_id = _fast_t2i(context, gen_url, "Pocket")
        run = context.request.post(f"{gen_url}/api/v1/projects/{project['id']}/scenes/{scene_id}/run", data={},
                                   headers=csrf_headers(context)).json()
        _wait_task(context, gen_url, run["id"])
        page = context.new_page()
        console.watch(page)
        page.goto(f"{gen_url}/projects/{project['id']}")
        page.get_by_test_id("tab-canvas").click()
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        _loaded(_node(page, "generate").get_by_test_id("node-preview"))
        expect(page.get_by_test_id("run-scene")).to_be_visible()
        # The toolbar leaves the canvas's zoom buttons free (it sits beside them at the bottom of the screen).
        toolbar = page.get_by_test_id("canvas-toolbar").bounding_box()
        zoom = page.locator(".svelte-flow__controls").bounding_box()
        assert toolbar is not None and zoom is not None
        assert zoom["x"] + zoom["width"] <= toolbar["x"] or zoom["y"] + zoom["height"] <= toolbar["y"], (zoom, toolbar)
        _shot(page, "generation-phone")
    finally:
        context.close()
    assert console.unexpected() == []


@pytest.fixture(scope="module")
def bare_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server, with no model installed."""
    server = _server(tmp_path_factory.mktemp("gen-ui-bare"), None)
    yield server.url
    server.stop()


def test_without_a_model_the_scene_view_says_how_to_add_one(
        browser: Browser, bare_url: str, tiny_model: Path, console: ConsoleLog) -> None:
    person = _context(browser, bare_url, new_account("nomodel"))
    admin = _context(browser, bare_url)
    try:
        # A graph that needs no model (none of its nodes takes or gives one) shows no notice.
        plates = person.new_page()
        console.watch(plates)
        _open(plates, bare_url, create_project(person, bare_url, "Plates only", "blank")["id"])
        expect(plates.get_by_test_id("asset-models")).to_contain_text("(0)")  # the models are known: none
        expect(plates.get_by_test_id("no-model-notice")).to_have_count(0)
        plates.close()
        project = create_project(person, bare_url, "Empty-handed", "text-to-image")
        page = person.new_page()
        console.watch(page)
        _open(page, bare_url, project["id"])
        notice = page.get_by_test_id("no-model-notice")
        expect(notice).to_contain_text("No model is installed")
        expect(notice.get_by_test_id("how-to-add")).to_contain_text("Ask an admin")  # not commands they cannot run
        expect(notice.get_by_test_id("how-to-add")).not_to_contain_text("mediastudio models")
        expect(notice.get_by_test_id("model-add-form")).to_have_count(0)  # only administrators add models
        # The pre-run check says it on the node that picks the model, and Run is off, saying why.
        expect(_node(page, "model").get_by_test_id("node-problem")).to_contain_text("No model installed — ")
        expect(_node(page, "model").get_by_test_id("node-problem")).to_contain_text("Ask an admin")
        expect(page.get_by_test_id("run-scene")).to_be_disabled()
        expect(page.get_by_test_id("run-scene")).to_have_attribute("title", re.compile("^No model installed — "))
        expect(page.get_by_test_id("run-blocked")).to_contain_text("No model installed")
        _shot(page, "generation-no-model")
        phone = _context(browser, bare_url, new_account("nomodelphone"), viewport=PHONE,
                         device_scale_factor=2, is_mobile=True, has_touch=True)
        try:
            small = phone.new_page()
            console.watch(small)
            _open(small, bare_url, create_project(phone, bare_url, "Pocket", "text-to-image")["id"])
            expect(small.get_by_test_id("run-scene")).to_be_disabled()
            small.get_by_test_id("run-blocked").tap()  # no hover on a phone: a tap says why Run is off
            expect(small.get_by_test_id("toast").filter(has_text="Run is off")).to_contain_text("Ask an admin")
            # On a phone the notice starts folded (unfolded it covers most of the canvas); a tap unfolds it.
            folded = small.get_by_test_id("no-model-notice")
            expect(folded).to_contain_text("No model is installed")
            expect(folded.get_by_test_id("how-to-add")).to_have_count(0)
            folded.get_by_role("button", name="Show how to add a model").tap()
            expect(folded.get_by_test_id("how-to-add")).to_contain_text("Ask an admin")
            _shot(small, "generation-no-model-phone")
        finally:
            phone.close()

        # An administrator registers a folder on the server from the notice: it goes away.
        mine = create_project(admin, bare_url, "Admin's", "text-to-image")
        page = admin.new_page()
        console.watch(page)
        _open(page, bare_url, mine["id"])
        # An administrator is told the commands (and the form) on the node itself.
        expect(_node(page, "model").get_by_test_id("node-problem")).to_contain_text("mediastudio models add")
        expect(page.get_by_test_id("run-scene")).to_be_disabled()
        form = page.get_by_test_id("model-add-form")
        form.get_by_test_id("model-source").fill("/no/such/folder")
        form.get_by_test_id("model-add").click()
        expect(form.get_by_role("alert")).to_be_visible()
        _shot(page, "generation-no-model-admin")
        form.get_by_test_id("model-source").fill(str(tiny_model))
        form.get_by_test_id("model-add").click()
        expect(page.get_by_test_id("no-model-notice")).to_have_count(0)
        # With a model installed the check has nothing to say any more: Run is on, the node is clear.
        expect(page.get_by_test_id("run-scene")).to_be_enabled()
        expect(page.get_by_test_id("run-blocked")).to_have_count(0)
        expect(_node(page, "model").get_by_test_id("node-problem")).to_have_count(0)
        _node(page, "model").click()
        expect(_inspector(page).get_by_test_id("model-select").locator("option")).to_have_count(2)
    finally:
        person.close()
        admin.close()
    assert console.unexpected(400, 404, 422) == []
