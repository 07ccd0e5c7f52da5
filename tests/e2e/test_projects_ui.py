"""Projects in real Chromium: the gallery (templates, search, filters, bulk actions, trash, export and
import), the studio's Project Browser tree, saving a moved node, and the history with restore."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (
    DESKTOP,
    PHONE,
    ConsoleLog,
    create_project,
    csrf_headers,
    new_account,
    screenshot,
    skip_tour,
)
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from support import ApiClient, wait_until


@pytest.fixture
def browser_context_for_viewer(browser: Browser, desktop: BrowserContext,
                               studio_url: str) -> Iterator[tuple[BrowserContext, dict]]:
    """A storyboard project in a team workspace of the `desktop` user, and a browser profile of a
    member who may only look at it (project role viewer)."""
    headers = csrf_headers(desktop)
    workspace = desktop.request.post(f"{studio_url}/api/v1/workspaces", data={"name": "Review room"},
                                     headers=headers).json()
    project = create_project(desktop, studio_url, "Dailies", "storyboard", workspace_id=workspace["id"])
    account = new_account("viewer")
    viewer = browser.new_context(viewport=DESKTOP)
    viewer.set_default_timeout(15_000)
    me = viewer.request.post(f"{studio_url}/api/v1/auth/register", data=account.credentials())
    assert me.status == 201, me.text()
    skip_tour(viewer, studio_url)
    added = desktop.request.post(f"{studio_url}/api/v1/workspaces/{workspace['id']}/members",
                                 data={"username": account.username, "role": "member"}, headers=headers)
    assert added.status == 201, added.text()
    role = desktop.request.put(f"{studio_url}/api/v1/projects/{project['id']}/roles/{me.json()['user']['id']}",
                               data={"role": "viewer"}, headers=headers)
    assert role.ok, role.text()
    detail = desktop.request.get(f"{studio_url}/api/v1/projects/{project['id']}").json()
    yield viewer, detail
    viewer.close()


def _card(page: Page, name: str) -> Locator:
    return page.get_by_test_id("project-card").filter(
        has=page.get_by_test_id("card-name").get_by_text(name, exact=True))


def _tree_item(page: Page, label: str, kind: str = "scene") -> Locator:
    """A scene (or `kind="shot"`) row of the Project Browser; shots may share their scene's name."""
    return page.get_by_test_id(f"tree-{kind}").filter(
        has=page.get_by_test_id("tree-label").get_by_text(label, exact=True))


def _gallery(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_test_id("project-gallery")).to_be_visible()


def _project(page: Page, url: str, project_id: object) -> dict:
    answer = page.request.get(f"{url}/api/v1/projects/{project_id}")
    assert answer.status == 200, answer.text()
    return answer.json()  # type: ignore[no-any-return]


