"""A write of a scene does what that write needs and no more: it opens no other scene file, it touches no index
row but its project's, and what it does in the database happens after it lets go of the project's folder, so
writers of one project do not queue behind one another's database work."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from test_scene_reads import _admin, opened

from mediastudio.projects.repo import PENDING, ProjectRepo
from mediastudio.settings import Settings


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements every engine runs inside the block."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def _writes(seen: list[str]) -> list[str]:
    """INSERT/UPDATE/DELETE statements, named by verb and table."""
    found = []
    for statement in seen:
        match = re.match(r"(INSERT INTO|UPDATE|DELETE FROM) (\w+)", statement)
        if match:
            found.append(f"{match.group(1).split()[0]} {match.group(2)}")
    return found


def _project_with_scenes(client: TestClient, settings: Settings, csrf: dict[str, str]) -> tuple[dict, Path, list]:
    project = client.post("/api/v1/projects", json={"name": "Many scenes"}, headers=csrf).json()
    assert client.patch(f"/api/v1/projects/{project['id']}", json={"tags": ["noir", "short"]},
                        headers=csrf).status_code == 200
    made = [client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": f"Scene {i}"}, headers=csrf).json()
            for i in range(4)]
    folder = next(Path(settings.data_dir, "workspaces").glob(f"*/projects/{project['id']}"))
    (folder / "scenes" / f"{made[1]['id']}.json").write_text("{ not json")  # a damaged file does not matter
    return project, folder, made


def test_creating_or_renaming_a_scene_opens_no_other_scene_file(client: TestClient, settings: Settings) -> None:
    csrf = _admin(client)
    project, _, made = _project_with_scenes(client, settings, csrf)

    with opened() as seen:
        created = client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "New"}, headers=csrf)
    assert created.status_code == 201, created.text
    others = [entry for entry in seen if "/scenes/" in entry and created.json()["id"] not in entry]
    assert not others, others

    with opened() as seen:
        renamed = client.patch(f"/api/v1/projects/{project['id']}/scenes/{made[0]['id']}", json={"name": "Renamed"},
                               headers=csrf)
    assert renamed.status_code == 200, renamed.text
    others = [entry for entry in seen if "/scenes/" in entry and made[0]["id"] not in entry]
    assert not others, others
    assert client.get(f"/api/v1/projects/{project['id']}").json()["scene_count"] == 6


def test_a_scene_write_changes_no_index_row_but_its_projects(client: TestClient, settings: Settings) -> None:
    csrf = _admin(client)
    project, _, made = _project_with_scenes(client, settings, csrf)

    with statements() as seen:
        created = client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "New"}, headers=csrf)
        renamed = client.patch(f"/api/v1/projects/{project['id']}/scenes/{made[0]['id']}", json={"name": "Renamed"},
                               headers=csrf)
    assert created.status_code == 201 and renamed.status_code == 200
    assert _writes(seen) == ["UPDATE projects", "UPDATE projects"], _writes(seen)
    assert not [s for s in seen if "project_tags" in s], "a scene write reads or rewrites the project's tags"
    again = client.get(f"/api/v1/projects/{project['id']}").json()
    assert again["scene_count"] == 6 and again["tags"] == ["noir", "short"]


def test_renaming_a_project_leaves_its_tag_rows_unread_and_a_tag_change_rewrites_them(client: TestClient,
                                                                                       settings: Settings) -> None:
    """A project's rename (or description, cover, archive) refreshes the index row from project.json but does not
    read the project's tag rows to compare them: only a change of the tags does (the rename read them every time,
    a sixth of its cost)."""
    csrf = _admin(client)
    project, _, _ = _project_with_scenes(client, settings, csrf)
    with statements() as seen:
        renamed = client.patch(f"/api/v1/projects/{project['id']}", json={"name": "Night shift",
                                                                        "description": "Second cut"}, headers=csrf)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Night shift"
    assert not [s for s in seen if "project_tags" in s], "a rename read or rewrote the project's tags"
    with statements() as seen:
        tagged = client.patch(f"/api/v1/projects/{project['id']}", json={"tags": ["noir", "heist"]}, headers=csrf)
    assert tagged.status_code == 200 and [s for s in seen if "project_tags" in s]
    again = client.get(f"/api/v1/projects/{project['id']}").json()
    assert again["name"] == "Night shift" and again["description"] == "Second cut"
    assert sorted(again["tags"]) == ["heist", "noir"]
    found = client.get("/api/v1/projects", params={"tag": "heist"}).json()["items"]
    assert [p["id"] for p in found] == [project["id"]]  # the tag rows (the filter reads them) follow the change


def test_creating_scenes_one_after_another_lists_the_scenes_folder_no_more(client: TestClient,
                                                                           settings: Settings) -> None:
    """A new scene is numbered by the count of scene files, kept while the folder is unchanged: listing a folder
    of thousands of scenes under the project's lock, twice per creation, made each creation slower than the last.
    A file added or removed by anyone else is still counted."""
    csrf = _admin(client)
    project, folder, _ = _project_with_scenes(client, settings, csrf)
    url = f"/api/v1/projects/{project['id']}/scenes"
    assert client.post(url, json={"name": "First"}, headers=csrf).status_code == 201  # the count is kept from here

    with opened() as seen:
        made = [client.post(url, json={"name": f"Burst {i}"}, headers=csrf).json() for i in range(3)]
    listed = [entry for entry in seen if entry.startswith(("os.scandir", "os.listdir", "glob.glob"))
              and entry.rstrip("/").endswith("scenes")]
    assert not listed, listed
    assert [scene["order"] for scene in made] == [6, 7, 8]

    (folder / "scenes" / "sc_byhand.json").write_text(  # a file put there by hand
        '{"name": "By hand", "order": 9, "graph": {"nodes": {}, "edges": {}}}')
    assert client.post(url, json={"name": "After"}, headers=csrf).json()["order"] == 10
    assert client.delete(f"{url}/{made[0]['id']}", headers=csrf).status_code == 204
    assert client.post(url, json={"name": "Last"}, headers=csrf).json()["order"] == 10  # the damaged file counts
    names = [s["name"] for s in client.get(url).json()["items"]]
    assert names[-4:] == ["Burst 2", "By hand", "After", "Last"], names
    assert client.get(f"/api/v1/projects/{project['id']}").json()["scene_count"] == 11


def test_a_new_scene_is_fsynced_before_its_answer_and_holds_its_project_for_one_fsync(
        client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Durable when answered (its file, its name in the folder, its line in the pending journal: each fsynced), and
    the other writers of the project wait only for the file's fsync: the folder's and the journal's come after
    the creation lets go of the project, before it answers."""
    csrf = _admin(client)
    project = client.post("/api/v1/projects", json={"name": "Durable"}, headers=csrf).json()
    folder = next(Path(settings.data_dir, "workspaces").glob(f"*/projects/{project['id']}"))
    lock = ProjectRepo(folder).lock
    synced: list[tuple[str, bool]] = []
    fsync = os.fsync

    def recorded(fd: int) -> None:
        fsync(fd)
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), lock._is_owned()))  # type: ignore[attr-defined]

    monkeypatch.setattr(os, "fsync", recorded)
    created = client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "Kept"}, headers=csrf)
    assert created.status_code == 201, created.text
    monkeypatch.undo()

    scene = created.json()["id"]
    assert len(synced) == 3, synced
    (written, written_held), (named, named_held), (journal, journal_held) = synced
    assert Path(written).parent == folder / "scenes" and Path(written).name.startswith(f".{scene}.json.")
    assert written_held
    assert (Path(named), named_held) == (folder / "scenes", False)
    assert (Path(journal), journal_held) == (folder / ".git" / PENDING, False)
    assert any(scene in change.paths[0] for change in ProjectRepo(folder).pending())


