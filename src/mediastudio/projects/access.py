"""Who may see and do what on a project. Invisible projects answer 404; visible but not allowed, 403."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TypeVar, cast

from sqlalchemy import BindParameter, bindparam
from sqlalchemy import Select as CoreSelect
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from mediastudio.auth.tables import User
from mediastudio.db import Database, Prepared
from mediastudio.errors import Forbidden, NotFound
from mediastudio.projects.tables import Project, ProjectRoleOverride
from mediastudio.settings import Settings
from mediastudio.workspaces.roles import Action, ProjectRole, WorkspaceRole, effective_project_role, project_allows
from mediastudio.workspaces.tables import Membership, Workspace

P = TypeVar("P", "Project", "ProjectView", "ProjectRow")
VERBS: dict[Action, str] = {"view": "open it", "edit": "change it", "run": "run it", "manage": "manage it"}


def project_folder(settings: Settings, project: Project | ProjectView | ProjectRow) -> Path:
    where = "trash" if project.trashed_at else "projects"
    return _folder(settings.data_dir, project.workspace_id, where, project.id)


@lru_cache(maxsize=4096)
def _folder(data_dir: Path, workspace_id: str, where: str, project_id: str) -> Path:
    """Joining the path anew took ~4 µs and a write asks for its folder a dozen times (paths are immutable)."""
    return data_dir / "workspaces" / workspace_id / where / project_id


@cache
def _rights_query() -> Select[Project, str, str, str]:
    """The rights check's query, built once: building it and its cache key anew took several times as long as
    running it (1.0–1.6 ms against 0.15–0.26 ms, on every write). `user_id` and `project_id` are bound when it
    runs."""
    user_id: BindParameter[str] = bindparam("user_id")
    return (select(Project, Membership.role, Workspace.default_project_role, ProjectRoleOverride.role)
            .outerjoin(Workspace, col(Workspace.id) == col(Project.workspace_id))
            .outerjoin(Membership, (col(Membership.workspace_id) == col(Project.workspace_id))
                       & (col(Membership.user_id) == user_id))
            .outerjoin(ProjectRoleOverride, (col(ProjectRoleOverride.project_id) == col(Project.id))
                       & (col(ProjectRoleOverride.user_id) == user_id))
            .where(col(Project.id) == bindparam("project_id")))


def project_and_role(db: Session, user: User, project_id: str) -> tuple[Project | None, ProjectRole | None]:
    """The project (None: there is none) and the caller's role on it (None: not a member), in one query."""
    row = db.exec(_rights_query(), params={"user_id": user.id, "project_id": project_id}).first()
    if row is None:
        return None, None
    project, membership, default, override = row
    return project, role_from(membership, default, override)


def role_from(membership: str | None, default: str | None, override: str | None) -> ProjectRole | None:
    """A person's role on a project from their membership of its workspace, the workspace's default project
    role and their override on the project (None: not a member)."""
    if membership is None:
        return None
    assert default is not None  # a member's workspace exists
    return effective_project_role(cast(WorkspaceRole, membership), cast(ProjectRole, default),
                                  cast(ProjectRole, override) if override else None)


@dataclass(frozen=True)
class ProjectRow:
    """What an everyday write needs of its project, read as a plain row: where it is, and who wrote to it."""

    id: str
    workspace_id: str
    name: str
    trashed_at: datetime | None
    contributors: str


@cache
def _rights_row_query() -> CoreSelect[str, str, str, datetime | None, str, str, str, str]:
    """`_rights_query` with the project's columns instead of its ORM object: loading the object (the ORM's row
    processing and identity map) took most of a write's rights check."""
    user_id: BindParameter[str] = bindparam("user_id")
    return (core_select(col(Project.id), col(Project.workspace_id), col(Project.name), col(Project.trashed_at),
                        col(Project.contributors), col(Membership.role), col(Workspace.default_project_role),
                        col(ProjectRoleOverride.role))
            .outerjoin(Workspace, col(Workspace.id) == col(Project.workspace_id))
            .outerjoin(Membership, (col(Membership.workspace_id) == col(Project.workspace_id))
                       & (col(Membership.user_id) == user_id))
            .outerjoin(ProjectRoleOverride, (col(ProjectRoleOverride.project_id) == col(Project.id))
                       & (col(ProjectRoleOverride.user_id) == user_id))
            .where(col(Project.id) == bindparam("project_id")))


@cache
def _rights_row() -> Prepared:
    """`_rights_row_query`, prepared once (`Prepared`): on every write to a project's files and every run."""
    return Prepared(_rights_row_query())


