"""Tables owned by auth/: users, browser sessions, API tokens, server-wide auth policy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel, text

from mediastudio.common import utcnow


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True)
    username: str = Field(unique=True, index=True, description="Lower-case; unique.")
    display_name: str
    password_hash: str | None = None  # None for guests
    color: str
    is_admin: bool = False
    is_guest: bool = False
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow, index=True)


class AuthSession(SQLModel, table=True):
    """A browser session. The cookie holds a secret; the row holds only its hash."""

    __tablename__ = "sessions"

    id: str = Field(primary_key=True, description="sha256 of the cookie's secret")
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    csrf_token: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_seen_at: datetime = Field(default_factory=utcnow)
    user_agent: str = ""
    ip: str = ""


class ApiToken(SQLModel, table=True):
    """A personal API token (`Authorization: Bearer ms_…`), stored as a hash."""

    __tablename__ = "api_tokens"

    id: str = Field(primary_key=True)
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    name: str
    token_hash: str = Field(unique=True, index=True)
    prefix: str = Field(description="The token's first characters, to recognise it in a list.")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None


class AuthPolicy(SQLModel, table=True):
    """Server-wide switches an admin changes at run time (one row, id 1)."""

    __tablename__ = "auth_policy"

    id: int = Field(default=1, primary_key=True)
    registration_open: bool
    guests_enabled: bool
    mode: str | None = Field(default=None, description="Who the studio is for (auth/modes.py:StudioMode); None "
                             "until an administrator picks one (the switches then came from the settings).")


def add_missing_columns(conn: Connection) -> None:
    """Columns added after the table's first release, for databases made before them."""
    present = {row[1] for row in conn.execute(text("PRAGMA table_info(auth_policy)"))}
    if present and "mode" not in present:
        conn.execute(text("ALTER TABLE auth_policy ADD COLUMN mode VARCHAR"))


class FormerMember(SQLModel, table=True):
    """An account that was deleted: views show its work as a former member's (never its name again). Ids from
    other studios (an imported project's history) are not here, so they keep the names their commits carry."""

    __tablename__ = "former_members"

    user_id: str = Field(primary_key=True)
    deleted_at: datetime = Field(default_factory=utcnow)