def test_a_new_scene_costs_the_index_one_update_of_its_row_and_no_flush(client: TestClient,
                                                                          settings: Settings) -> None:
    csrf = _admin(client)
    project, _, _ = _project_with_scenes(client, settings, csrf)
    flushes: list[object] = []

    def flushed(session: object, _context: object) -> None:
        flushes.append(session)

    event.listen(Session, "after_flush", flushed)
    try:
        with statements() as seen:
            created = client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "Fifth"}, headers=csrf)
    finally:
        event.remove(Session, "after_flush", flushed)
    assert created.status_code == 201, created.text
    assert not flushes  # the row is written by one statement of its own, not by the ORM's unit of work
    updates = [s for s in seen if s.startswith("UPDATE projects")]
    assert len(updates) == 1 and "SET contributors=?, scene_count=?, updated_at=?" in updates[0], updates
    # what the index now says is what the folder says, and who wrote it when
    shown = client.get(f"/api/v1/projects/{project['id']}").json()
    assert shown["scene_count"] == 6
    assert shown["updated_at"] >= project["updated_at"]


def test_a_renamed_scene_is_fsynced_before_its_answer_and_holds_its_project_for_one_fsync(
        client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    csrf = _admin(client)
    project = client.post("/api/v1/projects", json={"name": "Durable"}, headers=csrf).json()
    scene = client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "Old"}, headers=csrf).json()
    folder = next(Path(settings.data_dir, "workspaces").glob(f"*/projects/{project['id']}"))
    lock = ProjectRepo(folder).lock
    synced: list[tuple[str, bool]] = []
    fsync = os.fsync

    def recorded(fd: int) -> None:
        fsync(fd)
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), lock._is_owned()))  # type: ignore[attr-defined]

    monkeypatch.setattr(os, "fsync", recorded)
    renamed = client.patch(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}", json={"name": "New"},
                           headers=csrf)
    monkeypatch.undo()
    assert renamed.status_code == 200 and renamed.json()["name"] == "New", renamed.text
    assert len(synced) == 3, synced
    (written, written_held), (named, named_held), (journal, journal_held) = synced
    assert Path(written).name.startswith(f".{scene['id']}.json.") and written_held
    assert (Path(named), named_held) == (folder / "scenes", False)
    assert (Path(journal), journal_held) == (folder / ".git" / PENDING, False)
    assert json.loads((folder / "scenes" / f"{scene['id']}.json").read_text())["name"] == "New"


