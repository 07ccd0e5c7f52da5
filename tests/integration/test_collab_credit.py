"""Who gets credit for a live edit, under the interleavings that used to credit the wrong person.

The scene's rooms are driven directly (real SQLite, update log, git, pycrdt): each connection is a peer
whose sends the test can hold, so a watcher's message is in flight at the exact moment an editor's
update lands, every time. Only updates that changed the document earn credit, in the activity and in
the commit.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, create_sync_message, create_update_message, write_message
from sqlmodel import col, select

from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.auth.tables import User
from mediastudio.collab import awareness
from mediastudio.collab.activity import Activity
from mediastudio.collab.document import apply_graph, graph_from_doc
from mediastudio.collab.room import Member
from mediastudio.collab.rooms import LiveScene, Rooms
from mediastudio.graph import Graph
from mediastudio.projects import scenes, service
from mediastudio.projects.access import project_folder
from mediastudio.projects.tables import Project
from mediastudio.settings import Settings
from mediastudio.studio import Studio
from support import run_async


class HeldPeer:
    """A connection whose next send can be held until the test lets it go."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.holding = False
        self.held = asyncio.Event()  # a send is waiting
        self.release = asyncio.Event()

    def hold_next(self) -> None:
        self.holding, self.held, self.release = True, asyncio.Event(), asyncio.Event()

    async def send(self, data: bytes) -> None:
        if self.holding:
            self.holding = False
            self.held.set()
            await self.release.wait()
        self.sent.append(data)

    async def close(self, code: int, reason: str) -> None:
        pass


class Person:
    """A browser: its copy of the document and its connection to the room."""

    def __init__(self, user: User, live: LiveScene) -> None:
        self.user = user
        self.peer = HeldPeer()
        self.member = Member(peer=self.peer, user={"id": user.id, "name": user.display_name, "color": "#fff"},
                             can_write=True)
        self.doc: Doc[Any] = Doc()
        self.doc.apply_update(live.room.doc.get_update())

    def update(self, change: Any) -> bytes:
        """An edit of its own copy, as a document update."""
        graph = graph_from_doc(self.doc).model_dump()
        change(graph)
        before = self.doc.get_state()
        apply_graph(self.doc, Graph.model_validate(graph))
        return self.doc.get_update(before)

    def edit(self, change: Any) -> bytes:
        """The same, as the message a browser sends."""
        return create_update_message(self.update(change))

    def state_reply(self) -> bytes:
        """What a client sends on joining or reconnecting: everything it holds (nothing new)."""
        return create_update_message(self.doc.get_update())

    def step1(self) -> bytes:
        return create_sync_message(self.doc)

    def presence(self, clock: int) -> bytes:
        return bytes([1]) + write_message(awareness.encode([(self.doc.client_id, clock, {"panel": "scene"})]))


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    yield made
    made.db.close()


@pytest.fixture
def film(studio: Studio) -> tuple[User, User, Project, str]:
    """Ana's project from the text-to-image template, its scene, and Bob (the room does not check roles:
    the sockets do, before a member joins)."""
    with studio.db.transaction() as db:
        ana = create_user(db, username="ana", password="violet tram sixteen")
        bob = create_user(db, username="bob", password="amber kite seventy")
        project = service.create_project(db, studio.settings, ana, name="Film", workspace_id=None,
                                         template="text-to-image")
    with studio.db.session() as db:
        scene = scenes.list_scenes(db, studio.settings, ana, project.id)[0]
    return ana, bob, project, scene["id"]


def set_steps(value: int) -> Any:
    return lambda graph: graph["nodes"]["generate"]["params"].__setitem__("steps", value)


def credits(studio: Studio, project_id: str) -> list[tuple[str, str]]:
    with studio.db.session() as db:
        rows = db.exec(select(Activity).where(Activity.project_id == project_id).order_by(col(Activity.id)))
        return [(row.user_id, row.text) for row in rows]