def test_a_storyboard_project_is_made_from_its_template_and_opens_in_the_studio(
        page: Page, studio_url: str, console: ConsoleLog) -> None:
    _gallery(page, studio_url)
    expect(page.get_by_test_id("gallery-empty")).to_contain_text("No projects yet")
    page.get_by_test_id("new-project").click()
    dialog = page.get_by_role("dialog", name="New project")
    expect(dialog.get_by_test_id("template-storyboard")).to_contain_text("Opening")
    for name in ("Blank", "Storyboard", "Text-to-image shot", "Image sequence to clip"):
        expect(dialog.get_by_text(name, exact=True)).to_be_visible()
    dialog.get_by_test_id("template-storyboard").click()
    expect(dialog.get_by_role("radio", name=re.compile("Storyboard"))).to_be_checked()
    dialog.get_by_label("Project name").fill("Night market")
    screenshot(page, "projects-new-dialog")
    dialog.get_by_role("button", name="Create project").click()

    expect(page).to_have_url(re.compile(r"/projects/p_[0-9a-f]+$"))
    expect(page.get_by_test_id("project-title")).to_have_text("Night market")
    tree = page.get_by_role("tree", name="Scenes of Night market")
    expect(tree.get_by_test_id("tree-scene").get_by_test_id("tree-label")).to_have_text(
        ["Opening", "Confrontation", "Resolution"])
    expect(tree.get_by_test_id("tree-shot").get_by_test_id("tree-label")).to_have_text(
        ["Opening shot", "Confrontation", "Resolution"])
    expect(page.get_by_test_id("graph-node")).to_have_count(3)
    expect(page.get_by_test_id("scene-name")).to_have_text("Opening")

    # The tree by keyboard: arrows walk the rows, Left closes a scene, Enter opens one.
    opening = _tree_item(page, "Opening")
    expect(opening).to_have_attribute("aria-selected", "true")
    opening.focus()
    page.keyboard.press("ArrowDown")
    expect(_tree_item(page, "Opening shot", "shot")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowLeft")
    expect(opening).to_have_attribute("aria-expanded", "false")
    expect(_tree_item(page, "Opening shot", "shot")).to_have_count(0)
    page.keyboard.press("ArrowDown")
    confrontation = tree.get_by_test_id("tree-scene").filter(has_text="Confrontation")
    expect(confrontation).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/projects/p_[0-9a-f]+/scenes/sc_[0-9a-f]+$"))
    expect(page.get_by_test_id("scene-name")).to_have_text("Confrontation")
    expect(confrontation).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowRight")
    expect(opening).to_have_attribute("aria-expanded", "false")  # each row opens and closes on its own
    page.wait_for_load_state("networkidle")
    screenshot(page, "projects-studio-tree")
    assert console.errors == []


def test_the_gallery_finds_projects_as_you_type_and_by_tag(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    create_project(desktop, studio_url, "Harbour lights", "storyboard")
    create_project(desktop, studio_url, "Desert road")
    create_project(desktop, studio_url, "Harbour fog", "text-to-image")
    _gallery(page, studio_url)
    expect(page.get_by_test_id("project-card")).to_have_count(3)
    card = _card(page, "Harbour lights")
    expect(card).to_contain_text("3 scenes")
    expect(card).to_contain_text("#storyboard")
    expect(card.get_by_role("img", name=re.compile("Contributors"))).to_be_visible()
    page.wait_for_load_state("networkidle")
    screenshot(page, "projects-gallery")

    search = page.get_by_role("searchbox", name="Search projects")
    search.press_sequentially("harb", delay=30)
    expect(page.get_by_test_id("project-card")).to_have_count(2)
    expect(_card(page, "Desert road")).to_have_count(0)
    search.press_sequentially(" lights", delay=30)
    expect(page.get_by_test_id("card-name")).to_have_text(["Harbour lights"])
    search.fill("no such project")
    expect(page.get_by_test_id("gallery-empty")).to_contain_text("No projects match “no such project”")
    page.get_by_role("button", name="Clear filters").click()
    expect(page.get_by_test_id("project-card")).to_have_count(3)
    expect(search).to_have_value("")

    page.get_by_label("Tag", exact=True).select_option("text-to-image")
    expect(page.get_by_test_id("card-name")).to_have_text(["Harbour fog"])
    page.get_by_label("Tag", exact=True).select_option("")
    expect(page.get_by_test_id("project-card")).to_have_count(3)
    _card(page, "Harbour lights").get_by_role("button", name="#storyboard").click()  # a card's tag filters too
    expect(page.get_by_test_id("card-name")).to_have_text(["Harbour lights"])
    expect(page.get_by_label("Tag", exact=True)).to_have_value("storyboard")
    page.get_by_label("Tag", exact=True).select_option("")

    page.get_by_label("Sort by").select_option("name")
    expect(page.get_by_test_id("card-name")).to_have_text(["Desert road", "Harbour fog", "Harbour lights"])
    assert console.errors == []


def test_projects_are_archived_in_bulk_and_come_back_one_by_one(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    for name in ("Alpha", "Bravo", "Charlie"):
        create_project(desktop, studio_url, name)
    _gallery(page, studio_url)
    page.get_by_label("Sort by").select_option("name")
    expect(page.get_by_test_id("card-name")).to_have_text(["Alpha", "Bravo", "Charlie"])

    page.get_by_role("checkbox", name="Select all").check()
    expect(page.get_by_test_id("bulk-count")).to_have_text("3 selected")
    page.get_by_role("button", name="Clear the selection").click()
    expect(page.get_by_test_id("bulk-bar")).to_have_count(0)

    _card(page, "Alpha").get_by_role("checkbox", name="Select Alpha").check()
    _card(page, "Bravo").get_by_role("checkbox", name="Select Bravo").click(modifiers=["Shift"])
    expect(page.get_by_test_id("bulk-count")).to_have_text("2 selected")
    expect(_card(page, "Charlie").get_by_role("checkbox")).not_to_be_checked()
    screenshot(page, "projects-bulk-selection")
    page.get_by_role("toolbar", name="Selected projects").get_by_role("button", name="Archive").click()
    expect(page.get_by_test_id("gallery-notice")).to_contain_text("2 projects archived.")
    expect(page.get_by_test_id("card-name")).to_have_text(["Charlie"])
    expect(page.get_by_test_id("bulk-bar")).to_have_count(0)

    page.get_by_test_id("shelf-archived").click()
    expect(page.get_by_test_id("card-name")).to_have_text(["Alpha", "Bravo"])
    expect(_card(page, "Alpha").get_by_test_id("archived-badge")).to_be_visible()
    _card(page, "Bravo").get_by_role("button", name="Actions for Bravo").click()
    page.get_by_role("menuitem", name="Unarchive").click()
    expect(page.get_by_test_id("card-name")).to_have_text(["Alpha"])

    page.get_by_test_id("shelf-active").click()
    expect(page.get_by_test_id("card-name")).to_have_text(["Bravo", "Charlie"])
    listed = page.request.get(f"{studio_url}/api/v1/projects?archived=true").json()["items"]
    assert [p["name"] for p in listed] == ["Alpha"]
    assert console.errors == []


def test_a_project_is_renamed_an_archive_undone_and_more_cards_load_on_scroll(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    for index in range(50):  # one more than a page of the gallery (48)
        create_project(desktop, studio_url, f"Take {index:02d}")
    _gallery(page, studio_url)
    page.get_by_label("Sort by").select_option("name")
    expect(page.get_by_test_id("card-name").first).to_have_text("Take 00")
    expect(page.get_by_test_id("project-card")).to_have_count(48)
    expect(page.get_by_test_id("gallery-count")).to_contain_text("48 projects shown")
    page.get_by_test_id("project-card").last.scroll_into_view_if_needed()
    expect(page.get_by_test_id("project-card")).to_have_count(50)
    expect(page.get_by_test_id("gallery-count")).to_have_text("50 projects")

    page.get_by_test_id("project-card").last.scroll_into_view_if_needed()
    _card(page, "Take 49").get_by_role("button", name="Actions for Take 49").click()
    page.get_by_role("menuitem", name="Rename…").click()
    dialog = page.get_by_role("dialog", name="Rename project")
    dialog.get_by_label("Project name").fill("Final cut")
    dialog.get_by_role("button", name="Rename").click()
    expect(dialog).to_be_hidden()
    expect(_card(page, "Final cut")).to_be_visible()

    _card(page, "Final cut").get_by_role("button", name="Actions for Final cut").click()
    page.get_by_role("menuitem", name="Archive").click()
    notice = page.get_by_test_id("gallery-notice")
    expect(notice).to_contain_text("1 project archived.")
    expect(_card(page, "Final cut")).to_have_count(0)
    notice.get_by_role("button", name="Undo").click()
    expect(_card(page, "Final cut")).to_be_visible()
    expect(_card(page, "Final cut").get_by_test_id("archived-badge")).to_have_count(0)
    assert console.errors == []


def test_a_deleted_project_waits_in_the_trash_and_is_restored(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(desktop, studio_url, "Old reel")
    create_project(desktop, studio_url, "Keeper")
    _gallery(page, studio_url)
    _card(page, "Old reel").get_by_role("button", name="Actions for Old reel").click()
    page.get_by_role("menuitem", name="Delete…").click()
    confirm = page.get_by_role("dialog", name="Delete “Old reel”?")
    expect(confirm).to_contain_text("restored for 30 days")
    confirm.get_by_role("button", name="Move to trash").click()
    expect(confirm).to_be_hidden()
    expect(page.get_by_test_id("card-name")).to_have_text(["Keeper"])
    expect(page.get_by_test_id("gallery-notice")).to_contain_text("1 project moved to the trash.")
    trash = page.request.get(f"{studio_url}/api/v1/projects?trashed=true").json()["items"]
    assert [p["id"] for p in trash] == [project["id"]]

    page.get_by_test_id("shelf-trash").click()
    card = _card(page, "Old reel")
    expect(card).to_contain_text("restorable until")
    expect(card.get_by_role("link")).to_have_count(0)  # a project in the trash does not open
    card.get_by_role("checkbox", name="Select Old reel").check()
    bar = page.get_by_role("toolbar", name="Selected projects")
    expect(bar.get_by_role("button", name="Delete")).to_have_count(0)
    bar.get_by_role("button", name="Restore").click()
    expect(page.get_by_test_id("gallery-notice")).to_contain_text("1 project restored.")
    expect(page.get_by_test_id("gallery-empty")).to_contain_text("The trash is empty")

    page.get_by_test_id("shelf-active").click()
    expect(page.get_by_test_id("card-name")).to_have_text(["Keeper", "Old reel"])
    assert _project(page, studio_url, project["id"])["trashed_at"] is None
    assert console.errors == []


def test_a_renamed_scene_gets_its_old_name_back_from_the_history(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(desktop, studio_url, "Time travel", "storyboard")
    page.goto(f"{studio_url}/projects/{project['id']}")
    opening = _tree_item(page, "Opening")
    opening.hover()
    opening.get_by_role("button", name="Actions for scene Opening").click()
    page.get_by_role("menuitem", name="Rename").click()
    field = page.get_by_role("textbox", name="Scene name")
    expect(field).to_be_focused()
    field.fill("Prologue")
    field.press("Enter")
    expect(_tree_item(page, "Prologue")).to_be_visible()
    expect(_tree_item(page, "Opening")).to_have_count(0)

    page.get_by_role("tab", name="History").click()
    commits = page.get_by_test_id("commit")
    expect(commits).to_have_count(2)
    expect(commits.first).to_contain_text("Renamed scene 'Opening' to 'Prologue'")
    expect(commits.first).to_contain_text("Current")
    first = commits.last
    expect(first).to_contain_text("Created the project with 3 scenes")
    short = first.get_by_test_id("commit-sha").inner_text()
    first.click()
    bar = page.get_by_test_id("version-bar")
    expect(bar).to_contain_text(f"Viewing version {short} — read-only")
    expect(page.get_by_role("group", name="Scenes of this version")).to_contain_text("Opening")
    version_canvas = page.get_by_role("tabpanel", name="History").get_by_test_id("scene-canvas")
    expect(version_canvas).to_have_attribute("data-readonly", "true")
    expect(version_canvas.get_by_test_id("graph-node")).to_have_count(3)
    page.wait_for_load_state("networkidle")
    screenshot(page, "projects-history-version")

    bar.get_by_role("button", name="Restore this version").click()
    confirm = page.get_by_role("dialog", name=f"Restore version {short}?")
    expect(confirm).to_contain_text("adds a new version")
    confirm.get_by_role("button", name="Restore this version").click()
    expect(confirm).to_be_hidden()
    expect(page.get_by_role("tab", name="Scene View")).to_have_attribute("aria-selected", "true")
    expect(_tree_item(page, "Opening")).to_be_visible()
    expect(_tree_item(page, "Prologue")).to_have_count(0)
    scenes = [s["name"] for s in _project(page, studio_url, project["id"])["scenes"]]
    assert scenes == ["Opening", "Confrontation", "Resolution"]

    page.get_by_role("tab", name="History").click()
    expect(page.get_by_test_id("commit")).to_have_count(3)
    assert console.errors == []


def test_restoring_the_current_version_says_why_nothing_changes(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(desktop, studio_url, "Steady")
    page.goto(f"{studio_url}/projects/{project['id']}")
    page.get_by_role("tab", name="History").click()
    page.get_by_test_id("commit").first.click()
    bar = page.get_by_test_id("version-bar")
    expect(bar).to_contain_text("read-only")
    expect(bar.get_by_role("button", name="Restore this version")).to_have_count(0)  # it is the current one
    bar.get_by_role("button", name="Back to current").click()
    expect(page.get_by_role("tab", name="Scene View")).to_have_attribute("aria-selected", "true")
    assert console.errors == []


def test_scenes_are_added_reordered_duplicated_and_deleted_in_the_tree(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    project = create_project(desktop, studio_url, "Cutting room", "storyboard")
    page.goto(f"{studio_url}/projects/{project['id']}")
    scenes = page.get_by_test_id("tree-scene").get_by_test_id("tree-label")
    expect(scenes).to_have_text(["Opening", "Confrontation", "Resolution"])

    page.get_by_role("button", name="New scene").click()
    field = page.get_by_role("textbox", name="Scene name")
    expect(field).to_be_focused()
    field.fill("Epilogue")
    field.press("Enter")
    expect(scenes).to_have_text(["Opening", "Confrontation", "Resolution", "Epilogue"])
    expect(page.get_by_test_id("scene-name")).to_have_text("Epilogue")

    epilogue = _tree_item(page, "Epilogue")
    epilogue.focus()
    page.keyboard.press("Alt+ArrowUp")
    expect(scenes).to_have_text(["Opening", "Confrontation", "Epilogue", "Resolution"])
    _tree_item(page, "Opening").hover()
    _tree_item(page, "Opening").get_by_role("button", name="Actions for scene Opening").click()
    page.get_by_role("menuitem", name="Move down").click()
    expect(scenes).to_have_text(["Confrontation", "Opening", "Epilogue", "Resolution"])

    # Drag and drop: Resolution dropped on the top half of Confrontation goes first.
    _tree_item(page, "Resolution").drag_to(_tree_item(page, "Confrontation"), target_position={"x": 40, "y": 2})
    expect(scenes).to_have_text(["Resolution", "Confrontation", "Opening", "Epilogue"])

    _tree_item(page, "Opening").hover()
    _tree_item(page, "Opening").get_by_role("button", name="Actions for scene Opening").click()
    page.get_by_role("menuitem", name="Duplicate").click()
    expect(scenes).to_have_text(["Resolution", "Confrontation", "Opening", "Opening copy", "Epilogue"])

    _tree_item(page, "Epilogue").focus()
    page.keyboard.press("Delete")
    confirm = page.get_by_role("dialog", name="Delete scene “Epilogue”?")
    confirm.get_by_role("button", name="Delete scene").click()
    expect(scenes).to_have_text(["Resolution", "Confrontation", "Opening", "Opening copy"])
    listed = [s["name"] for s in _project(page, studio_url, project["id"])["scenes"]]
    assert sorted(listed) == sorted(["Resolution", "Confrontation", "Opening", "Opening copy"])
    assert console.errors == []


def test_a_moved_node_is_saved_and_a_viewer_cannot_move_it(
        browser_context_for_viewer: tuple[BrowserContext, dict], page: Page, studio_url: str,
        console: ConsoleLog) -> None:
    viewer, project = browser_context_for_viewer
    page.goto(f"{studio_url}/projects/{project['id']}")
    node = page.get_by_test_id("graph-node").filter(has_text="Beat")
    expect(node).to_be_visible()
    box = node.bounding_box()
    assert box is not None
    scene_id = project["scenes"][0]["id"]  # type: ignore[index]
    graph_url = f"{studio_url}/api/v1/projects/{project['id']}/scenes/{scene_id}/graph"
    before = page.request.get(graph_url).json()["nodes"]["prompt"]["position"]
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    page.mouse.move(box["x"] + 30, box["y"] + 10)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(box["x"] + 30 + 10 * step, box["y"] + 10 + 15 * step)
    page.mouse.up()
    # The move travels through the scene's live document; the server's graph has it at once. The drag's steps
    # arrive one after another: the place it ends at is the one read twice in a row, 0.3 s apart (the first
    # change seen may be a step on the way, which the viewer's check below would then compare against).
    seen = [before]

    def settled() -> dict | None:
        position = page.request.get(graph_url).json()["nodes"]["prompt"]["position"]
        moved = position if position == seen[-1] and position != before else None
        seen.append(position)
        return moved

    after = wait_until(settled, interval=0.3, message="the move to settle on the server")
    assert after["x"] > before["x"] and after["y"] > before["y"], (before, after)

    # Someone who may only look: no scene actions, a read-only canvas that does not move.
    look = viewer.new_page()
    console.watch(look)
    look.goto(f"{studio_url}/projects/{project['id']}")
    expect(look.get_by_test_id("graph-node")).to_have_count(3)
    expect(look.get_by_test_id("panel-left").get_by_text("View only")).to_be_visible()
    expect(look.get_by_role("button", name="New scene")).to_have_count(0)
    expect(look.get_by_test_id("scene-status")).to_contain_text("View only")
    expect(look.get_by_test_id("scene-canvas")).to_have_attribute("data-readonly", "true")
    viewer_node = look.get_by_test_id("graph-node").filter(has_text="Beat")
    start = viewer_node.bounding_box()
    assert start is not None
    look.mouse.move(start["x"] + 30, start["y"] + 10)
    look.mouse.down()
    look.mouse.move(start["x"] + 130, start["y"] + 110, steps=6)
    look.mouse.up()
    assert look.request.get(graph_url).json()["nodes"]["prompt"]["position"] == after

    # The project's workspace became the viewer's current one; a bulk change they may not make
    # says why, project by project.
    look.get_by_role("link", name="Mediastudio home").click()
    expect(look.get_by_test_id("workspace-name")).to_have_text("Review room")
    dailies = _card(look, "Dailies")
    expect(dailies).to_contain_text("View only")
    dailies.get_by_role("button", name="Actions for Dailies").click()
    expect(look.get_by_role("menuitem", name="Archive")).to_have_count(0)
    look.keyboard.press("Escape")
    dailies.get_by_role("checkbox", name="Select Dailies").check()
    look.get_by_role("toolbar", name="Selected projects").get_by_role("button", name="Archive").click()
    expect(look.get_by_test_id("gallery-notice")).to_contain_text("No project was archived.")
    expect(look.get_by_test_id("bulk-failures")).to_contain_text("Dailies:")
    expect(dailies).to_be_visible()
    assert console.errors == []


def test_a_project_is_exported_and_imported_again(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog, tmp_path: Path) -> None:
    create_project(desktop, studio_url, "Export me", "text-to-image")
    _gallery(page, studio_url)
    _card(page, "Export me").get_by_role("button", name="Actions for Export me").click()
    with page.expect_download() as download_info:
        page.get_by_role("menuitem", name="Export .msproj").click()
    download = download_info.value
    assert download.suggested_filename == "Export me.msproj"
    bundle = tmp_path / download.suggested_filename
    download.save_as(bundle)
    assert bundle.read_bytes()[:2] == b"PK"  # a zip

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import").click()
    chooser.value.set_files(bundle)
    expect(_card(page, "Export me")).to_have_count(2)
    expect(page.get_by_test_id("import-item").first).to_contain_text("Imported")

    # Dropped anywhere on the gallery: the overlay says what happens, the drop imports.
    page.evaluate(DROP, {"name": "Export me.msproj", "bytes": list(bundle.read_bytes()), "drop": False})
    expect(page.get_by_test_id("drop-overlay")).to_contain_text("Drop to import")
    page.evaluate(DROP, {"name": "Export me.msproj", "bytes": list(bundle.read_bytes()), "drop": True})
    expect(page.get_by_test_id("drop-overlay")).to_have_count(0)
    expect(_card(page, "Export me")).to_have_count(3)

    # A file that is not a bundle: the server's words, and what to do.
    broken = tmp_path / "broken.msproj"
    broken.write_bytes(b"not a zip at all")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import").click()
    chooser.value.set_files(broken)
    problem = page.get_by_test_id("import-problem")
    expect(problem).to_contain_text("not a zip archive")
    expect(problem).to_contain_text("Export the project again")
    expect(_card(page, "Export me")).to_have_count(3)
    screenshot(page, "projects-import")
    assert console.unexpected(400) == []


def test_selected_projects_export_as_one_zip(
        desktop: BrowserContext, page: Page, studio_url: str, console: ConsoleLog) -> None:
    create_project(desktop, studio_url, "Reel one")
    create_project(desktop, studio_url, "Reel two")
    _gallery(page, studio_url)
    page.get_by_role("checkbox", name="Select all").check()
    with page.expect_download() as download_info:
        page.get_by_role("toolbar", name="Selected projects").get_by_role("button", name="Export").click()
    assert download_info.value.suggested_filename.endswith(".zip")
    expect(page.get_by_test_id("gallery-notice")).to_contain_text("2 projects exported")
    assert console.errors == []


def test_the_gallery_and_the_tree_work_on_a_phone(
        phone: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    create_project(phone, studio_url, "Pocket film", "storyboard")
    create_project(phone, studio_url, "Second take")
    page = phone.new_page()
    console.watch(page)
    _gallery(page, studio_url)
    cards = page.get_by_test_id("project-card")
    expect(cards).to_have_count(2)
    first, second = (cards.nth(i).bounding_box() for i in range(2))
    assert first is not None and second is not None
    assert second["y"] >= first["y"] + first["height"], "one column"
    assert first["width"] >= PHONE["width"] - 40
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    cards.first.get_by_role("checkbox").tap()
    bar = page.get_by_test_id("bulk-bar")
    expect(bar).to_contain_text("1 selected")
    box = bar.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["y"] + box["height"] <= PHONE["height"] + 1
    for button in bar.get_by_role("button").all():
        size = button.bounding_box()
        assert size is not None and size["height"] >= 44 and size["x"] + size["width"] <= PHONE["width"]
    screenshot(page, "projects-phone-gallery")
    bar.get_by_role("button", name="Clear the selection").tap()

    page.get_by_test_id("new-project").tap()
    dialog = page.get_by_role("dialog", name="New project")
    expect(dialog.get_by_test_id("template-storyboard")).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    screenshot(page, "projects-phone-new-dialog")
    dialog.get_by_role("button", name="Cancel").tap()

    _card(page, "Pocket film").get_by_role("link", name="Pocket film").tap()
    page.get_by_test_id("tab-browser").tap()
    row = _tree_item(page, "Resolution")
    row_box = row.bounding_box()
    assert row_box is not None and row_box["height"] >= 44, "tree rows are touch-sized"
    screenshot(page, "projects-phone-tree")
    row.tap()
    expect(page.get_by_test_id("panel-center")).to_be_visible()  # a scene tapped opens on the canvas
    expect(page.get_by_test_id("scene-name")).to_have_text("Resolution")
    assert console.errors == []


def test_a_project_link_opens_after_logging_in_and_a_wrong_one_says_so(
        anonymous: BrowserContext, studio_url: str, console: ConsoleLog) -> None:
    account = new_account("link")
    with ApiClient(studio_url) as client:
        client.register(account.username, account.password, display_name=account.display_name)
        answer = client.post("/api/v1/projects", json={"name": "Shared cut", "template": "storyboard"})
        assert answer.status_code == 201, answer.text
        project = answer.json()
    page = anonymous.new_page()
    console.watch(page)
    page.goto(f"{studio_url}/projects/{project['id']}")
    expect(page).to_have_url(f"{studio_url}/login?next=%2Fprojects%2F{project['id']}")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{studio_url}/projects/{project['id']}")
    expect(_tree_item(page, "Opening")).to_be_visible()
    expect(page).to_have_title("Shared cut · Mediastudio")

    page.goto(f"{studio_url}/projects/p_0000000000000000")
    expect(page.get_by_test_id("project-problem")).to_contain_text("No project 'p_0000000000000000' is visible to you.")
    expect(page.get_by_test_id("panel-center")).to_contain_text("This project cannot be opened")
    page.get_by_role("link", name="All projects").click()
    expect(_card(page, "Shared cut")).to_be_visible()
    assert console.unexpected(404) == []


DROP = """({ name, bytes, drop }) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], name, { type: 'application/zip' }));
    const fire = (type) => document.body.dispatchEvent(
        new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    if (!drop) { fire('dragenter'); fire('dragover'); } else { fire('drop'); }
}"""