def test_two_changes_to_a_project_at_once_both_keep(client: TestClient, settings: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """project.json is read, changed and written under the folder's lock: a rename and a new description sent
    at once are both in the file (before, each request wrote back what it read: the later one undid the other)."""
    csrf = _admin(client)
    project = client.post("/api/v1/projects", json={"name": "Both"}, headers=csrf).json()
    folder = next(Path(settings.data_dir, "workspaces").glob(f"*/projects/{project['id']}"))
    fsync = os.fsync

    def slow(fd: int) -> None:  # a slow disk: the two requests overlap between their read and their write
        fsync(fd)
        time.sleep(0.05)

    monkeypatch.setattr(os, "fsync", slow)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda change: client.patch(f"/api/v1/projects/{project['id']}", json=change,
                                                            headers=csrf),
                                [{"name": "Renamed"}, {"description": "Described"}]))
    monkeypatch.undo()
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    meta = json.loads((folder / "project.json").read_text())
    assert (meta["name"], meta["description"]) == ("Renamed", "Described")
    shown = client.get(f"/api/v1/projects/{project['id']}").json()
    assert (shown["name"], shown["description"]) == ("Renamed", "Described")


def test_a_project_change_is_answered_from_its_own_transaction(client: TestClient, settings: Settings,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A rename (or any change of project.json) answers with the project as the change left it, read in the
    change's transaction: the rights are checked once, not again in a session of the answer's own (that second
    read was a tenth of a rename's cost). The answer still names the people and the cover a project shows."""
    from mediastudio.projects import access

    csrf = _admin(client)
    project, _, _ = _project_with_scenes(client, settings, csrf)
    checks: list[str] = []
    real = access.project_and_role

    def counted(db: Session, user: object, project_id: str) -> object:
        checks.append(project_id)
        return real(db, user, project_id)  # type: ignore[arg-type]

    monkeypatch.setattr(access, "project_and_role", counted)
    renamed = client.patch(f"/api/v1/projects/{project['id']}", json={"name": "Night shift", "archived": True},
                           headers=csrf)
    assert renamed.status_code == 200, renamed.text
    assert checks == [project["id"]]
    answer = renamed.json()
    assert answer["name"] == "Night shift" and answer["archived"] is True and answer["role"] == "owner"
    assert sorted(answer["tags"]) == ["noir", "short"]  # unchanged, not read again
    assert [person["username"] for person in answer["contributors"]] == ["ana"]
    assert {k: v for k, v in client.get(f"/api/v1/projects/{project['id']}").json().items()
            if k in answer and k != "updated_at"} == {k: v for k, v in answer.items() if k != "updated_at"}
