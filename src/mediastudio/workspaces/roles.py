"""Roles and what they allow. Pure functions: the single place where permissions are decided."""

from __future__ import annotations

from typing import Literal

WorkspaceRole = Literal["owner", "admin", "member"]
ProjectRole = Literal["owner", "editor", "viewer"]
Action = Literal["view", "edit", "run", "manage"]

WORKSPACE_ROLES: tuple[WorkspaceRole, ...] = ("owner", "admin", "member")
PROJECT_ROLES: tuple[ProjectRole, ...] = ("owner", "editor", "viewer")

_PROJECT_ALLOWS: dict[ProjectRole, frozenset[Action]] = {
    "owner": frozenset({"view", "edit", "run", "manage"}),
    "editor": frozenset({"view", "edit", "run"}),
    "viewer": frozenset({"view"}),
}


def effective_project_role(workspace_role: WorkspaceRole, default_role: ProjectRole,
                           project_override: ProjectRole | None = None) -> ProjectRole:
    """Workspace owners and admins own every project; members get the project's own role for
    them when it names one, else the workspace's default."""
    if workspace_role in ("owner", "admin"):
        return "owner"
    return project_override or default_role


def project_allows(role: ProjectRole, action: Action) -> bool:
    return action in _PROJECT_ALLOWS[role]


def can_manage_members(role: WorkspaceRole) -> bool:
    return role in ("owner", "admin")


def can_assign(actor: WorkspaceRole, old: WorkspaceRole | None, new: WorkspaceRole | None) -> bool:
    """May `actor` move a member from role `old` to `new` (None = not a member)?
    Only owners touch owners; admins manage admins and members."""
    if actor == "owner":
        return True
    if actor == "admin":
        return "owner" not in (old, new)
    return False
