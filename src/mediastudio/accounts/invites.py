"""Invitations to register: an administrator makes a link (`/register?invite=<secret>`); while it is valid
(not expired, uses left) whoever holds it may register even with registration closed. Only the secret's hash is
kept; the link is shown once, when it is made."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from mediastudio.accounts.tables import Invite
from mediastudio.auth.secrets import digest, new_secret
from mediastudio.auth.tables import User
from mediastudio.common import utcnow
from mediastudio.errors import Forbidden, NotFound

SECRET_MAX = 128  # a link's secret is 43 characters; anything longer is not one


def make(db: Session, admin: User, *, days: int, uses: int, note: str) -> tuple[Invite, str]:
    """A new invitation and its secret (shown once)."""
    secret = new_secret()
    invite = Invite(id=digest(secret), created_by=admin.id, note=note.strip(), uses_left=uses,
                    expires_at=utcnow() + timedelta(days=days))
    db.add(invite)
    db.flush()
    return invite, secret


def active(db: Session) -> list[Invite]:
    return list(db.exec(select(Invite).where(col(Invite.expires_at) > utcnow(), col(Invite.uses_left) > 0)
                        .order_by(col(Invite.created_at).desc())).all())


def find(db: Session, secret: str) -> Invite | None:
    """The valid invitation of a link's secret, or None (unknown, expired or used up)."""
    if not secret or len(secret) > SECRET_MAX:
        return None
    invite = db.get(Invite, digest(secret))
    if invite is None or invite.uses_left <= 0 or invite.expires_at <= utcnow():
        return None
    return invite


def use(db: Session, secret: str) -> Invite:
    """Takes one use of the invitation, in the registering transaction (two people on a last use: one gets it)."""
    invite = find(db, secret)
    if invite is None:
        raise Forbidden("This invitation link has expired or has been used.",
                        hint="Ask the administrator who sent it for a new one.")
    invite.uses_left -= 1
    invite.used += 1
    db.add(invite)
    db.flush()
    return invite


def revoke(db: Session, invite_id: str) -> Invite:
    invite = db.get(Invite, invite_id[:64])
    if invite is None:
        raise NotFound("There is no such invitation.", hint="GET /api/v1/admin/invites lists the valid ones.")
    db.delete(invite)
    return invite

