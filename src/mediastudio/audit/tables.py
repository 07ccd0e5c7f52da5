"""Tables owned by audit/: the append-only log of what people (and the command line) did to the studio."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow


class AuditEntry(SQLModel, table=True):
    """One thing done: rows are only ever added (audit/record.py) and removed by the retention sweep."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_kind", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)  # grows with each entry: the paging key
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: str | None = Field(default=None, index=True)  # None: anonymous, or the command line
    actor_name: str  # the username then ("command line"; the name tried, for a failed login)
    ip: str = ""  # the client address as the server saw it ("local" for the command line)
    user_agent: str = ""
    action: str = Field(index=True)  # one of audit/actions.py:Action
    target_kind: str = ""  # user, project, workspace, model, token, invite, webhook, settings
    target_id: str = ""
    target_label: str = ""  # a short name of the target then (a username, a project name)
    details: str = "{}"  # a small JSON object (never a password, secret or token)
