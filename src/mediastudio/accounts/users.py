"""Users: registration, the first admin, guests and their claim, passwords, disable and delete."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from mediastudio.audit.actions import Action
from mediastudio.audit.record import STUDIO, Target, record
from mediastudio.auth.former import remember
from mediastudio.auth.passwords import check_strength, hash_password, needs_rehash, verify_password
from mediastudio.auth.tables import ApiToken, AuthSession, User
from mediastudio.common import new_id, utcnow
from mediastudio.errors import BadRequest, Conflict, Forbidden, Unprocessable
from mediastudio.workspaces import service as workspaces

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
USERNAME_RULE = "3 to 32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
DISPLAY_NAME_MAX = 64
# Presence colours: distinct on the dark UI, each readable with white text.
COLORS = ("#e5484d", "#f76b15", "#ffb224", "#46a758", "#12a594", "#0090ff",
          "#3e63dd", "#8e4ec6", "#d6409f", "#ad7f58", "#5bb98b", "#7ce2fe")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def normalize_username(raw: str) -> str:
    username = raw.strip().lower()
    if not USERNAME.match(username):
        raise BadRequest(f"'{raw}' is not a valid username.", hint=f"Use {USERNAME_RULE}.", field="username")
    if username.startswith("guest-"):
        raise Unprocessable("Usernames starting with 'guest-' are reserved.", hint="Pick another username.",
                         field="username")
    return username


def clean_display_name(raw: str | None, fallback: str) -> str:
    name = " ".join((raw or "").split()) or fallback
    if len(name) > DISPLAY_NAME_MAX:
        raise BadRequest(f"A display name has at most {DISPLAY_NAME_MAX} characters.", field="display_name")
    return name


def find_user(db: Session, username: str) -> User | None:
    return db.exec(select(User).where(User.username == username.strip().lower())).first()


def count_registered(db: Session) -> int:
    return db.exec(select(func.count()).select_from(User).where(col(User.is_guest).is_(False))).one()


def list_users(db: Session) -> list[User]:
    return list(db.exec(select(User).where(col(User.is_guest).is_(False)).order_by(col(User.created_at))).all())


def _color(db: Session) -> str:
    taken = db.exec(select(func.count()).select_from(User)).one()
    return COLORS[taken % len(COLORS)]


def create_user(db: Session, *, username: str, password: str, display_name: str | None = None,
                is_admin: bool = False, min_length: int = 8) -> User:
    """A registered user with a personal workspace."""
    name = normalize_username(username)
    if find_user(db, name) is not None:
        raise Conflict(f"The username '{name}' is taken.", hint="Pick another username.", field="username")
    check_strength(password, username=name, min_length=min_length)
    user = User(id=new_id("u"), username=name, display_name=clean_display_name(display_name, name),
                password_hash=hash_password(password), color=_color(db), is_admin=is_admin)
    db.add(user)
    _write_username(db, name)
    workspaces.create_personal_workspace(db, user)
    return user


def _write_username(db: Session, name: str) -> None:
    """Write the pending account with `name`: taken meanwhile (the same name registered at the same moment, after
    the check for a taken name passed for both), it is the same clear 409 as when taken before."""
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise Conflict(f"The username '{name}' is taken.", hint="Pick another username.", field="username") from None


def create_guest(db: Session) -> User:
    """A guest with their own sandbox workspace, usable at once; no password."""
    tag = secrets.token_hex(3)
    user = User(id=new_id("u"), username=f"guest-{tag}", display_name=f"Guest {tag[:4].upper()}",
                color=_color(db), is_guest=True)
    db.add(user)
    db.flush()
    workspaces.create_personal_workspace(db, user)
    return user


def claim_guest(db: Session, guest: User, *, username: str, password: str, display_name: str | None,
                min_length: int) -> User:
    """Turn a guest into a registered user, keeping their id, workspace and everything in it."""
    name = normalize_username(username)
    if find_user(db, name) is not None:
        raise Conflict(f"The username '{name}' is taken.", hint="Pick another username.", field="username")
    check_strength(password, username=name, min_length=min_length)
    guest.username = name
    guest.display_name = clean_display_name(display_name, name)
    guest.password_hash = hash_password(password)
    guest.is_guest = False
    db.add(guest)
    _write_username(db, name)
    for workspace, _ in workspaces.list_for_user(db, guest):
        if workspace.kind == "personal":
            workspace.name = f"{guest.display_name}'s workspace"[: workspaces.NAME_MAX]
            db.add(workspace)
    return guest


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The user for these credentials, or None. Refuses a disabled account only after a right password."""
    user = find_user(db, username)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return None
    if user.disabled:
        raise Forbidden("This account is disabled.", hint="Ask an administrator to enable it again.")
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.add(user)
    return user


def set_password(db: Session, user: User, password: str, *, min_length: int,
                 keep_session: str | None = None) -> None:
    """Set a new password and end every other browser session of the user."""
    check_strength(password, username=user.username, min_length=min_length)
    user.password_hash = hash_password(password)
    db.add(user)
    revoke_sessions(db, user.id, keep=keep_session)


def set_disabled(db: Session, user: User, disabled: bool) -> None:
    user.disabled = disabled
    db.add(user)
    if disabled:
        revoke_sessions(db, user.id)


def update_profile(db: Session, user: User, *, display_name: str | None = None, color: str | None = None) -> User:
    if display_name is not None:
        user.display_name = clean_display_name(display_name, user.display_name)
    if color is not None:
        if not COLOR.match(color):
            raise BadRequest(f"'{color}' is not a colour.", hint="Use #rrggbb, e.g. #3e63dd.", field="color")
        user.color = color.lower()
    db.add(user)
    return user


def revoke_sessions(db: Session, user_id: str, keep: str | None = None) -> None:
    from mediastudio.events.access import access_changed  # disable, delete, new password: sockets re-check

    for session in db.exec(select(AuthSession).where(AuthSession.user_id == user_id)).all():
        if session.id != keep:
            db.delete(session)
    access_changed(db, user_id=user_id)


def delete_user(db: Session, user: User, data_dir: Path) -> None:
    """Delete a user, their sessions and tokens, and the workspaces nobody else shares."""
    workspaces.delete_sole_workspaces(db, user, data_dir)
    revoke_sessions(db, user.id)
    for token in db.exec(select(ApiToken).where(ApiToken.user_id == user.id)).all():
        db.delete(token)
    for membership in db.exec(select(workspaces.Membership).where(workspaces.Membership.user_id == user.id)).all():
        db.delete(membership)
    db.delete(user)
    remember(db, user.id)  # their work is credited to a former member from now on
    db.flush()


def expire_guests(db: Session, *, idle_days: int, data_dir: Path) -> int:
    """Remove guests idle for `idle_days`, with their data. Returns how many went."""
    from datetime import timedelta

    cutoff = utcnow() - timedelta(days=idle_days)
    stale = db.exec(select(User).where(col(User.is_guest).is_(True), col(User.last_seen_at) < cutoff)).all()
    for guest in stale:
        record(db, STUDIO, Action.USER_EXPIRE, Target.user(guest),
               {"idle_days": idle_days, "last_seen_at": guest.last_seen_at.isoformat() if guest.last_seen_at else None})
        delete_user(db, guest, data_dir)
    return len(stale)
