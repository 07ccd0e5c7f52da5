"""Tables owned by media/: the asset index (rebuildable from assets/<id>.json in each project)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow


class Asset(SQLModel, table=True):
    __tablename__ = "assets"

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
    trashed_at: datetime | None = Field(None, index=True)
