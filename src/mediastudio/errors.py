"""Errors as values the user can act on, mapped to HTTP problem details in one place."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

log = logging.getLogger("mediastudio")

PROBLEM_JSON = "application/problem+json"


class MediastudioError(Exception):
    """Base of every error a person can act on. Subclasses set status and title."""

    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str, *, hint: str | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint
        self.headers = headers or {}
        self.extra = extra


class BadRequest(MediastudioError):
    status = 400
    title = "Invalid request"


class Unauthorized(MediastudioError):
    status = 401
    title = "Not logged in"


class Forbidden(MediastudioError):
    status = 403
    title = "Not allowed"


class NotFound(MediastudioError):
    status = 404
    title = "Not found"


class Unprocessable(MediastudioError):
    """Well-formed (it matches the OpenAPI document) but refused by a rule no schema can state: a password
    that is too easy to guess, a reserved name, parameters that do not fit the chosen kind of task. A 400
    means the request breaks the document; a 422 means it keeps to it and the server still cannot accept it."""

    status = 422
    title = "Not accepted"


class Conflict(MediastudioError):
    status = 409
    title = "Conflict"


class TooManyRequests(MediastudioError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(detail, hint=hint, headers={"Retry-After": str(max(1, retry_after))},
                         retry_after=max(1, retry_after))


class InsufficientStorage(MediastudioError):
    """507: the server cannot store what the request needs (its disk is full, or a storage quota is reached)."""

    status = 507
    title = "Insufficient storage"


# A full disk, a filesystem quota, a file-size limit: the request cannot be stored, and saying "unexpected
# error; nothing you sent was lost" would be false.
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
NO_SPACE_WORDS = (*(os.strerror(number) for number in sorted(NO_SPACE_ERRNOS)), "Out of diskspace")  # git's own


# -- errors of running tasks (raised by task kinds and generation nodes, handled by the task runner) --------
class Cancelled(Exception):
    """Raised by a task's `check_cancelled()`; the task ends `cancelled` and its partial outputs are discarded."""


class TaskFailed(Exception):
    """A task's failure with a message (and hint) for the person who started it."""

    def __init__(self, message: str, *, code: str = "failed", hint: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def disk_full(exc: BaseException | None) -> bool:
    """Whether `exc` (or what caused it) says the disk is full: an OSError, or SQLite's SQLITE_FULL."""
    for _ in range(8):  # the chain of causes, bounded
        if exc is None:
            return False
        if isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS:
            return True
        if isinstance(exc, sqlite3.Error) and (getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
                                               or "database or disk is full" in str(exc)):
            return True
        if any(words in str(exc) for words in NO_SPACE_WORDS):  # a subprocess's (git's) own report of it
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__  # SQLAlchemy keeps it in .orig
    return False


def problem(status: int, detail: str, *, title: str | None = None, hint: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response[dict[str, Any]]:
    """A problem-details response: {status, title, detail, hint?}."""
    body: dict[str, Any] = {
        "status": status,
        "title": title or HTTPStatus(status).phrase,
        "detail": detail,
    }
    if hint:
        body["hint"] = hint
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _on_mediastudio_error(_: Request, exc: MediastudioError) -> Response[dict[str, Any]]:
    return problem(exc.status, exc.detail, title=exc.title, hint=exc.hint, headers=exc.headers, **exc.extra)


def _on_validation_error(_: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    errors = [e for e in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(e, dict)]
    fields = [f"{e.get('key') or e.get('source', 'body')}: {e.get('message')}" for e in errors]
    detail = "The request is not valid: " + "; ".join(fields) if fields else str(exc.detail)
    extra: dict[str, Any] = {}
    if len(errors) == 1 and errors[0].get("key"):
        extra["field"] = str(errors[0]["key"]).split(".")[0]  # forms show it beside the field, as for our own 400s
        key, message = str(errors[0]["key"]), str(errors[0].get("message", ""))
        if message.endswith("."):  # our own sentences (api_types.text), not pydantic's
            detail = message if "." not in key else f"{key}: {message}"
    return problem(400, detail, title="Invalid request", errors=errors, **extra,
                   hint="Fix the fields listed in 'errors' and send the request again.")


def _on_http_error(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status == 404:
        return problem(404, f"Nothing is at {request.url.path}.",
                       hint="See /api/docs for the paths this server offers.")
    headers = {k.title(): v for k, v in (exc.headers or {}).items()}  # e.g. Allow on a 405 (RFC 9110)
    if status == 405:
        allowed = ", ".join(sorted(m.strip() for m in headers.get("Allow", "").split(",") if m.strip()))
        headers["Allow"] = allowed  # the router's order varies between starts
        return problem(405, f"{request.method} is not allowed on {request.url.path}"
                       + (f"; it accepts {allowed}." if allowed else "."),
                       hint="See /api/docs for the methods each path accepts.", headers=headers)
    return problem(status, str(exc.detail), headers=headers)


def _on_unexpected_error(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    if disk_full(exc):
        return _out_of_space(request, exc)
    log.exception("Unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "The server hit an unexpected error; nothing you sent was lost.",
                   hint="Try again. If it keeps happening, the server log has the details.")


def _out_of_space(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.error("Out of disk space on %s %s: %s", request.method, request.url.path, exc)
    return problem(507, "The server ran out of disk space; what this request was storing was not saved.",
                   title="Insufficient storage",
                   hint="Try again once the administrator has freed space on the server's data disk.")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    MediastudioError: _on_mediastudio_error,
    ValidationException: _on_validation_error,
    HTTPException: _on_http_error,
    Exception: _on_unexpected_error,
}