def last_commit(studio: Studio, project: Project) -> str:
    folder = project_folder(studio.settings, project)
    return subprocess.run(["git", "-C", str(folder), "log", "-1", "--format=%ae|%b"], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_a_watcher_whose_messages_cross_an_edit_gets_no_credit(studio: Studio, film: tuple) -> None:
    """While one edit lands, three messages of a watcher are being handled: its sync step 1 (a reconnect;
    the reply is being sent), its presence (being relayed) and its answer on joining (all it holds, nothing
    new; it waits for the room while the edit holds it)."""
    ana, bob, project, scene_id = film
    rooms: Rooms = studio.rooms

    async def scenario() -> None:
        live = await rooms.open(project, scene_id)
        editor, watcher, third = Person(ana, live), Person(bob, live), Person(ana, live)
        for person in (editor, watcher, third):
            await rooms.join(live, person.member)
        in_flight = []
        for holder, message in ((watcher.peer, watcher.step1()), (editor.peer, watcher.presence(1))):
            holder.hold_next()
            in_flight.append(asyncio.create_task(rooms.receive(live, watcher.member, message)))
            await asyncio.wait_for(holder.held.wait(), 5)
        third.peer.hold_next()  # the edit's relay: the edit holds the room
        editing = asyncio.create_task(rooms.receive(live, editor.member, editor.edit(set_steps(31))))
        await asyncio.wait_for(third.peer.held.wait(), 5)
        in_flight.append(asyncio.create_task(rooms.receive(live, watcher.member, watcher.state_reply())))
        await asyncio.sleep(0.05)  # the answer now waits for the room
        assert not any(task.done() for task in in_flight)
        for holder in (watcher.peer, editor.peer, third.peer):
            holder.release.set()
        await asyncio.wait_for(asyncio.gather(editing, *in_flight), 5)
        await rooms.save_version(project.id, "Saved version: review")

    run_async(scenario())
    assert credits(studio, project.id) == [(ana.id, "changed steps 30→31 on 'Text to image'")]
    commit = last_commit(studio, project)
    assert commit.startswith(f"{ana.id}@") and "Co-authored-by" not in commit, commit


def test_two_editors_in_one_window_are_each_credited_with_their_own_change(studio: Studio, film: tuple) -> None:
    ana, bob, project, scene_id = film
    rooms: Rooms = studio.rooms

    async def scenario() -> None:
        live = await rooms.open(project, scene_id)
        first, second = Person(ana, live), Person(bob, live)
        await rooms.join(live, first.member)
        await rooms.join(live, second.member)
        for _ in range(3):  # Ana makes more updates than Bob: she would be the window's lead
            await rooms.receive(live, first.member, first.edit(set_steps(30 + _ + 1)))
            second.doc.apply_update(first.doc.get_update())
        await rooms.receive(live, second.member, second.edit(
            lambda g: g["nodes"]["seed"]["params"].__setitem__("value", 7)))
        await rooms.save_version(project.id)

    run_async(scenario())
    assert sorted(credits(studio, project.id)) == sorted([
        (ana.id, "changed steps 30→33 on 'Text to image'"),
        (bob.id, "changed value 42→7 on 'Seed'"),
    ])
    commit = last_commit(studio, project)
    assert commit.startswith(f"{ana.id}@") and "Co-authored-by: bob" in commit, commit


def test_after_a_restart_only_those_whose_updates_changed_the_scene_are_credited(
        tmp_path: Path, studio: Studio, film: tuple) -> None:
    """Updates the log holds beyond the scene file are committed on start: a watcher's answers, logged
    like any update, are no authorship."""
    ana, bob, project, scene_id = film

    async def before_the_crash() -> None:
        live = await studio.rooms.open(project, scene_id)
        editor, watcher = Person(ana, live), Person(bob, live)
        await studio.rooms.join(live, watcher.member)
        await studio.rooms.receive(live, watcher.member, watcher.state_reply())
        await live.room.apply(editor.update(set_steps(44)), ana.id)
        live.room.log.close()  # the process dies: nothing more is written

    run_async(before_the_crash())
    restarted = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    try:
        assert run_async(restarted.rooms.recover()) == 1
        assert credits(restarted, project.id) == [(ana.id, "changed steps 30→44 on 'Text to image'")]
        commit = last_commit(restarted, project)
        assert commit.startswith(f"{ana.id}@") and "Co-authored-by" not in commit, commit
    finally:
        restarted.db.close()


def test_a_scene_write_records_its_activity_in_one_insert_without_an_object_per_change(
        studio: Studio, film: tuple) -> None:
    """A scene written after a burst of edits records one activity row per change: with many scenes edited at
    once that is many rows a second, so they go in as one INSERT of plain rows, not as ORM objects each
    flushed through the session (which cost most of the write's time)."""
    from sqlalchemy import event

    from support import sql_statements

    ana, bob, project, scene_id = film
    rooms: Rooms = studio.rooms
    built: list[object] = []

    def constructed(target: object, *_: object) -> None:
        built.append(target)

    async def scenario() -> None:
        live = await rooms.open(project, scene_id)
        first, second = Person(ana, live), Person(bob, live)
        await rooms.join(live, first.member)
        await rooms.join(live, second.member)
        await rooms.receive(live, first.member, first.edit(set_steps(44)))
        await rooms.receive(live, second.member, second.edit(
            lambda g: g["nodes"]["seed"]["params"].__setitem__("value", 9)))
        await rooms._write_file(live)

    event.listen(Activity, "init", constructed)
    try:
        with sql_statements(studio.db.engine, lambda s: "INSERT INTO activity" in s) as inserts:
            run_async(scenario())
    finally:
        event.remove(Activity, "init", constructed)
    assert sorted(credits(studio, project.id)) == sorted([
        (ana.id, "changed steps 30→44 on 'Text to image'"),
        (bob.id, "changed value 42→9 on 'Seed'"),
    ])
    assert len(inserts) == 1, inserts
    assert built == []


def test_scenes_written_together_record_their_activity_in_one_insert_and_one_trip_to_a_thread(
        studio: Studio, film: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many scenes edited at once go quiet at about the same moment: the keeper writes all that are due in one
    trip to a worker thread and records their activity in one transaction (a thread hand-over and a transaction
    per scene were most of what a scene write cost the event loop), each change still credited to its author."""
    from support import sql_statements

    ana, bob, project, _ = film
    rooms: Rooms = studio.rooms
    with studio.db.transaction() as db:
        for name in ("Two", "Three"):
            scenes.create_scene(db, studio.settings, ana, project.id, name=name)
    with studio.db.session() as db:
        scene_ids = [s["id"] for s in scenes.list_scenes(db, studio.settings, ana, project.id)]
    assert len(scene_ids) == 3
    hops: list[object] = []
    monkeypatch.setattr("mediastudio.collab.rooms.QUIET_S", 0.0)

    async def scenario() -> None:
        lives = [await rooms.open(project, scene_id) for scene_id in scene_ids]
        for index, live in enumerate(lives):
            person = Person(ana if index % 2 == 0 else bob, live)
            await rooms.join(live, person.member)
            await rooms.receive(live, person.member, person.edit(
                lambda g, i=index: g["nodes"].setdefault(f"extra{i}", {"type": "seed", "title": f"Extra {i}",
                                                                          "position": {"x": 0, "y": 0},
                                                                          "params": {"value": i}})))
        real = asyncio.to_thread

        async def counted(function: Any, *args: Any) -> Any:
            hops.append(function)
            return await real(function, *args)

        asyncio.to_thread = counted  # type: ignore[assignment]
        keeper = asyncio.create_task(rooms._keeper())  # its first tick finds all three due
        try:
            for _ in range(500):
                if not any(live.dirty_file for live in lives) and len(credits(studio, project.id)) >= 3:
                    break
                await asyncio.sleep(0.01)
        finally:
            keeper.cancel()
            asyncio.to_thread = real  # type: ignore[assignment]

    with sql_statements(studio.db.engine, lambda s: "INSERT INTO activity" in s) as inserts:
        run_async(scenario())
    assert len(inserts) == 1, inserts
    assert len(hops) == 1, hops
    assert sorted(credits(studio, project.id)) == sorted([
        (ana.id, "added 'Extra 0'"), (bob.id, "added 'Extra 1'"), (ana.id, "added 'Extra 2'")])
