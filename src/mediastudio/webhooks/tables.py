"""Tables owned by webhooks/: registrations and their deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Connection, text
from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow


class Webhook(SQLModel, table=True):
    __tablename__ = "webhooks"

    id: str = Field(primary_key=True)
    owner_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    project_id: str | None = Field(default=None, foreign_key="projects.id", index=True, ondelete="CASCADE")
    url: str
    secret: str
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str = ""
    active: bool = True
    # Why the server turned the hook off (its owner lost access to the project, the account was disabled).
    disabled_reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


def add_missing_columns(conn: Connection) -> None:
    """Columns added after the table's first release, for databases made before them (create_all only
    makes missing tables)."""
    present = {row[1] for row in conn.execute(text("PRAGMA table_info(webhooks)"))}
    if present and "disabled_reason" not in present:
        conn.execute(text("ALTER TABLE webhooks ADD COLUMN disabled_reason VARCHAR"))


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"

    id: str = Field(primary_key=True)
    webhook_id: str = Field(foreign_key="webhooks.id", index=True, ondelete="CASCADE")
    event_type: str
    task_id: str | None = None
    payload: str  # the exact JSON body that is signed and sent
    status: str = Field(default="pending", index=True)  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    response_status: int | None = None
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


NEWEST_DELIVERIES = "ix_webhook_deliveries_newest"  # (webhook_id, created_at): a hook's page of deliveries, in order


def add_missing_indexes(conn: Connection) -> None:
    """The index a hook's deliveries page is read on, for every database, new or older: without it the page sorted
    every delivery the hook ever had, each with its body (deliveries are kept)."""
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'webhook_deliveries'")).first():
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {NEWEST_DELIVERIES} "
                          "ON webhook_deliveries (webhook_id, created_at)"))
