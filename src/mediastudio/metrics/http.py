"""The ASGI wrapper that counts every request by route template and status class, and the open WebSockets.

Routes are labelled by their template (`/api/v1/projects/{project_id}`), which the router writes into the
scope, never by the raw path: the series stay as many as the routes. A request the router never saw (a
refused Host, the edge's kept health answer, HEAD on a page) is `unrouted`, except the health probe, which
is named by its path.
"""

from __future__ import annotations

import time

from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from mediastudio.metrics.registry import Registry

HEALTH_PATH = "/api/v1/health"
UNROUTED = "unrouted"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
STATUS_CLASSES = ("0xx", "1xx", "2xx", "3xx", "4xx", "5xx")  # by status // 100 (0: none sent)


def _route(scope: Scope) -> str:
    template = scope.get("path_template")
    if template:
        return str(template)
    return HEALTH_PATH if scope.get("path") == HEALTH_PATH else UNROUTED


class RequestMetrics:
    """Counts requests (method, route, status class) with their duration, and open sockets by endpoint."""

    def __init__(self, app: ASGIApp, registry: Registry) -> None:
        self.app = app
        self.seconds = registry.histogram("mediastudio_http_request_duration_seconds",
                                          "Time from a request's arrival to the end of its answer",
                                          ("method", "route", "status"))
        # The count is the histogram's: one update per request, not two.
        registry.count_of("mediastudio_http_requests_total",
                          "HTTP requests answered, by method, route template and status class", self.seconds)
        self.sockets_open = registry.gauge("mediastudio_websockets_open", "WebSockets open now, by endpoint",
                                           ("endpoint",))
        self.sockets = registry.counter("mediastudio_websocket_connections_total",
                                        "WebSockets accepted, by endpoint", ("endpoint",))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)  # type: ignore[arg-type]
        elif scope["type"] == "websocket":
            await self._socket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = [500]  # an exception before the answer started is answered 500 by the server

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            status_class = STATUS_CLASSES[status[0] // 100] if 100 <= status[0] < 600 else "other"
            self.seconds.observe(time.perf_counter() - started, method, _route(scope), status_class)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted: list[str] = []

        async def send_counted(message: Message) -> None:
            if message["type"] == "websocket.accept" and not accepted:
                accepted.append(_route(scope))
                self.sockets.inc(accepted[0])
                self.sockets_open.inc(accepted[0])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            if accepted:
                self.sockets_open.dec(accepted[0])
