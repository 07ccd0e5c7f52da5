"""Reusable graphs in real Chromium: save the selected nodes as a workflow of the workspace's library and insert
it into another scene (fresh ids, links kept, one undo step, seen live by the others); export nodes as a JSON file
and import it with the file picker; drop a picture the studio generated on the canvas and get its graph back; a
hostile file is refused with a sentence. Screenshots of the library at desktop and phone sizes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import PHONE, Account, ConsoleLog, csrf_headers, join_project, screenshot
from playwright.sync_api import Browser, BrowserContext, Page, expect
from test_accessibility_ui import violations
from test_canvas_arranging_ui import _graph_with_a_chain
from test_canvas_editing_ui import Person, Studio, _node, _studio

from mediastudio.engine.embed import embedded
from support import png_bytes


@pytest.fixture
def studio(browser: Browser, desktop: BrowserContext, page: Page, account: Account, studio_url: str,
           console: ConsoleLog) -> Iterator[Studio]:
    made = _studio(browser, desktop, page, account, studio_url, "blank")
    made.put_graph(_graph_with_a_chain())
    yield made
    for guest in made.guests:
        guest.context.close()


def _second_scene(studio: Studio) -> str:
    answer = studio.owner.context.request.post(f"{studio.url}/api/v1/projects/{studio.project['id']}/scenes",
                                               data={"name": "Night"}, headers=csrf_headers(studio.owner.context))
    assert answer.status == 201, answer.text()
    return answer.json()["id"]  # type: ignore[no-any-return]


def _open_scene(studio: Studio, page: Page, scene_id: str) -> None:
    page.goto(f"{studio.url}/projects/{studio.project['id']}/scenes/{scene_id}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")


def _graph_of(studio: Studio, scene_id: str) -> dict[str, Any]:
    url = f"{studio.url}/api/v1/projects/{studio.project['id']}/scenes/{scene_id}/graph"
    return studio.owner.context.request.get(url).json()  # type: ignore[no-any-return]


def _drop_file(page: Page, name: str, data: bytes, mime: str) -> None:
    """A file dragged from the computer and dropped in the middle of the canvas (real drag events)."""
    canvas = page.get_by_test_id("scene-canvas")
    box = canvas.bounding_box()
    assert box is not None
    transfer = page.evaluate_handle(
        """([name, data, mime]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            return transfer;
        }""", [name, base64.b64encode(data).decode(), mime])
    at = {"clientX": box["x"] + box["width"] / 2, "clientY": box["y"] + box["height"] / 2}
    canvas.dispatch_event("dragover", {"dataTransfer": transfer, **at})
    canvas.dispatch_event("drop", {"dataTransfer": transfer, **at})


def test_save_the_selection_and_insert_it_into_another_scene_live_for_others(
        studio: Studio, console: ConsoleLog) -> None:
    night = _second_scene(studio)
    ben = studio.join("editor", "ben")
    console.watch(ben.page)
    a = studio.open(studio.owner)
    _node(a, "a").click()
    _node(a, "b").click(modifiers=["Shift"])
    a.get_by_test_id("workflows-open").click()
    library = a.get_by_test_id("workflow-library")
    expect(library).to_be_visible()
    expect(library.get_by_test_id("workflow-save")).to_contain_text("Save selection as a workflow (2 nodes)")
    library.get_by_test_id("workflow-name").fill("Double upscale")
    library.get_by_test_id("workflow-description").fill("Two upscales in a row")
    library.get_by_test_id("workflow-save").click()
    expect(library.get_by_test_id("workflow-item")).to_have_count(1)
    expect(library.get_by_test_id("workflow-item")).to_contain_text("Double upscale")
    screenshot(a, "workflow-library-desktop")
    assert not violations(a), violations(a)
    library.get_by_role("button", name="Close").click()

    # In the other scene, with Ben watching: Insert adds two linked nodes with fresh ids, in one undo step.
    _open_scene(studio, a, night)
    _open_scene(studio, ben.page, night)
    a.get_by_test_id("workflows-open").click()
    library.get_by_test_id("workflow-search").fill("upscales")
    expect(library.get_by_test_id("workflow-item")).to_have_count(1)
    library.get_by_test_id("workflow-insert").click()
    expect(library).to_be_hidden()
    for page in (a, ben.page):
        expect(page.get_by_test_id("graph-node")).to_have_count(2)
    graph = _graph_of(studio, night)
    assert {n["title"] for n in graph["nodes"].values()} == {"First", "Second"}
    assert not set(graph["nodes"]) & {"a", "b"}  # fresh ids
    first = next(i for i, n in graph["nodes"].items() if n["title"] == "First")
    second = next(i for i, n in graph["nodes"].items() if n["title"] == "Second")
    assert list(graph["edges"]) == [f"{first}:image->{second}:image"]
    assert graph["nodes"][first]["params"] == {"factor": 3}
    a.get_by_test_id("scene-canvas").focus()
    a.keyboard.press("Control+z")
    for page in (a, ben.page):
        expect(page.get_by_test_id("graph-node")).to_have_count(0)
    assert not console.unexpected()


def test_export_json_then_import_it_and_drop_a_generated_picture(studio: Studio, console: ConsoleLog,
                                                                  tmp_path: Path) -> None:
    night = _second_scene(studio)
    a = studio.open(studio.owner)
    a.get_by_test_id("workflows-open").click()
    library = a.get_by_test_id("workflow-library")
    expect(library.get_by_test_id("workflow-export-json")).to_contain_text("Export scene as JSON")
    with a.expect_download() as downloading:
        library.get_by_test_id("workflow-export-json").click()
    exported = tmp_path / "scene.json"
    downloading.value.save_as(exported)
    data = json.loads(exported.read_text())
    assert data["format"] == "mediastudio/nodes" and sorted(data["nodes"]) == ["a", "b", "c"]
    library.get_by_role("button", name="Close").click()

    _open_scene(studio, a, night)
    a.get_by_test_id("workflows-open").click()
    library.get_by_test_id("workflow-import-input").set_input_files(str(exported))
    expect(a.get_by_test_id("graph-node")).to_have_count(3)
    graph = _graph_of(studio, night)
    assert sorted(n["title"] for n in graph["nodes"].values()) == ["First", "Second", "Words"]
    assert len(graph["edges"]) == 1

    # A picture the studio generated carries its graph: dropped on the canvas, its nodes come back.
    made = {"nodes": {"p": {"type": "prompt", "title": "Fog", "position": {"x": 0, "y": 0},
                            "params": {"text": "a harbour in fog"}, "bypass": False}}, "edges": {}}
    picture = embedded(png_bytes(size=(64, 64)), made, "p", {"prompt": "a harbour in fog"})
    _drop_file(a, "Hero · seed 7.png", picture, "image/png")
    expect(a.get_by_test_id("graph-node")).to_have_count(4)
    assert any(n["title"] == "Fog" and n["params"] == {"text": "a harbour in fog"}
               for n in _graph_of(studio, night)["nodes"].values())

    # A hostile file: refused with a sentence, nothing added.
    hostile = embedded(png_bytes(size=(64, 64)), {"nodes": {"x": {"type": "prompt"}}, "edges": {}}, "x", {})
    hostile = hostile.replace(b'"type":"prompt"', b'"type":"rm_rf_"')
    hostile_fixed = _refit_crc(hostile)
    _drop_file(a, "evil.png", hostile_fixed, "image/png")
    notice = a.get_by_test_id("paste-notice")
    expect(notice).to_contain_text("evil.png")
    expect(notice).to_contain_text("not a kind of node this studio has")
    _drop_file(a, "plain.png", png_bytes(size=(32, 32)), "image/png")
    expect(notice).to_contain_text("carries no graph")
    expect(a.get_by_test_id("graph-node")).to_have_count(4)
    assert not console.unexpected(400)


def _refit_crc(png: bytes) -> bytes:
    """The PNG with every chunk's checksum written again (after an edit of its text)."""
    import struct
    import zlib

    out, offset = bytearray(png[:8]), 8
    while offset < len(png):
        length = struct.unpack(">I", png[offset:offset + 4])[0]
        body = png[offset + 4:offset + 8 + length]
        out += png[offset:offset + 4] + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        offset += 12 + length
    return bytes(out)


