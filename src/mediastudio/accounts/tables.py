"""Tables owned by accounts/: invitations to register."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow


class Invite(SQLModel, table=True):
    """A link an administrator hands out: whoever holds it may register while registration is closed, until it
    expires or its uses run out. The link holds a secret; the row holds only its hash."""

    __tablename__ = "invites"

    id: str = Field(primary_key=True, description="sha256 of the link's secret")
    created_by: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    note: str = ""
    uses_left: int
    used: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class Preferences(SQLModel, table=True):
    """What a person's studio remembers for them across browsers: where they are in the guided tour. One row per
    user, made on their first change; a user without one has never seen the tour."""

    __tablename__ = "user_preferences"

    user_id: str = Field(primary_key=True, foreign_key="users.id", ondelete="CASCADE")
    tour_status: str = "new"
    tour_step: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
