"""Finished runs in their owner's inbox: a scene run that succeeded or failed becomes a line ("run"), heard on the
event bus like any listener. Every server process on a data folder hears every task event (Redis carries them),
so the line's id is the task's: the first process writes it, the others find it there and say nothing."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.sqlite import insert
from sqlmodel import col

from mediastudio.comments.events import NotificationCreated
from mediastudio.comments.inbox import unread_count
from mediastudio.comments.tables import Notification
from mediastudio.common import utcnow
from mediastudio.db import Database
from mediastudio.events.emit import emit
from mediastudio.projects.tables import Project

RUN_KINDS = frozenset({"scene.run"})
ENDINGS = {"task.succeeded": "finished", "task.failed": "failed"}


def record_run(db: Database, event: dict[str, Any]) -> bool:
    """Write the line of a finished run once and announce it to its owner; False when there was nothing new."""
    task = event.get("task") or {}
    project_id, owner, task_id = task.get("project_id"), task.get("owner_id"), str(task.get("id"))[:60]
    if event.get("type") not in ENDINGS or task.get("kind") not in RUN_KINDS or not project_id or not owner:
        return False
    scene_id = (task.get("params") or {}).get("scene_id")
    with db.transaction() as session:
        # The project's workspace as a plain value (its ORM object was read for that alone, on every run).
        found = session.connection().execute(_workspace_of(), {"project_id": project_id}).first()
        if found is None:
            return False
        workspace_id = found[0]
        line_id = f"nt_run_{task_id}"
        added = session.connection().execute(_add_line(), {
            "id": line_id, "user_id": owner, "kind": "run", "project_id": project_id, "target_kind": "task",
            "target_id": task_id, "scene_id": scene_id if isinstance(scene_id, str) else None, "by": owner,
            "created_at": utcnow(), "text": f"{str(task.get('title') or 'Run')[:100]} {ENDINGS[event['type']]}"})
        if not added.rowcount:
            return False
        emit(session, NotificationCreated(workspace_id=workspace_id, audience=owner, notification_id=line_id,
                                          kind="run", project_id=project_id, unread=unread_count(session, owner)))
    return True


@cache
def _workspace_of() -> Any:
    """The project's workspace id, the statement built once."""
    return select(col(Project.workspace_id)).where(col(Project.id) == bindparam("project_id"))


@cache
def _add_line() -> Any:
    """The line's INSERT, built once (its values bound when it runs): built with its values, it was compiled
    anew for every finished run."""
    return insert(Notification).on_conflict_do_nothing()


class RunNotices:
    """The bus listener (the composition adds it): records the line in a worker thread."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending: set[asyncio.Task[bool]] = set()

    def on_event(self, event: dict[str, Any]) -> None:
        if event.get("type") in ENDINGS and (event.get("task") or {}).get("kind") in RUN_KINDS:
            job = asyncio.create_task(asyncio.to_thread(record_run, self.db, event))
            self.pending.add(job)
            job.add_done_callback(self.pending.discard)
