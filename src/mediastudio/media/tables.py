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


class StoredBlob(SQLModel, table=True):
    """The storage quota's ledger: each distinct blob a user added (upload, import, generated result), once.

    A user's usage is the sum over the rows whose blob an asset still names (media/quota.py)."""

    __tablename__ = "user_blobs"

    user_id: str = Field(primary_key=True, foreign_key="users.id", ondelete="CASCADE")
    sha256: str = Field(primary_key=True, index=True)
    size: int
