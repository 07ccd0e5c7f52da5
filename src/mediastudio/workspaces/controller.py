"""/api/v1/workspaces: your workspaces, team workspaces, members and their roles."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlmodel import Session

from mediastudio.audit.actions import Action
from mediastudio.audit.record import Actor, ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep
from mediastudio.auth.tables import User
from mediastudio.common import Page
from mediastudio.db import DatabaseDep
from mediastudio.errors import Forbidden
from mediastudio.workspaces import service
from mediastudio.workspaces.schemas import (
    MemberAdd,
    MemberOut,
    MemberPatch,
    WorkspaceCreate,
    WorkspaceOut,
    WorkspacePatch,
)
from mediastudio.workspaces.tables import Workspace


def _record_member(db: Session, actor: Actor, action: Action, workspace_id: str, user_id: str,
                   role: str | None = None) -> None:
    user, workspace = db.get(User, user_id), db.get(Workspace, workspace_id)
    record(db, actor, action, Target("user", user_id, user.username if user else ""),
           {"workspace_id": workspace_id, "workspace": workspace.name if workspace else "", "role": role})


class WorkspacesController(Controller):
    path = "/api/v1/workspaces"
    tags = ("workspaces",)

    @get(summary="The workspaces you belong to, your personal one first", sync_to_thread=True)
    def list_workspaces(self, identity: IdentityDep, database: DatabaseDep) -> Page[WorkspaceOut]:
        with database.session() as db:
            return Page(
                items=[
                    WorkspaceOut.of(ws, role, service.member_count(db, ws.id))
                    for ws, role in service.list_for_user(db, identity.user)
                ]
            )

    @post(summary="Create a team workspace; you become its owner", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create_workspace(
        self, data: JSONBody[WorkspaceCreate], identity: IdentityDep, database: DatabaseDep, actor: ActorDep
    ) -> WorkspaceOut:
        if identity.user.is_guest:
            raise Forbidden("Guests cannot create team workspaces.", hint="Register to work with a team.")
        with database.transaction() as db:
            workspace = service.create_workspace(db, identity.user, data.name)
            record(db, actor, Action.WORKSPACE_CREATE, Target("workspace", workspace.id, workspace.name))
        return WorkspaceOut.of(workspace, "owner", 1)

    @get("/{workspace_id:str}", summary="One of your workspaces", sync_to_thread=True)
    def get_workspace(self, workspace_id: FromPath[str], identity: IdentityDep, database: DatabaseDep) -> WorkspaceOut:
        with database.session() as db:
            workspace, role = service.get_for_user(db, identity.user, workspace_id)
            return WorkspaceOut.of(workspace, role, service.member_count(db, workspace_id))

    @patch(
        "/{workspace_id:str}", summary="Rename, or set the default project role (owners, admins)", sync_to_thread=True
    )
    def update_workspace(
        self, workspace_id: FromPath[str], data: JSONBody[WorkspacePatch], identity: IdentityDep, database: DatabaseDep,
        actor: ActorDep,
    ) -> WorkspaceOut:
        with database.transaction() as db:
            before = db.get(Workspace, workspace_id)
            old_name, old_role = (before.name, before.default_project_role) if before else ("", "")
            workspace, role = service.update_workspace(
                db, identity.user, workspace_id, name=data.name, default_project_role=data.default_project_role
            )
            target = Target("workspace", workspace.id, workspace.name)
            if workspace.name != old_name:
                record(db, actor, Action.WORKSPACE_RENAME, target, {"before": old_name, "after": workspace.name})
            if workspace.default_project_role != old_role:
                record(db, actor, Action.WORKSPACE_DEFAULT_ROLE, target,
                       {"before": old_role, "after": workspace.default_project_role})
            return WorkspaceOut.of(workspace, role, service.member_count(db, workspace_id))

    @get("/{workspace_id:str}/members", summary="Members and their roles", sync_to_thread=True)
    def members(self, workspace_id: FromPath[str], identity: IdentityDep, database: DatabaseDep) -> Page[MemberOut]:
        with database.session() as db:
            return Page(items=[MemberOut.of(m, u) for m, u in service.list_members(db, identity.user, workspace_id)])

    @post(
        "/{workspace_id:str}/members",
        summary="Invite a user by username (owners, admins)",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
    )
    def add_member(
        self, workspace_id: FromPath[str], data: JSONBody[MemberAdd], identity: IdentityDep, database: DatabaseDep,
        actor: ActorDep,
    ) -> MemberOut:
        with database.transaction() as db:
            membership, user = service.add_member(db, identity.user, workspace_id, data.username, data.role)
            _record_member(db, actor, Action.WORKSPACE_MEMBER_ADD, workspace_id, user.id, membership.role)
            return MemberOut.of(membership, user)

    @patch("/{workspace_id:str}/members/{user_id:str}", summary="Change a member's role", sync_to_thread=True)
    def change_role(
        self,
        workspace_id: FromPath[str],
        user_id: FromPath[str],
        data: JSONBody[MemberPatch],
        identity: IdentityDep,
        database: DatabaseDep,
        actor: ActorDep,
    ) -> MemberOut:
        with database.transaction() as db:
            membership, user = service.change_role(db, identity.user, workspace_id, user_id, data.role)
            _record_member(db, actor, Action.WORKSPACE_MEMBER_ROLE, workspace_id, user.id, membership.role)
            return MemberOut.of(membership, user)

    @delete(
        "/{workspace_id:str}/members/{user_id:str}",
        summary="Remove a member, or leave",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
    )
    def remove_member(
        self, workspace_id: FromPath[str], user_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
        actor: ActorDep,
    ) -> None:
        with database.transaction() as db:
            service.remove_member(db, identity.user, workspace_id, user_id)
            _record_member(db, actor, Action.WORKSPACE_MEMBER_REMOVE, workspace_id, user_id)