def require_row(db: Session, user: User, project_id: str, action: Action = "view") -> tuple[ProjectRow, ProjectRole]:
    """`require` for a write that changes the project's files and, in the index, only what `service.record`
    writes itself: the same query, the same answers and errors, the project as a `ProjectRow`."""
    found = _rights_row().tuples(db, {"user_id": user.id, "project_id": project_id})
    row = found[0] if found else None
    project = None if row is None else ProjectRow(*row[:5])
    role = None if row is None else role_from(row[5], row[6], row[7])
    return _allowed(project_id, project, role, action, False), cast(ProjectRole, role)


def require(db: Session, user: User, project_id: str, action: Action = "view", *,
            trashed: bool = False) -> tuple[Project, ProjectRole]:
    """The project and the caller's role on it, if they may do `action`."""
    project, role = project_and_role(db, user, project_id)
    return _allowed(project_id, project, role, action, trashed), cast(ProjectRole, role)


def _allowed(project_id: str, project: P | None, role: ProjectRole | None, action: Action, trashed: bool) -> P:
    if project is None or role is None or (project.trashed_at is not None) != trashed:
        where = "in the trash" if trashed else ""
        raise NotFound(f"No project '{project_id}' {where} is visible to you.".replace("  ", " "),
                       hint="GET /api/v1/projects lists the projects you can open.")
    if not project_allows(role, action):
        raise Forbidden(f"As {role} of this project you cannot {VERBS[action]}.",
                        hint="Ask a workspace owner or admin for a higher role.")
    return project


@dataclass(frozen=True)
class ProjectView:
    """What a read needs to know of a project (shared between requests: immutable)."""

    id: str
    workspace_id: str
    name: str
    trashed_at: datetime | None


def may_read(database: Database, user: User, project_id: str, action: Action = "view", *,
             trashed: bool = False) -> tuple[ProjectView, ProjectRole]:
    """`require` for reads, answered from memory while nothing was committed to the database since it was last
    asked (`ReadCache`): the same answer, the same errors, without a query. Costs microseconds, so an async
    handler may call it on the event loop; the first ask after a change runs one query."""
    def ask() -> tuple[ProjectView | None, ProjectRole | None]:
        with database.session() as db:
            project, role = project_and_role(db, user, project_id)
            if project is None:
                return None, None
            return ProjectView(project.id, project.workspace_id, project.name, project.trashed_at), role

    view, role = database.reads("rights").get_or_compute((user.id, project_id), ask)
    return _allowed(project_id, view, role, action, trashed), cast(ProjectRole, role)


def may_read_now(database: Database, user: User, project_id: str, action: Action = "view", *,
                 trashed: bool = False) -> tuple[ProjectView, ProjectRole] | None:
    """`may_read` if its answer is known without a query (None: ask `may_read` in a worker thread)."""
    known = database.reads("rights").known((user.id, project_id))
    if known is None:
        return None
    view, role = known
    return _allowed(project_id, view, role, action, trashed), cast(ProjectRole, role)


def roles_for(db: Session, user: User, projects: list[Project]) -> dict[str, ProjectRole]:
    """The caller's role on many projects in three queries (the gallery lists up to 200)."""
    from sqlmodel import col, select

    workspace_ids = {p.workspace_id for p in projects}
    memberships = {m.workspace_id: m.role for m in db.exec(
        select(Membership).where(Membership.user_id == user.id, col(Membership.workspace_id).in_(workspace_ids)))}
    defaults = {w.id: w.default_project_role for w in db.exec(
        select(Workspace).where(col(Workspace.id).in_(workspace_ids)))}
    overrides = {o.project_id: o.role for o in db.exec(
        select(ProjectRoleOverride).where(ProjectRoleOverride.user_id == user.id,
                                          col(ProjectRoleOverride.project_id).in_([p.id for p in projects])))}
    return {p.id: effective_project_role(cast(WorkspaceRole, memberships[p.workspace_id]),
                                         cast(ProjectRole, defaults[p.workspace_id]),
                                         cast(ProjectRole, overrides[p.id]) if p.id in overrides else None)
            for p in projects if p.workspace_id in memberships}


def project_names(db: Session, project_ids: set[str]) -> dict[str, str]:
    """For the task system (tasks/service.py `ProjectNames`): the names of these projects, to show on tasks."""
    if not project_ids:
        return {}
    return {p.id: p.name for p in db.exec(select(Project).where(col(Project.id).in_(project_ids))).all()}


def task_scope(db: Session, user: User, project_id: str, right: str) -> tuple[str | None, str]:
    """For the task system (tasks/service.py `ProjectScope`): check `right` and name the project's workspace."""
    project, _ = require(db, user, project_id, cast(Action, right))
    return project.workspace_id, project.name
