"""Resolves the caller (API token or session cookie), guards cookie writes against CSRF, applies rate limits."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.handlers import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send, WebSocketScope

from mediastudio.auth.cache import IdentityCache
from mediastudio.auth.identity import Identity
from mediastudio.auth.ratelimit import RateLimiter
from mediastudio.auth.secrets import digest
from mediastudio.auth.sessions import TOUCH_EVERY, resolve_session, resolve_token
from mediastudio.common import utcnow
from mediastudio.db import Database
from mediastudio.edge.guard import refuse_socket
from mediastudio.errors import Forbidden, MediastudioError, Unauthorized
from mediastudio.settings import Settings

SESSION_COOKIE = "ms_session"
CSRF_COOKIE = "ms_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
METRICS_PATH = "/metrics"  # outside the API, yet read by administrators' tokens (system/metrics_controller.py)


class AuthServices(Protocol):
    """What the middleware reads of the app's services (`app.state.studio`, put there by the composition):
    middleware has no dependency injection, and this package never imports the composition."""

    @property
    def db(self) -> Database: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def limiter(self) -> RateLimiter: ...

    @property
    def identities(self) -> IdentityCache: ...


class UnsupportedMediaType(MediastudioError):
    status = 415
    title = "Unsupported media type"


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def foreign_origin(headers: Headers) -> bool:
    """True when a browser says the request comes from another site. `Origin: null` (sandboxed frames, data:
    pages, some redirects) is foreign too; no Origin at all is a non-browser client (or a same-origin GET)."""
    origin = headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def _bearer(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _websocket_token(scope: WebSocketScope) -> str | None:
    # Browsers cannot set headers on a WebSocket: a token may travel as the subprotocol "bearer.<token>".
    for protocol in scope.get("subprotocols", []) or []:
        if protocol.startswith("bearer."):
            return protocol.removeprefix("bearer.")
    return None


class AuthMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        try:
            self._authenticate(scope)
        except MediastudioError as exc:
            if scope["type"] != ScopeType.WEBSOCKET:
                raise
            # A refused WebSocket is accepted, then closed with 4000 + the HTTP status (e.g. 4401): a handshake
            # refused before accept reaches a browser's script only as a bare failure (HTTP 403).
            await refuse_socket(scope, receive, send, 4000 + exc.status, exc.detail)
            return
        await next_app(scope, receive, send)

    def _authenticate(self, scope: Scope) -> None:
        if scope["path"].startswith("/api/") or scope["path"] == METRICS_PATH:
            services: AuthServices = scope["litestar_app"].state.studio
            headers = Headers.from_scope(scope)
            identity = self._resolve(services, scope, headers)
            scope["auth"] = identity
            scope["user"] = identity.user if identity else None
            if scope["type"] == ScopeType.HTTP and scope["method"] not in SAFE_METHODS:
                self._check_cross_site(headers, identity)
            if scope["type"] == ScopeType.WEBSOCKET:
                self._check_socket_origin(headers, identity)
            handler = scope.get("route_handler")
            expensive = bool(handler and handler.opt.get("expensive"))
            services.limiter.check(user_id=identity.user.id if identity else None, ip=client_ip(scope),
                                   expensive=expensive)

    @staticmethod
    def _resolve(services: AuthServices, scope: Scope, headers: Headers) -> Identity | None:
        """The caller: from the identity cache (auth/cache.py) when it holds a good entry, else from the database
        (which also writes the once-a-minute "last seen"), remembered for the next requests."""
        token = _bearer(headers) or (_websocket_token(scope) if scope["type"] == ScopeType.WEBSOCKET else None)
        secret = None if token is not None else _cookie(headers, SESSION_COOKIE)
        if token is None and not secret:
            return None  # anonymous: no lookup at all
        cache = services.identities
        key = f"token:{digest(token)}" if token is not None else f"session:{digest(secret or '')}"
        cached = cache.get(key, utcnow(), TOUCH_EVERY)
        if cached is not None:
            return cached
        generation = cache.begin()
        identity: Identity | None = None
        with services.db.session() as db:
            if token is not None:
                found = resolve_token(db, token)
                if found is None:
                    raise Unauthorized("The API token is invalid, expired or revoked.",
                                       hint="Create a new one under Account → API tokens.")
                identity = Identity(user=found[1], via="token", token=found[0])
            elif secret:
                resolved = resolve_session(db, secret, days=services.settings.session_days)
                if resolved is not None:
                    identity = Identity(user=resolved[1], via="session", session=resolved[0])
        if identity is not None:
            cache.put(key, identity, generation)
        return identity

    @staticmethod
    def _check_cross_site(headers: Headers, identity: Identity | None) -> None:
        if identity is not None and identity.via == "token":
            return  # a token is never sent by a browser on its own: no CSRF risk
        if foreign_origin(headers):
            raise Forbidden("Cross-site requests are refused.",
                            hint="Use the studio's own pages, or an API token for scripts.")
        if identity is None:
            return
        assert identity.session is not None  # not a token (above): a browser session
        if headers.get(CSRF_HEADER) != identity.session.csrf_token:
            raise Forbidden("The CSRF token is missing or wrong.",
                            hint=f"Send the value of the '{CSRF_COOKIE}' cookie in the 'X-CSRF-Token' header.")

    @staticmethod
    def _check_socket_origin(headers: Headers, identity: Identity | None) -> None:
        # A WebSocket is not bound by the same-origin policy and carries cookies: another site's page could
        # open one as the signed-in user (and write, with no CSRF token). Tokens are never sent on their own.
        if (identity is None or identity.via != "token") and foreign_origin(headers):
            raise Forbidden("WebSockets from other sites are refused.",
                            hint="Open the studio's own pages, or send an API token (subprotocol bearer.<token>).")


def json_from_this_site(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard of the writes that open a session (setup, register, login, guest): only the studio's own pages
    or non-browser clients. A JSON body cannot be sent cross-site without a CORS preflight (which this server
    never grants), and a foreign or `null` Origin is refused: no login CSRF, no guest sessions planted by
    another site. The guest call has no body; a request without a Content-Type is allowed there."""
    headers = connection.headers
    if foreign_origin(headers):
        raise Forbidden("Logins from other sites are refused.", hint="Log in on the studio's own page.")
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json" and (kind or headers.get("content-length", "0") not in ("", "0")):
        raise UnsupportedMediaType("Send this request as JSON (Content-Type: application/json).",
                                   hint="The studio's pages and API clients send JSON bodies here; forms are "
                                        "refused.")
