"""Tables owned by workflows/: the workflows of each workspace's library."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow


class Workflow(SQLModel, table=True):
    __tablename__ = "workflows"

    id: str = Field(primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    name: str
    description: str = ""
    graph: str = Field(description="The fragment's JSON (graph/fragment.py), checked when saved")
    node_count: int = 0
    preview: bytes | None = Field(default=None, description="A small PNG, JPEG or WebP picture, if one was given")
    preview_mime: str | None = None
    created_by: str | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
