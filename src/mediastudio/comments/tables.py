"""Tables owned by comments/: what each person has read, and their inbox. Neither belongs in a project's
history (it is per person), so neither is in the project's folder; the threads themselves are (files.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text
from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow


class CommentRead(SQLModel, table=True):
    """Until when a person has read a thread: its comments made later by others are unread to them."""

    __tablename__ = "comment_reads"

    user_id: str = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    project_id: str = Field(foreign_key="projects.id", primary_key=True, ondelete="CASCADE")
    thread_id: str = Field(primary_key=True)
    read_at: datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """One line of a person's inbox: a mention, a reply to their thread, a finished run of theirs."""

    __tablename__ = "notifications"

    id: str = Field(primary_key=True)
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    kind: str  # mention, reply, run, status (a shot of theirs: review/)
    project_id: str | None = Field(default=None, foreign_key="projects.id", ondelete="CASCADE")
    thread_id: str | None = None
    comment_id: str | None = None
    target_kind: str | None = None  # asset, scene, node, task
    target_id: str | None = None
    scene_id: str | None = None
    by: str | None = None
    text: str = ""
    created_at: datetime = Field(default_factory=utcnow, index=True)
    read_at: datetime | None = None


UNREAD_LINES = "ix_notifications_unread"  # (user_id, read_at, project_id): a person's unread count, on the index alone
INBOX_LINES = "ix_notifications_inbox"  # (user_id, created_at): a person's newest lines, read in order


def add_missing_indexes(conn: Connection) -> None:
    """The indexes the unread count and the inbox's pages are read on, for every database, new or older: without
    them the count read every line of the person's inbox, read or not, once per line added (each finished run adds
    one), and each page of the inbox sorted every line the person ever had."""
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notifications'")).first():
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {UNREAD_LINES} ON notifications (user_id, read_at, project_id)"))
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {INBOX_LINES} ON notifications (user_id, created_at)"))
