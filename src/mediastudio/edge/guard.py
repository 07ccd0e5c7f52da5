"""The outermost layer of the app: refuses Host names the studio does not answer to, adds security headers,
answers HEAD on the UI's files and pages as GET would, without the body, and gives anonymous health probes the
last good health answer while it is under a second old.

It wraps Litestar's whole ASGI handler (not a route middleware), so it also covers answers no route made:
unknown methods, router 404/405s, errors.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send, WebSocketScope

from mediastudio.edge.headers import page_script_hashes, with_security_headers
from mediastudio.edge.hosts import HostPolicy, host_name, refusal

PROBLEM_JSON = b"application/problem+json"
HEALTH_PATH = "/api/v1/health"
HEALTH_KEPT_S = 1.0  # how long a health answer is given again to anonymous probes (the database check's own)
TITLES = {400: "Bad Request", 421: "Misdirected Request"}


def single_header(scope: Scope, name: bytes) -> str | None:
    """The value of a header sent once; None when absent or repeated (two Hosts: which one is meant?)."""
    values = [value for key, value in scope.get("headers", []) if key.lower() == name]
    return values[0].decode("latin-1") if len(values) == 1 else None


def close_reason(text: str) -> str:
    """A WebSocket close reason fits in 123 bytes of UTF-8."""
    encoded = text.encode()[:123]
    return encoded.decode(errors="ignore")


async def refuse_socket(scope: WebSocketScope, receive: Receive, send: Send, code: int, reason: str) -> None:
    """Accept, then close with `code`: a browser's script sees only a close code, never a refused handshake's
    status. The offered subprotocol is echoed, or a browser that offered one fails the socket without the code."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    offered = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None, "headers": []})
    await send({"type": "websocket.close", "code": code, "reason": close_reason(reason)})


def _anonymous_probe(scope: HTTPScope) -> bool:
    """A plain `GET /api/v1/health`: no query, no cookie, no credentials (a monitor or a load balancer)."""
    return scope["method"] == "GET" and scope["path"] == HEALTH_PATH and not scope.get("query_string") \
        and not any(key.lower() in (b"cookie", b"authorization") for key, _ in scope.get("headers", []))


class EdgeGuard:
    def __init__(self, app: ASGIApp, hosts: HostPolicy, index_html: Path, hsts: bytes | None = None) -> None:
        self.app = app
        self.hosts = hosts
        self.hsts = hsts  # Strict-Transport-Security on HTTPS answers (`serve --hsts`); None: never
        self.hashes = page_script_hashes(index_html)  # read once: the build does not change while serving
        # The last good health answer (when, status line headers, body): monitors and load balancers poll it
        # many times a second, and the framework's path costs twice the answer (`_probe`).
        self._health: tuple[float, list[tuple[bytes, bytes]], bytes] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = (single_header(scope, b"host") or "").strip()
        name = host_name(raw)
        if not self.hosts.allows(name):
            await self._refuse(scope, receive, send, raw, name)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        hsts = self.hsts if scope.get("scheme") == "https" else None
        if _anonymous_probe(cast(HTTPScope, scope)):
            await self._probe(scope, receive, send, raw, hsts)
            return

        # HEAD on the UI (a file of the build or a page) is the GET without its body: link checkers, proxies and
        # uptime monitors ask it. The API keeps its own methods (a HEAD there is a 405 naming them).
        head = cast(HTTPScope, scope)["method"] == "HEAD" and not scope["path"].startswith("/api/")
        if head:
            scope = cast(HTTPScope, {**scope, "method": "GET"})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers", [])), self.hashes, raw,
                                                           hsts)
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}  # Content-Length stays: the size the GET would send
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _probe(self, scope: Scope, receive: Receive, send: Send, raw: str, hsts: bytes | None) -> None:
        """An anonymous health probe: the app's last good (200) answer again while it is under a second old —
        the database is asked at most once a second anyway (`Database.check`) — else the app's own answer, kept.
        A failing check is never kept: the next probe asks again."""
        kept = self._health
        if kept is not None and time.monotonic() - kept[0] < HEALTH_KEPT_S:
            await send({"type": "http.response.start", "status": 200,
                        "headers": with_security_headers(list(kept[1]), self.hashes, raw, hsts)})
            await send({"type": "http.response.body", "body": kept[2], "more_body": False})
            return
        started = time.monotonic()
        answer: dict[str, object] = {}

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"], answer["headers"] = message["status"], list(message.get("headers", []))
                message["headers"] = with_security_headers(list(message.get("headers", [])), self.hashes, raw,
                                                           hsts)
            elif message["type"] == "http.response.body":
                answer["body"] = cast(bytes, answer.get("body", b"")) + message.get("body", b"")
                if not message.get("more_body") and answer.get("status") == 200:
                    self._health = (started, cast(list[tuple[bytes, bytes]], answer["headers"]),
                                    cast(bytes, answer["body"]))
            await send(message)

        await self.app(scope, receive, send_and_keep)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, raw: str, name: str | None) -> None:
        status, detail, hint = refusal(raw, name)
        if scope["type"] == ScopeType.WEBSOCKET:
            await refuse_socket(scope, receive, send, 4000 + status, detail)
            return
        body = json.dumps({"status": status, "title": TITLES[status], "detail": detail, "hint": hint}).encode()
        headers = [(b"content-type", PROBLEM_JSON), (b"content-length", str(len(body)).encode()),
                   (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": status,
                    "headers": with_security_headers(headers, [], None)})
        await send({"type": "http.response.body", "body": body, "more_body": False})
