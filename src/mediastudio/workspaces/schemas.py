"""What the workspace API takes and answers."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter
from pydantic import BaseModel, Field

from mediastudio.api_types import NOT_BLANK, text
from mediastudio.auth.tables import User
from mediastudio.common import UtcDatetime
from mediastudio.workspaces.roles import ProjectRole, WorkspaceRole
from mediastudio.workspaces.tables import Membership, Workspace

NAME_MAX = 80
Name = Annotated[str, *text(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK,
                             message="A name needs something besides spaces.")]


class WorkspaceCreate(BaseModel):
    name: Name


class WorkspacePatch(BaseModel):
    name: Annotated[Name | None, Parameter(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK)] = None
    default_project_role: ProjectRole | None = Field(
        None, description="The role members get on projects that do not name one for them.")


class WorkspaceOut(BaseModel):
    id: str
    name: str
    kind: str = Field(description="personal | team")
    role: WorkspaceRole = Field(description="Your role in it.")
    default_project_role: ProjectRole
    member_count: int
    created_at: UtcDatetime

    @classmethod
    def of(cls, workspace: Workspace, role: str, member_count: int) -> WorkspaceOut:
        return cls(id=workspace.id, name=workspace.name, kind=workspace.kind, role=role,
                   default_project_role=workspace.default_project_role,
                   member_count=member_count, created_at=workspace.created_at)


class MemberUser(BaseModel):
    id: str
    username: str
    display_name: str
    color: str


class MemberOut(BaseModel):
    user: MemberUser
    role: WorkspaceRole
    created_at: UtcDatetime

    @classmethod
    def of(cls, membership: Membership, user: User) -> MemberOut:
        return cls(user=MemberUser.model_validate(user, from_attributes=True),
                   role=membership.role, created_at=membership.created_at)


class MemberAdd(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="The person's username.")
    role: WorkspaceRole = "member"


class MemberPatch(BaseModel):
    role: WorkspaceRole
