"""All live scene rooms of a server: opened on demand, written to the scene file after a quiet spell,
committed to git when idle, on "Save version" and when the last person leaves.

Every write to a project's folder holds the project's lock (ProjectRepo.lock) and first checks that the
folder is still there: a project moved to the trash meanwhile is never recreated as a stray folder.
Before a project's folder moves (projects/moves.py), its rooms are saved, committed and closed (4410).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar.di import NamedDependency

from mediastudio.auth.tables import User
from mediastudio.collab.log import UpdateLog, WrittenMarks
from mediastudio.common import utcnow
from mediastudio.db import Database
from mediastudio.errors import Conflict, NotFound
from mediastudio.events.emit import emit
from mediastudio.graph import Graph
from mediastudio.projects import moves
from mediastudio.projects.access import project_folder
from mediastudio.projects.content import scene_graph, scene_path
from mediastudio.projects.events import ProjectActivity, ProjectChanged
from mediastudio.projects.files import graph_hash, read_json, write_json
from mediastudio.projects.history import LABEL_PREFIX, describe_changes, snapshot
from mediastudio.projects.live import LiveScenes
from mediastudio.projects.repo import Author, ProjectRepo
from mediastudio.projects.service import sync_index
from mediastudio.projects.tables import Project
from mediastudio.settings import Settings

if TYPE_CHECKING:  # pycrdt loads on the first live scene, not at start-up
    from mediastudio.collab.room import Member, Room

log = logging.getLogger("mediastudio")
QUIET_S = 1.5  # write the scene file after this long without changes
IDLE_S = 30.0  # commit after this long without changes
TICK_S = 0.5


class LiveScene:
    """A room plus what the server knows of its file and its last commit."""
    def __init__(self, project_id: str, folder: Path, room: Room, marks: WrittenMarks) -> None:
        self.project_id = project_id
        self.folder = folder
        self.room = room
        self.marks = marks
        self.written = marks.get(room.scene_id)
        self.dirty_file = False
        self.needs_commit = False
        self.file_graph: dict[str, Any] | None = None  # what the scene file holds (for activity)
        self.gone = False  # closed for a move or a deletion: nothing more is written for it


class Rooms(LiveScenes):
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db = settings, db
        self.presence: dict[str, Room] = {}  # project id → awareness-only Room (collab/controller.py)
        self.live: dict[tuple[str, str], LiveScene] = {}
        self.logs: dict[str, UpdateLog] = {}
        self.lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.moving: Counter[str] = Counter()  # projects whose folder is being moved: no room opens
        self.updates_applied = 0  # updates logged and relayed by every room since start (collab/metrics.py)

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._keeper())
        moves.serve(self.settings, self)

    async def stop(self) -> None:

        moves.unserve(self.settings, self)
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for scene in list(self.live.values()):
            await self._flush(scene, commit=True)
        for update_log in self.logs.values():
            update_log.close()

    def _count_applied(self, updates: int) -> None:
        self.updates_applied += updates

    def _scene_file(self, folder: Path, scene_id: str) -> Path:
        return scene_path(folder, scene_id)  # ids checked: a path never leads out of the project

    async def open(self, project: Any, scene_id: str) -> LiveScene:
        from mediastudio.collab.room import Room

        key = (project.id, scene_id)
        async with self.lock:
            if key in self.live:
                return self.live[key]
            if self.moving[project.id]:
                raise Conflict("This project is being moved (to or from the trash).",
                               hint="Reload the page in a moment.")
            folder = project_folder(self.settings, project)
            path = self._scene_file(folder, scene_id)
            if not path.is_file():
                raise NotFound(f"Project '{project.id}' has no scene '{scene_id}'.")
            scene = await asyncio.to_thread(read_json, path)
            update_log = self.logs.get(project.id) or UpdateLog(folder)
            self.logs[project.id] = update_log
            room = await asyncio.to_thread(Room.open, scene_id, update_log, scene_graph(scene))
            room.on_applied = self._count_applied
            live = LiveScene(project.id, folder, room, WrittenMarks(update_log))
            self.live[key] = live
        if live.written is not None and graph_hash(scene.get("graph") or {}) != live.written:
            await room.apply_graph(scene_graph(scene), "system")  # changed outside the studio: merge it in
            live.dirty_file = live.needs_commit = False
        return live

    async def recover(self) -> int:
        """Before serving: write and commit what the update logs hold beyond the scene files (a crash
        between an update and its file write). Returns how many scenes were brought up to date."""
        from sqlmodel import select


        with self.db.session() as db:
            projects = list(db.exec(select(Project)).all())
        recovered = 0
        for project in projects:
            folder = project_folder(self.settings, project)
            if not (folder / ".mediastudio" / "collab.sqlite").is_file():
                continue
            for path in sorted((folder / "scenes").glob("*.json")):
                live = await self.open(project, path.stem)
                if graph_hash(live.room.graph().model_dump()) != live.written:
                    authors = live.room.log.authors_since(live.room.scene_id, 0)
                    live.room.authors.update(authors)
                    live.room.window.update(authors)  # what each changed is not known after a restart
                    self._touched(live)
                    await self._flush(live, commit=True)
                    recovered += 1
                await self._close_if_empty(live)
        return recovered

    def live_graph(self, project_id: str, scene_id: str) -> Graph | None:
        live = self.live.get((project_id, scene_id))
        return live.room.graph() if live else None

    # -- edits from REST and from files -----------------------------------------------------------------
    async def apply_rest(self, project: Project, scene_id: str, graph: Graph, user_id: str) -> Graph:
        live = await self.open(project, scene_id)
        await live.room.apply_graph(graph, user_id)
        self._touched(live)
        if not live.room.members:
            await self._flush(live, commit=True)
            await self._close_if_empty(live)
        return live.room.graph()

    async def patch_reviews(self, project: Project, scene_id: str, changes: dict[str, dict[str, Any]], user_id: str,
                            message: str) -> Graph:
        from mediastudio.collab.document import patch_reviews

        live = await self.open(project, scene_id)
        missing = await live.room.apply_edit(lambda scratch: patch_reviews(scratch, changes), user_id)
        if missing:
            raise NotFound(f"The scene has no node '{missing[0]}' any more.", hint="Reload the board.")
        self._touched(live)
        await self._flush(live, commit=True, message=message)  # a review edit is a version of its own
        if not live.room.members:
            await self._close_if_empty(live)
        return live.room.graph()

    async def reload_from_files(self, project_id: str) -> None:
        """After a history restore: bring live rooms of the project to what the files now say."""
        for (pid, scene_id), live in list(self.live.items()):
            if pid != project_id:
                continue
            path = self._scene_file(live.folder, scene_id)
            if not path.is_file():
                await self.close_scene(pid, scene_id, reason="The scene was removed")
                continue
            scene = await asyncio.to_thread(read_json, path)
            await live.room.apply_graph(scene_graph(scene), "system")
            live.written = graph_hash(scene.get("graph") or {})
            live.file_graph = live.room.graph().model_dump()  # later activity is told from the restored graph
            await asyncio.to_thread(live.marks.set, scene_id, live.written)
            live.dirty_file = live.needs_commit = False

    async def close_scene(self, project_id: str, scene_id: str, reason: str) -> None:
        live = self.live.pop((project_id, scene_id), None)
        if live is None:
            return
        await live.room.shut(reason)
        live.gone = True
        for member in list(live.room.members):
            await member.close(4410, reason)

    async def close_project(self, project_id: str, reason: str) -> None:
        """Before the project's folder moves: save and commit every live scene (the edits that reached
        the server are in the files and the history that move with it), then close its sockets (4410)."""
        async with self.lock:
            closing = [live for key, live in list(self.live.items()) if key[0] == project_id]
            for live in closing:
                del self.live[(project_id, live.room.scene_id)]
        for live in closing:
            await live.room.shut(reason)  # waits for the update being applied; later ones are refused
            try:
                await self._flush(live, commit=True)
                await live.room.compact()
            finally:
                live.gone = True
                for member in list(live.room.members):
                    await member.close(4410, reason)
        presence = self.presence.get(project_id)
        for member in list(presence.members if presence else []):
            await member.close(4410, reason)
        update_log = self.logs.pop(project_id, None)
        if update_log is not None:
            await asyncio.to_thread(update_log.close)  # it lives in the folder that moves

    # -- members ----------------------------------------------------------------------------------------
    async def join(self, live: LiveScene, member: Member) -> None:
        await live.room.join(member)

    async def receive(self, live: LiveScene, member: Member, message: bytes) -> None:
        """Credit is not given here: another member's update may land while this message is handled. The
        room credits each update that changed the document as it applies it."""
        changed_before = live.room.changed_at
        await live.room.receive(member, message)
        if live.room.changed_at != changed_before:
            self._touched(live)

    async def leave(self, live: LiveScene, member: Member) -> None:
        await live.room.leave(member)
        if not live.room.members:
            try:
                await self._flush(live, commit=True)
                await self._close_if_empty(live)
            except Exception:  # the edits stay in the update log; the next open or start saves them
                log.exception("Saving scene %s after its last editor left failed", live.room.scene_id)

    async def save_version(self, project_id: str, label: str | None = None, by: str | None = None) -> str | None:
        """Write and commit every open scene of the project. With a label, all of it is one version named
        so, made even when nothing changed since the last commit (an empty commit): a person who names a
        version sees it in the History. Its authors: whoever changed the scenes since the last commit, else
        `by`, who saved it. Answers the labelled version's commit."""
        scenes = [live for (pid, _), live in list(self.live.items()) if pid == project_id]
        if label is None:
            for live in scenes:
                await self._flush(live, commit=True)
            return None
        authors: Counter[str] = Counter()
        for live in scenes:
            await self._write_file(live)
            authors.update(live.room.authors)
            live.room.authors.clear()
            live.needs_commit = False
        people = [a for a, _ in authors.most_common() if a != "system"] or ([by] if by else [])
        return await asyncio.to_thread(self._commit_version, project_id, people, label)

    # -- persistence ------------------------------------------------------------------------------------
    def _touched(self, live: LiveScene) -> None:
        live.dirty_file = live.needs_commit = True

    async def _close_if_empty(self, live: LiveScene) -> None:
        async with self.lock:
            if live.gone:
                return
            if not live.room.members and self.live.get((live.project_id, live.room.scene_id)) is live:
                del self.live[(live.project_id, live.room.scene_id)]
                await live.room.compact()

    async def _keeper(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            scenes = list(self.live.values())
            try:  # many scenes edited at once go quiet together: one trip to a thread writes them all
                await self._write_files([live for live in scenes
                                         if live.dirty_file and now - live.room.changed_at >= QUIET_S], each=True)
            except Exception:
                log.exception("Saving the scenes due failed")
            for live in scenes:
                try:
                    if live.needs_commit and now - live.room.changed_at >= IDLE_S:
                        await self._flush(live, commit=True)
                except Exception:
                    log.exception("Saving scene %s failed", live.room.scene_id)

    async def _write_file(self, live: LiveScene) -> None:
        await self._write_files([live])

    async def _write_files(self, scenes: list[LiveScene], each: bool = False) -> None:
        """Write the files of these scenes that changed since their last write, in one trip to a worker thread,
        and record what changed in one transaction. With `each`, a scene whose file fails is logged and the
        others are written; else its error is raised (after the others were written)."""
        jobs = []
        for live in scenes:
            if live.gone:
                continue
            try:
                graph = live.room.graph().model_dump()
            except Exception:
                if not each:
                    raise
                log.exception("Saving scene %s failed", live.room.scene_id)
                continue
            digest = graph_hash(graph)
            live.dirty_file = False
            if digest == live.written:
                continue
            path = self._scene_file(live.folder, live.room.scene_id)
            authors, edited = live.room.take_window()
            jobs.append((live, path, graph, digest, authors, edited))
        if not jobs:
            return

        def write() -> dict[LiveScene, Exception]:
            failed: dict[LiveScene, Exception] = {}
            changes = []
            for live, path, graph, digest, authors, edited in jobs:
                try:
                    with ProjectRepo(live.folder).lock:  # the same lock scene renames and moves hold
                        if live.gone or not path.is_file():
                            continue  # deleted or moved meanwhile: write_json would recreate the folder
                        scene = read_json(path)
                        before = live.file_graph if live.file_graph is not None else scene.get("graph") or {}
                        scene["graph"] = graph
                        write_json(path, scene)
                    live.marks.set(live.room.scene_id, digest)
                except Exception as exc:
                    failed[live] = exc
                    continue
                changes.append((live, before, graph, authors, edited))
            self._record_activity(changes)
            return failed

        failed = await asyncio.to_thread(write)
        for live, _, graph, digest, _, _ in jobs:
            if live not in failed:
                live.written = digest
                live.file_graph = graph
        for live, exc in failed.items():
            if not each:
                raise exc
            log.error("Saving scene %s failed", live.room.scene_id, exc_info=exc)

    async def _flush(self, live: LiveScene, *, commit: bool, message: str | None = None) -> None:
        await self._write_file(live)
        if commit and not live.gone and (live.needs_commit or message):
            authors = live.room.authors.most_common()
            live.room.authors.clear()
            live.needs_commit = False
            await asyncio.to_thread(self._commit, live, [a for a, _ in authors if a != "system"], message)

    def _record_activity(self, changes: list[tuple[LiveScene, dict[str, Any], dict[str, Any], Counter[str],
                                                   dict[str, str]]]) -> None:
        """What each written scene's file now says differently, in one transaction. Each change is credited to
        the person whose update last changed that node (or the links); what no one is known to have changed
        (the server's own fixes, a restart) to whoever changed most."""
        from mediastudio.collab.activity import credit, describe_edits, record

        found = []
        for live, before, after, authors, edited in changes:
            lead = next((a for a, _ in authors.most_common() if a != "system"), None)
            credited = credit(describe_edits(before, after), edited, lead)
            if credited:
                found.append((live, credited))
        if not found:
            return
        with self.db.transaction() as db:
            record(db, [(live.project_id, live.room.scene_id, credited) for live, credited in found])
            projects = {live.project_id: db.get(Project, live.project_id) for live, _ in found}
            for live, credited in found:
                project = projects[live.project_id]
                if project is not None:  # the activity panels of everyone in the project refresh at once
                    for user_id, entries in credited.items():
                        emit(db, ProjectActivity(workspace_id=project.workspace_id, project_id=project.id,
                                                 by=user_id, scene_id=live.room.scene_id, count=len(entries)))

    def _commit(self, live: LiveScene, authors: list[str], message: str | None) -> None:
        def summary() -> str | None:
            return None if live.gone else message or self._summary(live)

        self._commit_as(live.project_id, live.folder, authors, summary, kind="edit")

    def _commit_version(self, project_id: str, authors: list[str], label: str) -> str | None:
        with self.db.session() as db:
            project = db.get(Project, project_id)
            folder = project_folder(self.settings, project) if project is not None else None
        if folder is None:
            return None
        return self._commit_as(project_id, folder, authors, lambda: f"{LABEL_PREFIX}{label}", kind="version",
                               allow_empty=True)

    def _commit_as(self, project_id: str, folder: Path, authors: list[str], message: Callable[[], str | None], *,
                   kind: str, allow_empty: bool = False) -> str | None:
        """Commit the project's folder with these authors (the first leads, the others are co-authors);
        `message` is asked under the folder's lock, None when the folder is no longer the studio's to write."""
        with self.db.transaction() as db:
            people = [u for u in (db.get(User, a) for a in authors) if u is not None]
            project = db.get(Project, project_id)
            if project is None:
                return None
            lead = Author(people[0].display_name, people[0].id) if people else Author("Mediastudio", "u_system")
            others = [Author(p.display_name, p.id) for p in people[1:]]
            repo = ProjectRepo(folder)
            with repo.lock:
                summary = message() if (folder / ".git").is_dir() else None
                if summary is None:
                    return None  # moved meanwhile (to the trash): its history moved with it
                sha = repo.commit_all(summary, lead, co_authors=others, kind=kind, allow_empty=allow_empty)
            if sha is not None:
                project.updated_at = utcnow()
                project.contributors = " ".join(sorted(set(project.contributors.split()) | {p.id for p in people}))
                sync_index(db, self.settings, project)
                emit(db, ProjectChanged(workspace_id=project.workspace_id, project_id=project.id, by=lead.user_id,
                                        summary=summary, commit=sha))
            return sha

    def _summary(self, live: LiveScene) -> str:
        repo = ProjectRepo(live.folder)
        head = repo.log(limit=1)
        path = f"scenes/{live.room.scene_id}.json"
        before_files = repo.files_at(head[0].sha, path) if head else {}
        after_files = {path: self._scene_file(live.folder, live.room.scene_id).read_bytes()}
        return describe_changes(snapshot(before_files), snapshot(after_files)) or "Edited the scene"


RoomsDep = NamedDependency[Rooms]
