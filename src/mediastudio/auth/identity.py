"""Who is calling: resolved once per request by the auth middleware, read by controllers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from sqlmodel import Session

from mediastudio.auth.tables import ApiToken, AuthSession, User
from mediastudio.common import utcnow
from mediastudio.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Identity:
    user: User
    via: Literal["session", "token"]
    session: AuthSession | None = None
    token: ApiToken | None = None


def current_identity(connection: ASGIConnection) -> Identity | None:
    identity: Identity | None = connection.scope.get("auth")
    return identity


def provide_identity(request: ASGIConnection) -> Identity:
    """Dependency: the caller; 401 when anonymous."""
    identity = current_identity(request)
    if identity is None:
        raise Unauthorized("You need to log in to do this.",
                           hint="Log in (POST /api/v1/auth/login), try as a guest (POST /api/v1/auth/guest), "
                                "or send an API token as 'Authorization: Bearer <token>'.")
    return identity


def provide_optional_identity(request: ASGIConnection) -> Identity | None:
    return current_identity(request)


def provide_admin(request: ASGIConnection) -> Identity:
    identity = provide_identity(request)
    if not identity.user.is_admin:
        raise Forbidden("Only administrators can do this.")
    return identity


def admins_only(connection: ASGIConnection, _handler: object) -> None:
    """A guard: refuses anyone but an administrator before the request's parameters are even read (a
    non-administrator learns nothing of what a route would take)."""
    provide_admin(connection)


IdentityDep = NamedDependency[Identity]
OptionalIdentityDep = NamedDependency[Identity | None]


def current_user(db: Session, identity: Identity) -> User | None:
    """The caller again, if the session or token the socket was opened with still holds."""
    now = utcnow()
    if identity.via == "token":
        token = db.get(ApiToken, identity.token.id) if identity.token is not None else None
        if token is None or (token.expires_at is not None and token.expires_at <= now):
            return None
    else:
        session = db.get(AuthSession, identity.session.id) if identity.session is not None else None
        if session is None or session.expires_at <= now:
            return None
    user = db.get(User, identity.user.id)
    return None if user is None or user.disabled else user
