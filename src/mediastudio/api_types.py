"""Constrained text for request bodies: checked by pydantic with a message a person can act on, and stated
in the OpenAPI document, so that a request the document allows is not refused.

Litestar's document drops a pydantic `pattern`, and a Parameter beside StringConstraints replaces their
lengths: `text()` states all of them once, in both places. It also drops the bounds of a number whose field may be
null (`Annotated[float, Field(ge=0)] | None`): `number()` states them in both places.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.params import Parameter
from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

NOT_BLANK = r"\S"  # JSON Schema patterns search: "holds something other than spaces"
# One line of text: no control characters (a newline would end a commit's first line; they match nothing a
# person typed and would end up in logs).
PLAIN_LINE = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$"


def text(*, min_length: int | None = None, max_length: int | None = None, pattern: str | None = None,
         message: str = "", description: str | None = None) -> tuple[Any, ...]:
    """Metadata for `Annotated[str, *text(…)]`; `message` is the answer when `pattern` does not match."""
    checks: list[Any] = [StringConstraints(min_length=min_length, max_length=max_length),
                         Parameter(min_length=min_length, max_length=max_length, pattern=pattern,
                                   description=description)]
    if pattern is not None:
        compiled = re.compile(pattern)

        def check(value: str) -> str:
            if not compiled.search(value):
                raise PydanticCustomError("pattern_mismatch", message or f"must match {pattern}")
            return value

        checks.append(AfterValidator(check))
    return tuple(checks)


def number(*, ge: float | None = None, le: float | None = None) -> tuple[Any, ...]:
    """Metadata for `Annotated[float, *number(…)]`: the bounds checked by pydantic and stated in the document."""
    return Parameter(ge=ge, le=le), Field(ge=ge, le=le)
