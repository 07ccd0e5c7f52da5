"""Browser sessions and API tokens: created, resolved from a request, revoked."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from mediastudio.auth.secrets import digest, new_api_token, new_secret
from mediastudio.auth.tables import ApiToken, AuthSession, User
from mediastudio.common import new_id, utcnow
from mediastudio.errors import BadRequest, Forbidden, NotFound

# Writing "last seen" on every request would make every read a write; once a minute is plenty.
TOUCH_EVERY = timedelta(seconds=60)
TOKEN_NAME_MAX = 64
TOKEN_DAYS_MAX = 3650


def create_session(db: Session, user: User, *, days: int, user_agent: str = "",
                   ip: str = "") -> tuple[str, AuthSession]:
    secret = new_secret()
    now = utcnow()
    session = AuthSession(id=digest(secret), user_id=user.id, csrf_token=new_secret(), created_at=now,
                          expires_at=now + timedelta(days=days), last_seen_at=now,
                          user_agent=user_agent[:300], ip=ip[:64])
    db.add(session)
    return secret, session


def _touch_user(db: Session, user: User, now: datetime) -> None:
    if now - user.last_seen_at > TOUCH_EVERY:
        user.last_seen_at = now
        db.add(user)


def resolve_session(db: Session, secret: str, *, days: int) -> tuple[AuthSession, User] | None:
    """The live session and its user for a cookie's secret; sliding expiry."""
    session = db.get(AuthSession, digest(secret))
    if session is None:
        return None
    now = utcnow()
    user = db.get(User, session.user_id)
    if session.expires_at <= now or user is None or user.disabled:
        db.delete(session)
        db.commit()
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        session.last_seen_at = now
        session.expires_at = now + timedelta(days=days)
        db.add(session)
        _touch_user(db, user, now)
        db.commit()
    return session, user


def revoke_session(db: Session, secret: str) -> bool:
    """End the browser session of this cookie secret; False when there was none."""
    from mediastudio.events.access import access_changed  # its open sockets close

    session = db.get(AuthSession, digest(secret))
    if session is None:
        return False
    db.delete(session)
    access_changed(db, user_id=session.user_id)
    return True


def create_token(db: Session, user: User, *, name: str, expires_in_days: int | None) -> tuple[str, ApiToken]:
    if user.is_guest:
        raise Forbidden("Guests cannot create API tokens.", hint="Register to keep your work and use the API.")
    name = " ".join(name.split())
    if not name or len(name) > TOKEN_NAME_MAX:
        raise BadRequest(f"A token needs a name of 1 to {TOKEN_NAME_MAX} characters.", field="name")
    if expires_in_days is not None and not 1 <= expires_in_days <= TOKEN_DAYS_MAX:
        raise BadRequest(f"expires_in_days must be between 1 and {TOKEN_DAYS_MAX}, or null for no expiry.",
                         field="expires_in_days")
    plain = new_api_token()
    now = utcnow()
    token = ApiToken(id=new_id("tok"), user_id=user.id, name=name, token_hash=digest(plain),
                     prefix=plain[:10], created_at=now,
                     expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None)
    db.add(token)
    return plain, token


def list_tokens(db: Session, user: User) -> list[ApiToken]:
    return list(db.exec(select(ApiToken).where(ApiToken.user_id == user.id)
                        .order_by(col(ApiToken.created_at).desc())).all())


def revoke_token(db: Session, user: User, token_id: str) -> ApiToken:
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"You have no API token '{token_id}'.", hint="GET /api/v1/auth/tokens lists yours.")
    db.delete(token)
    from mediastudio.events.access import access_changed  # its open sockets close

    access_changed(db, user_id=user.id)
    return token


def resolve_token(db: Session, plain: str) -> tuple[ApiToken, User] | None:
    token = db.exec(select(ApiToken).where(ApiToken.token_hash == digest(plain))).first()
    if token is None:
        return None
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = db.get(User, token.user_id)
    if user is None or user.disabled:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        token.last_used_at = now
        db.add(token)
        _touch_user(db, user, now)
        db.commit()
    return token, user
