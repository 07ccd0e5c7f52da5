"""Comment threads: written to the project's folder (files.py) through the deferred-commit journal, announced
on the event bus, with mentions and replies sent to the inbox (inbox.py). Rights are the project's: anyone who
may open the project may read and comment (viewers too); a comment is edited by its author only and deleted by
its author, an owner of the project or an administrator."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from mediastudio.auth.tables import User
from mediastudio.comments import inbox
from mediastudio.comments.events import (
    CommentCreated,
    CommentDeleted,
    CommentEvent,
    CommentReopened,
    CommentResolved,
    CommentUpdated,
)
from mediastudio.comments.files import (
    COMMENTS_MAX,
    THREADS_MAX,
    Comment,
    Pin,
    Target,
    Thread,
    read_thread,
    read_threads,
    thread_path,
    write_thread,
)
from mediastudio.comments.tables import CommentRead
from mediastudio.common import new_id, utcnow
from mediastudio.errors import Conflict, Forbidden, NotFound
from mediastudio.events.emit import emit
from mediastudio.projects import content
from mediastudio.projects.access import project_folder, require
from mediastudio.projects.repo import ProjectRepo
from mediastudio.projects.service import save
from mediastudio.projects.tables import Project
from mediastudio.settings import Settings
from mediastudio.workspaces.roles import ProjectRole
from mediastudio.workspaces.tables import Membership

MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.-]{2,31})")


@dataclass(frozen=True)
class Place:
    """The project a request acts on, the caller's role on it, and its folder."""

    project: Project
    role: ProjectRole
    folder: Path


def place(db: Session, settings: Settings, user: User, project_id: str) -> Place:
    """Checked on every request: the caller must be able to open the project (a viewer is enough)."""
    project, role = require(db, user, project_id, "view")
    return Place(project, role, project_folder(settings, project))


def members_named(db: Session, project: Project, body: str) -> list[str]:
    """The ids of the project's members whom `body` mentions (@username); anyone else stays plain text."""
    names = {name.lower().rstrip(".") for name in MENTION.findall(body)}
    if not names:
        return []
    rows = db.exec(select(User.id).join(Membership, col(Membership.user_id) == col(User.id))
                   .where(Membership.workspace_id == project.workspace_id, col(User.username).in_(names))).all()
    return sorted(rows)[:20]


def _check_target(folder: Path, target: Target) -> None:
    if target.kind == "asset":
        exists = content.asset_path(folder, target.id).is_file()
    else:
        scene_id = target.id if target.kind == "scene" else target.scene_id
        if scene_id is None:
            raise NotFound("A comment on a node names the scene that holds it (target.scene_id).")
        exists = content.scene_path(folder, scene_id).is_file()
    if not exists:
        raise NotFound(f"There is no {target.kind} '{target.id}' in this project to comment on.",
                       hint="Comment on an asset, a scene, or a node of a scene of this project.")


def _event(cls: type[CommentEvent], at: Place, thread: Thread, by: User, comment_id: str | None) -> CommentEvent:
    # Each concrete type sets its own `type` and `version`; the base, which mypy sees, does not.
    return cls(workspace_id=at.project.workspace_id, project_id=at.project.id,  # type: ignore[call-arg]
               thread_id=thread.id, comment_id=comment_id, target_kind=thread.target.kind,
               target_id=thread.target.id, scene_id=thread.target.scene_id, by=by.id)


def _save(settings: Settings, at: Place, user: User, path: Path, message: str) -> None:
    save(settings, at.project, user, message, kind="comment", deferred=[path])


def _what(target: Target) -> str:
    return {"asset": "an asset", "scene": "a scene", "node": "a node"}[target.kind] + f" ({target.id})"


def start_thread(db: Session, settings: Settings, user: User, project_id: str, target: Target, pin: Pin | None,
                 body: str) -> Thread:
    at = place(db, settings, user, project_id)
    _check_target(at.folder, target)
    now = utcnow()
    first = Comment(id=new_id("cm"), author=user.id, body=body, mentions=members_named(db, at.project, body),
                    created_at=now)
    thread = Thread(id=new_id("th"), target=target, pin=pin, created_by=user.id, created_at=now, comments=[first])
    repo = ProjectRepo(at.folder)
    with repo.lock:
        if len(list((at.folder / "comments").glob("*.json"))) >= THREADS_MAX:
            raise Conflict(f"This project has {THREADS_MAX} comment threads, the most it may hold.",
                           hint="Delete threads that are done with.")
        path = write_thread(at.folder, thread)
        _save(settings, at, user, path, f"Commented on {_what(target)}")
    mark_read(db, user, at.project.id, thread.id)
    emit(db, _event(CommentCreated, at, thread, user, first.id))
    inbox.notify_comment(db, at.project, thread, first, user, reply=False)
    return thread


def _thread(at: Place, thread_id: str) -> Thread:
    thread = read_thread(at.folder, thread_id)
    if thread is None:
        raise NotFound(f"There is no comment thread '{thread_id}' in this project.",
                       hint="GET /api/v1/projects/{id}/comments lists them.")
    return thread


def reply(db: Session, settings: Settings, user: User, project_id: str, thread_id: str, body: str) -> Thread:
    at = place(db, settings, user, project_id)
    comment = Comment(id=new_id("cm"), author=user.id, body=body, mentions=members_named(db, at.project, body),
                      created_at=utcnow())
    with ProjectRepo(at.folder).lock:
        thread = _thread(at, thread_id)
        if len(thread.comments) >= COMMENTS_MAX:
            raise Conflict(f"This thread has {COMMENTS_MAX} comments, the most one may hold.",
                           hint="Start a new thread.")
        thread.comments.append(comment)
        path = write_thread(at.folder, thread)
        _save(settings, at, user, path, f"Replied on {_what(thread.target)}")
    mark_read(db, user, at.project.id, thread.id)
    emit(db, _event(CommentCreated, at, thread, user, comment.id))
    inbox.notify_comment(db, at.project, thread, comment, user, reply=True)
    return thread


