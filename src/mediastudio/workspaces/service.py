"""Workspace service: tenants, memberships and role changes. Callers outside see 404 for what
they are not a member of, so a workspace's existence never leaks."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import cast

from sqlmodel import Session, col, func, select

from mediastudio.auth.tables import User
from mediastudio.common import new_id
from mediastudio.errors import BadRequest, Conflict, Forbidden, NotFound
from mediastudio.workspaces.roles import (
    PROJECT_ROLES,
    WORKSPACE_ROLES,
    WorkspaceRole,
    can_assign,
    can_manage_members,
)
from mediastudio.workspaces.tables import Membership, Workspace

NAME_MAX = 80


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX:
        raise BadRequest(f"A workspace name needs 1 to {NAME_MAX} characters.", field="name")
    return cleaned


def _check_role(role: str) -> WorkspaceRole:
    if role not in WORKSPACE_ROLES:
        raise BadRequest(f"Unknown workspace role '{role}'.", hint=f"Use one of: {', '.join(WORKSPACE_ROLES)}.",
                         field="role")
    return role


def create_workspace(db: Session, owner: User, name: str, kind: str = "team") -> Workspace:
    workspace = Workspace(id=new_id("ws"), name=_clean_name(name), kind=kind)
    db.add(workspace)
    db.flush()  # no ORM relationship orders these inserts: the workspace row must exist first
    db.add(Membership(workspace_id=workspace.id, user_id=owner.id, role="owner"))
    db.flush()
    return workspace


def create_personal_workspace(db: Session, user: User) -> Workspace:
    label = "Guest sandbox" if user.is_guest else f"{user.display_name}'s workspace"
    return create_workspace(db, user, label[:NAME_MAX], kind="personal")


def list_for_user(db: Session, user: User) -> list[tuple[Workspace, WorkspaceRole]]:
    rows = db.exec(
        select(Workspace, Membership.role)
        .join(Membership, col(Membership.workspace_id) == col(Workspace.id))
        .where(Membership.user_id == user.id)
        .order_by(col(Workspace.kind) != "personal", col(Workspace.created_at))  # personal first
    ).all()
    return [(workspace, cast(WorkspaceRole, role)) for workspace, role in rows]


def get_for_user(db: Session, user: User, workspace_id: str) -> tuple[Workspace, WorkspaceRole]:
    row = db.exec(
        select(Workspace, Membership.role)
        .join(Membership, col(Membership.workspace_id) == col(Workspace.id))
        .where(Workspace.id == workspace_id, Membership.user_id == user.id)
    ).first()
    if row is None:
        raise NotFound(f"No workspace '{workspace_id}' is visible to you.",
                       hint="GET /api/v1/workspaces lists the workspaces you belong to.")
    return row[0], cast(WorkspaceRole, row[1])


def member_count(db: Session, workspace_id: str) -> int:
    return db.exec(select(func.count()).select_from(Membership)
                   .where(Membership.workspace_id == workspace_id)).one()


def update_workspace(db: Session, actor: User, workspace_id: str, *, name: str | None = None,
                     default_project_role: str | None = None) -> tuple[Workspace, WorkspaceRole]:
    workspace, role = get_for_user(db, actor, workspace_id)
    if not can_manage_members(role):
        raise Forbidden("Only the workspace's owners and admins can change its settings.")
    if name is not None:
        workspace.name = _clean_name(name)
    if default_project_role is not None:
        if default_project_role not in PROJECT_ROLES:
            raise BadRequest(f"Unknown project role '{default_project_role}'.",
                             hint=f"Use one of: {', '.join(PROJECT_ROLES)}.", field="default_project_role")
        workspace.default_project_role = default_project_role
        from mediastudio.events.access import access_changed  # members' open sockets re-check

        access_changed(db, workspace_id=workspace_id)
    db.add(workspace)
    return workspace, role


def list_members(db: Session, actor: User, workspace_id: str) -> list[tuple[Membership, User]]:
    get_for_user(db, actor, workspace_id)
    rows = db.exec(select(Membership, User).join(User, col(User.id) == col(Membership.user_id))
                   .where(Membership.workspace_id == workspace_id)
                   .order_by(col(Membership.created_at))).all()
    return [(membership, user) for membership, user in rows]


def _membership(db: Session, workspace_id: str, user_id: str) -> Membership | None:
    return db.get(Membership, (workspace_id, user_id))


def _owners(db: Session, workspace_id: str) -> int:
    return db.exec(select(func.count()).select_from(Membership)
                   .where(Membership.workspace_id == workspace_id, Membership.role == "owner")).one()


def add_member(db: Session, actor: User, workspace_id: str, username: str, role: str) -> tuple[Membership, User]:
    workspace, actor_role = get_for_user(db, actor, workspace_id)
    new_role = _check_role(role)
    if workspace.kind == "personal":
        raise Conflict("A personal workspace has only you in it.",
                         hint="Create a team workspace (POST /api/v1/workspaces) and invite people there.")
    if not can_assign(actor_role, None, new_role):
        raise Forbidden(f"As {actor_role} you cannot add someone as {new_role}.")
    invitee = db.exec(select(User).where(User.username == username.strip().lower())).first()
    if invitee is None or invitee.is_guest or invitee.disabled:
        raise NotFound(f"No user is named '{username}'.", hint="Check the spelling of the username.")
    if _membership(db, workspace_id, invitee.id) is not None:
        raise Conflict(f"{invitee.display_name} is already a member of this workspace.")
    membership = Membership(workspace_id=workspace_id, user_id=invitee.id, role=new_role)
    db.add(membership)
    from mediastudio.events.access import access_changed  # their events socket hears the workspace

    access_changed(db, user_id=invitee.id)
    return membership, invitee


def change_role(db: Session, actor: User, workspace_id: str, user_id: str, role: str) -> tuple[Membership, User]:
    _, actor_role = get_for_user(db, actor, workspace_id)
    new_role = _check_role(role)
    membership = _membership(db, workspace_id, user_id)
    if membership is None:
        raise NotFound(f"User '{user_id}' is not a member of this workspace.")
    if not can_assign(actor_role, cast(WorkspaceRole, membership.role), new_role):
        raise Forbidden(f"As {actor_role} you cannot change a {membership.role} to {new_role}.")
    if membership.role == "owner" and new_role != "owner" and _owners(db, workspace_id) == 1:
        raise Conflict("A workspace needs at least one owner.", hint="Make someone else owner first.")
    membership.role = new_role
    db.add(membership)
    from mediastudio.events.access import access_changed  # their open sockets re-check

    access_changed(db, user_id=user_id)
    user = db.get(User, user_id)
    assert user is not None
    return membership, user


def remove_member(db: Session, actor: User, workspace_id: str, user_id: str) -> None:
    workspace, actor_role = get_for_user(db, actor, workspace_id)
    membership = _membership(db, workspace_id, user_id)
    if membership is None:
        raise NotFound(f"User '{user_id}' is not a member of this workspace.")
    leaving = user_id == actor.id
    if not leaving and not can_assign(actor_role, cast(WorkspaceRole, membership.role), None):
        raise Forbidden(f"As {actor_role} you cannot remove a {membership.role}.")
    if workspace.kind == "personal":
        raise Conflict("You cannot leave your personal workspace.",
                       hint="Only team workspaces can be left; a personal workspace goes with its account.")
    if membership.role == "owner" and _owners(db, workspace_id) == 1:
        raise Conflict("A workspace needs at least one owner.", hint="Make someone else owner first.")
    db.delete(membership)
    from mediastudio.events.access import access_changed  # their open sockets close

    access_changed(db, user_id=user_id)


def delete_workspace(db: Session, workspace: Workspace, data_dir: Path) -> None:
    """Remove a workspace, its memberships and its folder on disk."""
    for membership in db.exec(select(Membership).where(Membership.workspace_id == workspace.id)).all():
        db.delete(membership)
    db.delete(workspace)
    from mediastudio.events.access import access_changed  # members' open sockets close

    access_changed(db, workspace_id=workspace.id)
    shutil.rmtree(data_dir / "workspaces" / workspace.id, ignore_errors=True)


def delete_sole_workspaces(db: Session, user: User, data_dir: Path) -> None:
    """Before a user goes: delete the workspaces nobody else is in; hand the others on."""
    for workspace, _ in list_for_user(db, user):
        if member_count(db, workspace.id) == 1:
            delete_workspace(db, workspace, data_dir)
        elif _membership(db, workspace.id, user.id) and _owners(db, workspace.id) == 1:
            heir = db.exec(select(Membership).where(Membership.workspace_id == workspace.id,
                                                    Membership.user_id != user.id)
                           .order_by(col(Membership.created_at))).first()
            if heir is not None:
                heir.role = "owner"
                db.add(heir)
