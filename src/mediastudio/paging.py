"""The cursor of the list endpoints that page by offset, stated in the OpenAPI document as the server checks it."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

OFFSET_PATTERN = r"^[0-9]{1,9}$"

OffsetCursor = Annotated[str | None, QueryParameter(
    pattern=OFFSET_PATTERN, description="The `next_cursor` of the previous page (omit it for the first page).")]


def offset_of(cursor: str | None) -> int:
    """The offset a cursor names; 0 for none. Only ASCII digits count ('²'.isdigit() is True, int('²') fails)."""
    return int(cursor) if cursor and cursor.isascii() and cursor.isdigit() else 0
