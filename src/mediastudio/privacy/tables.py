"""Tables owned by privacy/: how long the studio keeps what it keeps (one row, id 1)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow


class Retention(SQLModel, table=True):
    """Made from the settings on first use; administrators edit it afterwards (Server settings → Retention)."""

    __tablename__ = "retention"

    id: int = Field(default=1, primary_key=True)
    trash_days: int  # a trashed project is purged after this many days
    guest_days: int  # a guest idle this long is removed with their sandbox
    audit_days: int  # audit log entries older than this are removed
    task_days: int  # finished tasks (and their files) older than this are removed from the history
    export_days: int  # a personal data export's archive is deleted this long after it is made
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str | None = None  # the administrator who last changed it (None: from the settings)
