"""Storage quotas: the bytes of distinct media each user has added (uploads, imports, generated results).

The ledger (user_blobs) holds each blob a user added once, with its size. Usage counts the rows whose blob an
asset row still names (in any project, the trash included), so storing the same file twice costs nothing
more, and media whose projects were purged stops counting. Limits: the role's storage in quotas/ (seeded from
settings.storage_quota_bytes and settings.guest_storage_quota_bytes); administrators have none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import CursorResult, Exists, bindparam, exists, func, text
from sqlmodel import Session, col, select

from mediastudio.auth.tables import User
from mediastudio.db import Prepared, insert_rows
from mediastudio.errors import Forbidden, InsufficientStorage
from mediastudio.media.tables import StoredBlob
from mediastudio.projects.tables import Asset
from mediastudio.quotas import service as quotas
from mediastudio.settings import Settings

CHUNK = 300


class QuotaExceeded(InsufficientStorage):
    title = "Storage quota reached"


def human_size(size: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


@dataclass(frozen=True)
class Budget:
    used: int
    quota: int | None  # None = no limit
    guest: bool

    @property
    def remaining(self) -> int | None:
        return max(0, self.quota - self.used) if self.quota is not None else None

    def refusal(self, adding: int, about: str = "") -> QuotaExceeded:
        """`about`: "about " for a declared size, "more than " while streaming, "" when exact."""
        quota = self.quota or 0
        hint = ("Register an account to keep your work and get more room; guests have "
                f"{human_size(quota)}." if self.guest else
                "Ask an administrator for a larger quota (Server settings → Quotas). Media in trashed "
                "projects counts until the trash is purged.")
        return QuotaExceeded(
            f"Your storage quota is used up: {human_size(self.used)} of {human_size(quota)} stored, and "
            f"this would add {about}{human_size(adding)}.", hint=hint,
            used_bytes=self.used, quota_bytes=quota, needed_bytes=adding)


def quota_of(db: Session, settings: Settings, user: User) -> int | None:
    """`user`'s storage limit in bytes (None: no limit), from their role's quotas."""
    return quotas.limits(db, settings, user).storage_bytes


def _still_named() -> Exists:
    return exists().where(col(Asset.sha256) == col(StoredBlob.sha256))


def usage(db: Session, user_id: str) -> int:
    total = db.exec(_usage(), params={"user_id": user_id}).one()
    return int(total)


@cache
def _usage() -> Any:
    """`usage`'s sum, built once (the user bound when it runs): every result a run saves asks it."""
    return select(func.coalesce(func.sum(StoredBlob.size), 0)).where(col(StoredBlob.user_id) == bindparam("user_id"),
                                                                      _still_named())


@cache
def _counted() -> Any:
    """Which of some blobs the user holds already (`charge`), built once (bound when it runs)."""
    return select(StoredBlob.sha256).where(col(StoredBlob.user_id) == bindparam("user_id"),
                                           col(StoredBlob.sha256).in_(bindparam("shas", expanding=True)),
                                           _still_named())


@cache
def _counted_one() -> Prepared:
    """`_counted` of one blob, prepared once (`Prepared`)."""
    return Prepared(select(StoredBlob.sha256).where(col(StoredBlob.user_id) == bindparam("user_id"),
                                                    col(StoredBlob.sha256) == bindparam("sha"), _still_named()))


def budget(db: Session, settings: Settings, user: User) -> Budget:
    return Budget(used=usage(db, user.id), quota=quota_of(db, settings, user), guest=user.is_guest)


def room(db: Session, settings: Settings, user: User) -> Budget:
    """What `user` may still add. With no quota nothing is summed (usage grows with everything the user ever
    added; `remaining` is None and nothing is refused): an upload asks this before reading a byte."""
    quota = quota_of(db, settings, user)
    return Budget(used=usage(db, user.id) if quota is not None else 0, quota=quota, guest=user.is_guest)


def charge(db: Session, settings: Settings, user: User, blobs: Iterable[tuple[str, int]], *,
           record: bool = True) -> int:
    """Record that `user` adds these (sha256, size) blobs; refuse (507) when that goes over their quota.
    Call it in the transaction that records the assets, before they are written. Returns the bytes added.
    `record=False` only checks (reads, no write): a caller that writes files first checks, writes, then
    `record_charge`s, so the database's write lock is not held while its files are written."""
    wanted = dict(blobs)
    shas = list(wanted)
    counted: set[str] = set()
    if len(shas) == 1:  # a run's picture, an upload: one statement prepared once (an IN list is compiled each time)
        counted.update(sha for (sha,) in _counted_one().tuples(db, {"user_id": user.id, "sha": shas[0]}))
    else:
        for part in range(0, len(shas), CHUNK):  # SQLite bounds the variables of one statement
            counted.update(db.exec(_counted(), params={"user_id": user.id, "shas": shas[part:part + CHUNK]}).all())
    adding = sum(size for sha, size in wanted.items() if sha not in counted)
    quota = quota_of(db, settings, user)
    if quota is not None:  # with no quota there is nothing to sum (usage grows with everything the user ever added)
        room = Budget(used=usage(db, user.id), quota=quota, guest=user.is_guest)
        if room.used + adding > quota:
            raise room.refusal(adding)
    if record:
        record_charge(db, user, wanted.items())
    return adding


def record_charge(db: Session, user: User, blobs: Iterable[tuple[str, int]]) -> None:
    """The ledger's rows for these (sha256, size) blobs of `user` (a blob they added before is kept as it is)."""
    rows = [{"user_id": user.id, "sha256": sha, "size": size} for sha, size in dict(blobs).items()]
    # "or ignore": concurrent uploads of the same bytes. As parameters of a statement compiled once
    insert_rows(db, StoredBlob, rows, keep_existing=True)


def charge_project(db: Session, settings: Settings, user: User | None, project_id: str) -> int:
    """An imported project's media, charged to the person who imported it (None: the shell, no quota)."""
    if user is None:
        return 0
    rows = db.exec(select(Asset.sha256, func.max(Asset.size)).where(col(Asset.project_id) == project_id)
                   .group_by(Asset.sha256)).all()
    return charge(db, settings, user, ((sha, int(size or 0)) for sha, size in rows))


def refuse_guest_import(settings: Settings, user: User) -> None:
    if user.is_guest and not settings.guest_imports:
        raise Forbidden("Guests cannot import projects on this server.",
                        hint="Register an account (your work comes along) and import it there, or ask the "
                             "administrator to allow it (MEDIASTUDIO_GUEST_IMPORTS).")


def backfill(db: Session) -> int:
    """Once, on a data folder from before quotas: charge existing assets to the users who added them."""
    if db.exec(select(StoredBlob.user_id).limit(1)).first() is not None:
        return 0
    # Session.execute is typed as returning Result; a DML statement's is a CursorResult, which has rowcount.
    result = cast(CursorResult[Any], db.execute(text(
        "INSERT OR IGNORE INTO user_blobs (user_id, sha256, size) SELECT a.created_by, a.sha256, MAX(a.size) "
        "FROM assets a JOIN users u ON u.id = a.created_by GROUP BY a.created_by, a.sha256")))
    return int(result.rowcount or 0)
