"""Who a session cookie or an API token belongs to, remembered for a few seconds: most requests then resolve their
caller without a query on the event loop.

What keeps it true:
- An entry lives `ttl` seconds at most (a change no signal announces, e.g. `mediastudio users disable` run in
  another process without Redis, takes effect within that time).
- Any change written to a user, a session or a token (logout, a new password, a profile, the admin or disabled
  flag, a deleted account, a revoked token; not the once-a-minute "last seen") forgets that user's entries as the
  transaction commits, in the committing thread: before the request that made the change answers (`watch`).
- Such a commit in any process on the data folder (`mediastudio users disable` run beside the server, a worker)
  also appends a byte to `<data>/auth.changed`; the cache looks at that file's size and inode on each lookup (one
  stat) and forgets everything when another process changed it.
- Every change of someone's rights also announces `access.changed` (events/access.py); the bus listener
  (`on_event`) forgets that user's entries (a signal for a whole workspace: everything).
- A lookup that began before such a signal is not stored (a generation count), so a revoked session read just
  before its revocation cannot come back from the cache.
- Expiry is checked on every hit; a session or token due for its "last seen" touch (once a minute) is looked up
  in the database again, which writes it.
- A hit hands out new objects built from the stored columns: requests never share (or change) one another's.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from mediastudio.auth.identity import Identity
from mediastudio.auth.tables import ApiToken, AuthSession, User
from mediastudio.db import loaded
from mediastudio.events.access import ACCESS_CHANGED

TTL_S = 5.0
MAX_ENTRIES = 10_000
STAMP = "auth.changed"  # in the data folder: grows by a byte per change of a user, session or token
STAMP_MAX = 64 * 1024  # then it is replaced (a new inode: still a change)
# Columns whose change alone is no change of who someone is: the touches of "last seen" (auth/sessions.py).
TOUCHES = frozenset({"last_seen_at", "last_used_at", "expires_at"})


def _values(row: SQLModel) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Entry:
    user: dict[str, Any]
    via: Literal["session", "token"]
    grant: dict[str, Any]  # the session's or the token's columns
    stored_at: float


def _stamp_of(path: Path | None) -> tuple[int, int]:
    if path is None:
        return (0, 0)
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return (0, 0)
    return (found.st_ino, found.st_size)


def note_change(path: Path) -> None:
    """Tell the other processes on this data folder that a user, session or token changed."""
    try:
        if os.stat(path).st_size >= STAMP_MAX:
            fresh = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            fresh.write_bytes(b".")
            os.replace(fresh, path)
            return
    except FileNotFoundError:
        pass
    with path.open("ab") as stamp:
        stamp.write(b".")


class IdentityCache:
    def __init__(self, stamp: Path | None = None, ttl: float = TTL_S, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stamp, self.ttl, self.max_entries, self.clock = stamp, ttl, max_entries, clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.generation = 0  # bumped by every forget: a lookup that began before one is not stored
        self._stamp_seen = _stamp_of(stamp)

    def get(self, key: str, now: datetime, touch_every: timedelta) -> Identity | None:
        """The identity stored under `key` (a digest of the cookie's secret or the token), if still good."""
        if not self._entries:
            return None
        stamp = _stamp_of(self.stamp)
        if stamp != self._stamp_seen:  # a user, session or token changed (maybe in another process)
            self._stamp_seen = stamp
            self.forget_user(None)
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self.clock() - entry.stored_at >= self.ttl:  # (a ttl of 0 keeps nothing)
                del self._entries[key]
                return None
        grant = entry.grant
        expires_at = grant.get("expires_at")
        if expires_at is not None and expires_at <= now:
            return None
        seen = grant["last_seen_at"] if entry.via == "session" else grant.get("last_used_at")
        if seen is None or now - seen > touch_every:
            return None  # due for its "last seen" touch: the database lookup writes it
        user = loaded(User, entry.user)
        if entry.via == "session":
            return Identity(user=user, via="session", session=loaded(AuthSession, grant))
        return Identity(user=user, via="token", token=loaded(ApiToken, grant))

    def put(self, key: str, identity: Identity, generation: int) -> None:
        """Remember `identity` under `key`, unless something was forgotten since `generation` was read (take it,
        with `begin()`, before the lookup)."""
        grant = identity.session if identity.via == "session" else identity.token
        assert grant is not None
        entry = _Entry(_values(identity.user), identity.via, _values(grant), self.clock())
        with self._lock:
            if generation != self.generation:
                return
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def begin(self) -> int:
        """Before a lookup in the database: the generation to hand to `put`. Reads the stamp first, so a change
        another process made before the lookup is not taken for one made after it."""
        stamp = _stamp_of(self.stamp)
        if stamp != self._stamp_seen:
            self._stamp_seen = stamp
            self.forget_user(None)
        return self.generation

    def forget_user(self, user_id: str | None) -> None:
        """Drop every entry of `user_id` (None: every entry)."""
        with self._lock:
            self.generation += 1
            if user_id is None:
                self._entries.clear()
                return
            for key in [k for k, e in self._entries.items() if e.user["id"] == user_id]:
                del self._entries[key]

    def on_event(self, event: dict[str, Any]) -> None:
        """An event bus hook: an access signal forgets the entries of the user it names."""
        if event.get("type") == ACCESS_CHANGED:
            self.forget_user(event.get("user_id"))

    def __len__(self) -> int:
        return len(self._entries)


CHANGED = "auth.users_changed"  # session.info: users whose rows (or sessions, tokens) this transaction changed


@dataclass(frozen=True)
class _Watch:
    stamp: Path
    cache: IdentityCache | None


_watched: weakref.WeakKeyDictionary[Engine, _Watch] = weakref.WeakKeyDictionary()
_installed = False


def watch(engine: Engine, stamp: Path, cache: IdentityCache | None = None) -> None:
    """When a session on `engine` commits a change to a user, their sessions or tokens: note it in `stamp` (for
    the other processes on the data folder) and forget that user in `cache`."""
    global _installed
    _watched[engine] = _Watch(stamp, cache)
    if not _installed:
        for model in (User, AuthSession, ApiToken):  # only their rows' writes are looked at
            event.listen(model, "after_update", _updated)
            event.listen(model, "after_delete", _deleted)
        event.listen(Session, "after_commit", _forget_committed)
        event.listen(Session, "after_rollback", _drop_collected)
        _installed = True


def _owner(row: object) -> str | None:
    if isinstance(row, User):
        return row.id
    if isinstance(row, AuthSession | ApiToken):
        return row.user_id
    return None


def _changed(row: object) -> bool:
    """True unless only a "last seen" touch changed."""
    state = inspect(row)
    return any(attr.key not in TOUCHES and attr.history.has_changes() for attr in state.attrs)


def _note(row: object) -> None:
    owner, session = _owner(row), Session.object_session(row)
    if owner is not None and session is not None:
        session.info.setdefault(CHANGED, set()).add(owner)


def _updated(_mapper: object, _connection: object, row: object) -> None:
    if _changed(row):
        _note(row)


def _deleted(_mapper: object, _connection: object, row: object) -> None:
    _note(row)


def _forget_committed(session: Session) -> None:
    changed: set[str] = session.info.pop(CHANGED, set())
    if not changed:
        return
    bind = session.get_bind()
    watched = _watched.get(bind if isinstance(bind, Engine) else bind.engine)
    if watched is None:
        return
    if watched.cache is not None:
        for user_id in changed:
            watched.cache.forget_user(user_id)
    note_change(watched.stamp)


def _drop_collected(session: Session) -> None:
    session.info.pop(CHANGED, None)
