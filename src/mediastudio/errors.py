"""Errors as values the user can act on, mapped to HTTP problem details in one place."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

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


class Conflict(MediastudioError):
    status = 409
    title = "Conflict"


class TooManyRequests(MediastudioError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(detail, hint=hint, headers={"Retry-After": str(max(1, retry_after))},
                         retry_after=max(1, retry_after))


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
    errors = exc.extra if isinstance(exc.extra, list) else []
    fields = [f"{e.get('key') or e.get('source', 'body')}: {e.get('message')}" for e in errors
              if isinstance(e, dict)]
    detail = "The request is not valid: " + "; ".join(fields) if fields else str(exc.detail)
    return problem(400, detail, title="Invalid request", errors=errors,
                   hint="Fix the fields listed in 'errors' and send the request again.")


def _on_http_error(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status == 404:
        return problem(404, f"Nothing is at {request.url.path}.",
                       hint="See /api/docs for the paths this server offers.")
    headers = {k.title(): v for k, v in (exc.headers or {}).items()}  # e.g. Allow on a 405 (RFC 9110)
    if status == 405:
        allowed = headers.get("Allow", "")
        return problem(405, f"{request.method} is not allowed on {request.url.path}"
                       + (f"; it accepts {allowed}." if allowed else "."),
                       hint="See /api/docs for the methods each path accepts.", headers=headers)
    return problem(status, str(exc.detail), headers=headers)


def _on_unexpected_error(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.exception("Unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "The server hit an unexpected error; nothing you sent was lost.",
                   hint="Try again. If it keeps happening, the server log has the details.")


EXCEPTION_HANDLERS = {
    MediastudioError: _on_mediastudio_error,
    ValidationException: _on_validation_error,
    HTTPException: _on_http_error,
    Exception: _on_unexpected_error,
}
