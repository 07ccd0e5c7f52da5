"""Who has which role on a project: the workspace's members with their effective role, and the
project's own role for one of them (an override of the workspace default). The rules themselves live
in workspaces/roles.py."""

from __future__ import annotations

from typing import cast

from sqlmodel import Session, col, select

from mediastudio.auth.tables import User
from mediastudio.errors import NotFound
from mediastudio.events.access import access_changed
from mediastudio.projects.access import require
from mediastudio.projects.schemas import ProjectMember
from mediastudio.projects.tables import Project, ProjectRoleOverride
from mediastudio.workspaces.roles import ProjectRole, WorkspaceRole, effective_project_role
from mediastudio.workspaces.schemas import MemberUser
from mediastudio.workspaces.tables import Membership, Workspace


def _overrides(db: Session, project_id: str) -> dict[str, ProjectRole]:
    rows = db.exec(select(ProjectRoleOverride).where(ProjectRoleOverride.project_id == project_id)).all()
    return {o.user_id: cast(ProjectRole, o.role) for o in rows}


def _default_role(db: Session, project: Project) -> ProjectRole:
    workspace = db.get(Workspace, project.workspace_id)
    assert workspace is not None
    return cast(ProjectRole, workspace.default_project_role)


def _members_of(db: Session, project: Project) -> list[ProjectMember]:
    default, overrides = _default_role(db, project), _overrides(db, project.id)
    rows = db.exec(
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.workspace_id == project.workspace_id)
    ).all()
    return [
        ProjectMember(
            user=MemberUser.model_validate(u, from_attributes=True),
            workspace_role=m.role,
            role=effective_project_role(cast(WorkspaceRole, m.role), default, overrides.get(u.id)),
            overridden=u.id in overrides,
        )
        for m, u in rows
    ]


def members(db: Session, user: User, project_id: str) -> list[ProjectMember]:
    """Everyone in the project's workspace and their role on it (the caller must see the project)."""
    project, _ = require(db, user, project_id, "view")
    return _members_of(db, project)


def set_role(db: Session, user: User, project_id: str, member_id: str,
             role: ProjectRole | None) -> list[ProjectMember]:
    """Give a workspace member `role` on the project (None: the workspace default again); the caller
    must manage the project. Answers everyone's roles afterwards."""
    project, _ = require(db, user, project_id, "manage")
    if db.get(Membership, (project.workspace_id, member_id)) is None:
        raise NotFound(f"User '{member_id}' is not in this project's workspace.",
                       hint="Invite them to the workspace first.")
    existing = db.get(ProjectRoleOverride, (project_id, member_id))
    if existing is not None:
        db.delete(existing)
        db.flush()
    if role is not None:
        db.add(ProjectRoleOverride(project_id=project_id, user_id=member_id, role=role))
    access_changed(db, user_id=member_id)  # their open sockets re-check
    db.flush()
    return _members_of(db, project)
