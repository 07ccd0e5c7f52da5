"""Tables owned by media/: the storage quota's ledger. (The asset index is a project table: projects/tables.py.)"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class StoredBlob(SQLModel, table=True):
    """The storage quota's ledger: each distinct blob a user added (upload, import, generated result), once.

    A user's usage is the sum over the rows whose blob an asset still names (media/quota.py)."""

    __tablename__ = "user_blobs"

    user_id: str = Field(primary_key=True, foreign_key="users.id", ondelete="CASCADE")
    sha256: str = Field(primary_key=True, index=True)
    size: int
