"""Tables owned by projects/: the project index and the asset index (rebuildable from the folders: assets/<id>.json)
and per-project roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Index, text
from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow

NEWEST_ASSETS = "ix_assets_project_created"
ASSETS_BY_NAME = "ix_assets_project_name"  # a project's assets by name (a shot's next take: engine/run.py)


class Project(SQLModel, table=True):
    """One row per project folder; the folder (project.json + git) is the truth."""

    __tablename__ = "projects"

    id: str = Field(primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    name: str = Field(index=True)
    description: str = ""
    tags: str = Field(default="", description="Tags, space-separated, lower-case")
    archived: bool = Field(default=False, index=True)
    cover_asset_id: str | None = None
    template: str = "blank"
    created_by: str = Field(index=True)
    contributors: str = Field(default="", description="User ids of everyone who committed, space-separated")
    scene_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    trashed_at: datetime | None = Field(default=None, index=True)


class ProjectTag(SQLModel, table=True):
    __tablename__ = "project_tags"

    project_id: str = Field(foreign_key="projects.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(primary_key=True, index=True)


class ProjectRoleOverride(SQLModel, table=True):
    """A member's role on one project, instead of the workspace's default."""

    __tablename__ = "project_roles"

    project_id: str = Field(foreign_key="projects.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    role: str


class Asset(SQLModel, table=True):
    __tablename__ = "assets"
    # A project's newest media first (its cover when none is chosen) without reading its other assets.
    __table_args__ = (Index(NEWEST_ASSETS, "project_id", "created_at"), Index(ASSETS_BY_NAME, "project_id", "name"))

    id: str = Field(primary_key=True)
    project_id: str = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    name: str = Field(index=True)
    category: str = Field(index=True, description="image | video | audio | model | reference | generated")
    mime: str
    size: int
    sha256: str = Field(index=True)
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    tags: str = ""
    created_by: str
    created_at: datetime = Field(default_factory=utcnow, index=True)
    trashed_at: datetime | None = Field(default=None, index=True)


def add_missing_indexes(conn: Connection) -> None:
    """Indexes added after the table's first release, for databases made before them (create_all makes the
    indexes of the tables it creates, never those of a table already there)."""
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'assets'")).first():
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {NEWEST_ASSETS} ON assets (project_id, created_at)"))
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {ASSETS_BY_NAME} ON assets (project_id, name)"))