def test_the_library_on_a_phone(studio: Studio, browser: Browser, console: ConsoleLog) -> None:
    headers = csrf_headers(studio.owner.context)
    for name in ("Double upscale", "Night prompt"):
        graph = {"nodes": {k: v for k, v in _graph_with_a_chain()["nodes"].items() if k != "c"}, "edges": []}
        answer = studio.owner.context.request.post(
            f"{studio.url}/api/v1/workspaces/{studio.workspace['id']}/workflows",
            data={"name": name, "description": "Saved for the crew", "graph": graph}, headers=headers)
        assert answer.status == 201, answer.text()
    account, phone, _ = join_project(browser, studio.owner.context, studio.url, studio.workspace["id"],
                                     studio.project["id"], "editor", "pia", viewport=PHONE, device_scale_factor=3,
                                     is_mobile=True, has_touch=True)
    studio.guests.append(Person(account, phone, phone.new_page()))
    page = studio.guests[-1].page
    console.watch(page)
    page.goto(f"{studio.url}/projects/{studio.project['id']}/scenes/{studio.scene_id}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    page.get_by_test_id("workflows-open").tap()
    library = page.get_by_test_id("workflow-library")
    expect(library.get_by_test_id("workflow-item")).to_have_count(2)
    box = library.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    screenshot(page, "workflow-library-phone")
    # Pia did not save them: she inserts, but neither renames nor deletes.
    expect(library.get_by_test_id("workflow-rename")).to_have_count(0)
    library.get_by_test_id("workflow-insert").first.tap()
    expect(page.get_by_test_id("graph-node")).to_have_count(5)
    assert not console.unexpected()


def test_drop_a_generated_clip_of_any_size_and_get_its_graph_back(studio: Studio, console: ConsoleLog) -> None:
    """A clip carries its graph in a box at its end: the canvas sends only that box (a clip may be far larger than a
    workflow file), and the nodes come back."""
    import struct

    from PIL import Image

    from mediastudio.engine.nodes.video import encode_mp4
    clip = encode_mp4([Image.new("RGB", (32, 32), (i * 40, 90, 120)) for i in range(4)], 4, "mpeg4", 23)
    big = clip + struct.pack(">I4s", 8 + (5 << 20), b"free") + bytes(5 << 20)  # past the 4 MB of a workflow file
    made = {"nodes": {"p": {"type": "prompt", "title": "Tide", "position": {"x": 0, "y": 0},
                            "params": {"text": "the tide comes in"}, "bypass": False}}, "edges": {}}
    a = studio.open(studio.owner)
    expect(a.get_by_test_id("graph-node")).to_have_count(3)
    sent: list[int] = []
    a.on("request", lambda r: sent.append(len(r.post_data_buffer or b""))
         if r.url.endswith("/workflows/read") else None)
    _drop_file(a, "Tide · #1.mp4", embedded(big, made, "p", {}), "video/mp4")
    expect(a.get_by_test_id("graph-node")).to_have_count(4)
    assert any(n["title"] == "Tide" and n["params"] == {"text": "the tide comes in"}
               for n in _graph_of(studio, studio.scene_id)["nodes"].values())
    assert len(sent) == 1 and sent[0] < 4096, sent  # the graph's box, not the clip

    # A large clip the studio did not make: said at once, nothing sent or added.
    _drop_file(a, "holiday.mp4", big, "video/mp4")
    notice = a.get_by_test_id("paste-notice")
    expect(notice).to_contain_text("holiday.mp4")
    expect(notice).to_contain_text("carries no graph")
    assert len(sent) == 1
    expect(a.get_by_test_id("graph-node")).to_have_count(4)
    assert not console.unexpected(400)
