"""Each person's inbox: mentions, replies to their threads, their finished runs and status changes of their
shots (review/). A line is written in the
transaction of the change that made it and announced to its person alone (`notification.created`); a line
about a project its person can no longer open is not shown."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import BindParameter, bindparam, func, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from mediastudio.auth.tables import User
from mediastudio.comments.events import NotificationCreated
from mediastudio.comments.tables import Notification
from mediastudio.common import new_id, utcnow
from mediastudio.events.emit import emit
from mediastudio.projects.tables import Project, ProjectRoleOverride
from mediastudio.workspaces.tables import Membership, Workspace

if TYPE_CHECKING:
    from mediastudio.comments.files import Comment, Thread

EXCERPT = 140


def excerpt(body: str) -> str:
    line = " ".join(body.split())
    return line if len(line) <= EXCERPT else line[: EXCERPT - 1] + "…"


def _may_open(db: Session, user: User, project_id: str) -> bool:
    """Whether the person may still open the project (a member, and it is not in the trash)."""
    from mediastudio.projects.access import project_and_role

    project, role = project_and_role(db, user, project_id)
    return project is not None and role is not None and project.trashed_at is None


def unread_count(db: Session, user_id: str) -> int:
    """The person's unread lines that the inbox shows: those about projects they may still open (and of none), so
    the count agrees with the list. One statement, the rights of every project with unread lines joined in (as
    `project_and_role` reads them): a rights check per such project, on every line added (each finished run
    adds one), grew with the projects a person had unread lines in."""
    from mediastudio.projects.access import role_from

    rows = db.connection().execute(_unread_by_project(), {"user_id": user_id}).all()
    return sum(int(count) for project_id, count, exists, trashed_at, membership, default, override in rows
               if project_id is None or (exists and trashed_at is None and role_from(membership, default, override)))


@cache
def _unread_by_project() -> Any:
    """`unread_count`'s statement, built once: per project (or none) the unread lines, whether the project is there
    and in the trash, and the person's membership, its workspace's default role and their override on it."""
    user_id: BindParameter[str] = bindparam("user_id")
    return (core_select(col(Notification.project_id), func.count(), col(Project.id).is_not(None),
                        col(Project.trashed_at), col(Membership.role), col(Workspace.default_project_role),
                        col(ProjectRoleOverride.role))
            .select_from(Notification)
            .outerjoin(Project, col(Project.id) == col(Notification.project_id))
            .outerjoin(Workspace, col(Workspace.id) == col(Project.workspace_id))
            .outerjoin(Membership, (col(Membership.workspace_id) == col(Project.workspace_id))
                       & (col(Membership.user_id) == user_id))
            .outerjoin(ProjectRoleOverride, (col(ProjectRoleOverride.project_id) == col(Project.id))
                       & (col(ProjectRoleOverride.user_id) == user_id))
            .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
            .group_by(col(Notification.project_id)))


def add(db: Session, user_id: str, workspace_id: str | None, **fields: object) -> Notification:
    line = Notification(id=new_id("nt"), user_id=user_id, **fields)  # type: ignore[arg-type]
    db.add(line)
    db.flush()
    emit(db, NotificationCreated(workspace_id=workspace_id, audience=user_id, notification_id=line.id,
                                 kind=line.kind, project_id=line.project_id,
                                 unread=unread_count(db, user_id)))
    return line


def notify_comment(db: Session, project: Project, thread: Thread, comment: Comment, author: User, *,
                   reply: bool, mentions_only: bool = False) -> None:
    """A mention reaches each mentioned member; a reply reaches who started the thread (once: a mention
    counts for both). The author hears neither of their own."""
    members = set(db.exec(select(Membership.user_id).where(Membership.workspace_id == project.workspace_id)).all())
    where = {"project_id": project.id, "thread_id": thread.id, "comment_id": comment.id,
             "target_kind": thread.target.kind, "target_id": thread.target.id, "scene_id": thread.target.scene_id,
             "by": author.id, "text": excerpt(comment.body)}
    told = {author.id}
    for user_id in comment.mentions:
        if user_id not in told and user_id in members:
            add(db, user_id, project.workspace_id, kind="mention", **where)
            told.add(user_id)
    if reply and not mentions_only and thread.created_by not in told and thread.created_by in members:
        add(db, thread.created_by, project.workspace_id, kind="reply", **where)


def notify_status(db: Session, project: Project, scene_id: str, node_id: str, people: set[str], by: str,
                  text: str) -> None:
    """A shot's status changed: a line for each of `people` (those whose shot it is) still a member of the
    project's workspace, never for who changed it. The line opens the shot's node."""
    members = set(db.exec(select(Membership.user_id).where(Membership.workspace_id == project.workspace_id)).all())
    for user_id in sorted((people & members) - {by}):
        add(db, user_id, project.workspace_id, kind="status", project_id=project.id, target_kind="node",
            target_id=node_id, scene_id=scene_id, by=by, text=excerpt(text))


def read_thread(db: Session, user: User, project_id: str, thread_id: str) -> None:
    """Reading a thread reads its lines in the inbox too."""
    db.exec(update(Notification).where(
        col(Notification.user_id) == user.id, col(Notification.project_id) == project_id,
        col(Notification.thread_id) == thread_id, col(Notification.read_at).is_(None)).values(read_at=utcnow()))


def visible(db: Session, user: User, limit: int, before: str | None) -> tuple[list[Notification], int]:
    """The person's latest lines (newest first) about projects they may still open, and how many of those lines
    (all pages) are unread."""
    query = select(Notification).where(Notification.user_id == user.id)
    if before:
        anchor = db.get(Notification, before)
        if anchor is not None and anchor.user_id == user.id:
            query = query.where(col(Notification.created_at) < anchor.created_at)
    rows = db.exec(query.order_by(col(Notification.created_at).desc()).limit(limit)).all()
    allowed: dict[str, bool] = {}
    shown = []
    for row in rows:
        if row.project_id is not None and row.project_id not in allowed:
            allowed[row.project_id] = _may_open(db, user, row.project_id)
        if row.project_id is None or allowed[row.project_id]:
            shown.append(row)
    return shown, unread_count(db, user.id)


def mark_read(db: Session, user: User, ids: list[str] | None) -> int:
    """Mark the person's lines read (`ids`; None: all of them); answers how many remain unread."""
    query = update(Notification).where(col(Notification.user_id) == user.id, col(Notification.read_at).is_(None))
    if ids is not None:
        query = query.where(col(Notification.id).in_(ids))
    db.exec(query.values(read_at=utcnow()))
    return unread_count(db, user.id)

