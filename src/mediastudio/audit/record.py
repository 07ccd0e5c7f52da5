"""Writing the audit log: who is acting (`Actor`, a dependency of the handlers that record) and `record()`, which
adds an entry to the caller's own session, so the entry commits with the change it describes or not at all."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from sqlmodel import Session

from mediastudio.audit.actions import Action
from mediastudio.audit.tables import AuditEntry

NAME_MAX = 64
USER_AGENT_MAX = 300
LABEL_MAX = 200
DETAIL_TEXT_MAX = 200  # each string in the details
DETAILS_MAX = 2000  # the details' JSON as a whole
# Keys never kept in details, whatever a caller passes: a secret has no business in a log anyone may download.
SECRET_WORDS = ("password", "secret", "token", "hash", "cookie", "authorization", "csrf")


class Person(Protocol):
    """What the log reads of an account (auth's `User`; this room sits below auth and imports no feature)."""

    @property
    def id(self) -> str: ...

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    """Who does it and from where, as the server sees them."""

    user_id: str | None
    name: str
    ip: str = ""
    user_agent: str = ""

    def signed_in_as(self, user: Person) -> Actor:
        """The same client acting as `user` (who just logged in or registered)."""
        return Actor(user_id=user.id, name=user.username, ip=self.ip, user_agent=self.user_agent)


COMMAND_LINE = Actor(user_id=None, name="command line", ip="local")
STUDIO = Actor(user_id=None, name="studio", ip="local")  # the server's own sweeps (expired guests, the trash)


def provide_actor(request: ASGIConnection) -> Actor:
    """Dependency: the caller (or "anonymous"), their address and their browser. The caller is the identity the
    auth middleware resolved (`scope["auth"]`), the address the one the server sees (as auth's `client_ip`)."""
    identity = request.scope.get("auth")
    user: Person | None = identity.user if identity is not None else None
    client = request.scope.get("client")
    return Actor(user_id=user.id if user else None, name=user.username if user else "anonymous",
                 ip=(client[0] if client else "unknown")[:NAME_MAX],
                 user_agent=request.headers.get("user-agent", "")[:USER_AGENT_MAX])


@dataclass(frozen=True)
class Target:
    kind: str
    id: str = ""
    label: str = ""

    @classmethod
    def user(cls, user: Person) -> Target:
        return cls("user", user.id, user.username)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value[:DETAIL_TEXT_MAX]
    if isinstance(value, dict):
        return {str(k)[:NAME_MAX]: _clean(v) for k, v in value.items()
                if not any(word in str(k).lower() for word in SECRET_WORDS)}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value[:50]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:DETAIL_TEXT_MAX]


def details_json(details: dict[str, Any] | None) -> str:
    """The details as bounded JSON, keys that name a secret left out."""
    text = json.dumps(_clean(details or {}), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= DETAILS_MAX else json.dumps({"truncated": text[:DETAILS_MAX - 50]})


def record(db: Session, actor: Actor, action: Action, target: Target | None = None,
           details: dict[str, Any] | None = None) -> None:
    """Add one entry to `db`'s transaction (committed with the change it describes)."""
    target = target or Target("")
    db.add(AuditEntry(actor_id=actor.user_id, actor_name=actor.name[:NAME_MAX], ip=actor.ip[:NAME_MAX],
                      user_agent=actor.user_agent[:USER_AGENT_MAX], action=action.value,
                      target_kind=target.kind, target_id=target.id[:NAME_MAX],
                      target_label=target.label[:LABEL_MAX], details=details_json(details)))


ActorDep = NamedDependency[Actor]
