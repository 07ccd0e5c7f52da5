"""Tables owned by workspaces/: workspaces and memberships."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"

    id: str = Field(primary_key=True)
    name: str
    kind: str = Field(description="personal | team")
    default_project_role: str = Field(default="editor", description="owner | editor | viewer")
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"

    workspace_id: str = Field(foreign_key="workspaces.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", primary_key=True, index=True, ondelete="CASCADE")
    role: str = Field(description="owner | admin | member")
    created_at: datetime = Field(default_factory=utcnow)
