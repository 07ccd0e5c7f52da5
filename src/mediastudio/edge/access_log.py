"""The optional access log (`serve --access-log`): one line per HTTP request on the server's log."""

from __future__ import annotations

import logging
import re
import time

from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("mediastudio.access")
PATH_MAX = 300
# Path segments that are secrets themselves (an invitation link's); the query string is never logged at all.
SECRET_PATHS = (re.compile(r"^(/api/v1/auth/invites/)[^/]+"),)


def shown_path(path: str) -> str:
    """The path as logged: secrets masked, control characters replaced (one request, one line), bounded."""
    for pattern in SECRET_PATHS:
        path = pattern.sub(r"\1***", path)
    return "".join(c if c.isprintable() else "?" for c in path[:PATH_MAX])


class AccessLog:
    """ASGI wrapper: logs method, path, status, duration and client of each HTTP request once it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            log.info("%s %s %s %.1f ms %s", scope.get("method", "?"), shown_path(scope.get("path", "")),
                     status or "-", (time.perf_counter() - started) * 1000, client[0] if client else "-")
