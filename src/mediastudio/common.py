"""Small shared pieces: ids, UTC time, list pages, answers encoded already."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar, cast

from pydantic import AfterValidator, BaseModel

T = TypeVar("T")
M = TypeVar("M")


def new_id(prefix: str) -> str:
    """A short random id with a readable prefix, e.g. `ws_3f9a0c1d2e4b5a6f`."""
    return f"{prefix}_{secrets.token_hex(8)}"


def utcnow() -> datetime:
    """Aware UTC 'now' (SQLModel stores and returns aware datetimes)."""
    return datetime.now(UTC)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class Page(BaseModel, Generic[T]):
    """Every list endpoint answers `{items, next_cursor}`; next_cursor is null on the last page."""

    items: list[T]
    next_cursor: str | None = None


def encoded_as(body: bytes, _model: type[M]) -> M:
    """A JSON answer encoded already, returned by a handler annotated with `model` (the API document stays
    true): Litestar sends bytes as they are."""
    return cast(M, body)