def _comment(thread: Thread, comment_id: str) -> Comment:
    found = next((c for c in thread.comments if c.id == comment_id), None)
    if found is None:
        raise NotFound(f"There is no comment '{comment_id[:80]}' in this thread.")
    return found


def edit(db: Session, settings: Settings, user: User, project_id: str, thread_id: str, comment_id: str,
         body: str) -> Thread:
    at = place(db, settings, user, project_id)
    with ProjectRepo(at.folder).lock:
        thread = _thread(at, thread_id)
        comment = _comment(thread, comment_id)
        if comment.author != user.id:
            raise Forbidden("Only its author may edit a comment.", hint="Reply instead.")
        before = set(comment.mentions)
        comment.body, comment.edited_at = body, utcnow()
        comment.mentions = members_named(db, at.project, body)
        path = write_thread(at.folder, thread)
        _save(settings, at, user, path, f"Edited a comment on {_what(thread.target)}")
    emit(db, _event(CommentUpdated, at, thread, user, comment.id))
    added = Comment.model_validate({**comment.model_dump(), "mentions": [m for m in comment.mentions
                                                                          if m not in before]})
    inbox.notify_comment(db, at.project, thread, added, user, reply=False, mentions_only=True)
    return thread


def delete(db: Session, settings: Settings, user: User, project_id: str, thread_id: str, comment_id: str) -> None:
    at = place(db, settings, user, project_id)
    with ProjectRepo(at.folder).lock:
        thread = _thread(at, thread_id)
        comment = _comment(thread, comment_id)
        if comment.author != user.id and at.role != "owner" and not user.is_admin:
            raise Forbidden("Only its author, an owner of the project or an administrator may delete a comment.")
        thread.comments.remove(comment)
        if thread.comments:
            path = write_thread(at.folder, thread)
        else:
            path = thread_path(at.folder, thread.id)
            path.unlink()
        _save(settings, at, user, path, f"Deleted a comment on {_what(thread.target)}")
    emit(db, _event(CommentDeleted, at, thread, user, comment.id))


def set_resolved(db: Session, settings: Settings, user: User, project_id: str, thread_id: str,
                 resolved: bool) -> Thread:
    at = place(db, settings, user, project_id)
    with ProjectRepo(at.folder).lock:
        thread = _thread(at, thread_id)
        if thread.resolved == resolved:
            return thread
        thread.resolved = resolved
        thread.resolved_by, thread.resolved_at = (user.id, utcnow()) if resolved else (None, None)
        path = write_thread(at.folder, thread)
        _save(settings, at, user, path, f"{'Resolved' if resolved else 'Reopened'} a thread on {_what(thread.target)}")
    emit(db, _event(CommentResolved if resolved else CommentReopened, at, thread, user, None))
    return thread


# -- reading, and what is unread -----------------------------------------------------------------------
def threads(db: Session, settings: Settings, user: User, project_id: str, kind: str | None = None,
            target_id: str | None = None) -> list[Thread]:
    at = place(db, settings, user, project_id)
    found = read_threads(at.folder)
    if kind is not None:
        found = [t for t in found if t.target.kind == kind]
    if target_id is not None:
        found = [t for t in found if t.target.id == target_id]
    return found


def one(db: Session, settings: Settings, user: User, project_id: str, thread_id: str) -> Thread:
    return _thread(place(db, settings, user, project_id), thread_id)


def read_marks(db: Session, user: User, project_id: str) -> dict[str, object]:
    rows = db.exec(select(CommentRead).where(CommentRead.user_id == user.id,
                                             CommentRead.project_id == project_id)).all()
    return {r.thread_id: r.read_at for r in rows}


def unread_in(thread: Thread, user: User, marks: dict[str, object]) -> int:
    """Comments of others written after the person last read the thread (all of them if they never did)."""
    seen = marks.get(thread.id)
    return sum(1 for c in thread.comments if c.author != user.id and (seen is None or _after(c.created_at, seen)))


def _after(moment: object, seen: object) -> bool:
    from datetime import datetime

    assert isinstance(moment, datetime) and isinstance(seen, datetime)
    if (moment.tzinfo is None) != (seen.tzinfo is None):  # SQLite gives naive UTC back
        moment, seen = moment.replace(tzinfo=None), seen.replace(tzinfo=None)
    return moment > seen


def mark_read(db: Session, user: User, project_id: str, thread_id: str) -> None:
    """One statement whether a mark exists or not: two reads of the thread at once (two tabs, a tile and the view)
    each found none and each inserted it, and the second failed (a 500)."""
    now = utcnow()
    db.execute(sqlite_insert(CommentRead).values(user_id=user.id, project_id=project_id, thread_id=thread_id,
                                                 read_at=now)
               .on_conflict_do_update(index_elements=["user_id", "project_id", "thread_id"], set_={"read_at": now}))
    inbox.read_thread(db, user, project_id, thread_id)


def read(db: Session, settings: Settings, user: User, project_id: str, thread_id: str) -> None:
    at = place(db, settings, user, project_id)
    _thread(at, thread_id)
    mark_read(db, user, project_id, thread_id)
