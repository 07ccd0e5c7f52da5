"""The limits of each role, read where they are enforced (task starts, uploads, generated results) and shown.

Roles: `user` (registered people) and `guest`. Administrators have no GPU-minute or storage limit; their tasks
waiting or running at once stay at the server's `task_quota` setting (100 by default), a guard against a runaway
script rather than a ration, which no edit of the users' row can take from them.
The rows are seeded from the settings at the first start (`seed`); the settings stay the defaults of a new data
folder. Reads are kept in the database's `ReadCache` until anything commits (`Database.version()`), so a change
an administrator saves applies to the very next request, in every process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal

from sqlalchemy import bindparam
from sqlalchemy.dialects.sqlite import insert
from sqlmodel import Session, col, select

from mediastudio.auth.tables import User
from mediastudio.common import utcnow
from mediastudio.db import Database, Prepared
from mediastudio.quotas.tables import RoleQuota
from mediastudio.settings import Settings

Role = Literal["user", "guest"]
ROLES: tuple[Role, ...] = ("user", "guest")
RESETS = "00:00 UTC"


@dataclass(frozen=True)
class Limits:
    """What one person may use; None = no limit."""

    role: Literal["user", "guest", "admin"]
    runs_at_once: int
    gpu_seconds_per_day: int | None
    storage_bytes: int | None


def _gpu_seconds(minutes: float) -> int | None:
    return round(minutes * 60) if minutes else None  # the settings' 0 = no limit


def defaults(settings: Settings, role: Role) -> RoleQuota:
    """The row the settings describe (a new data folder's limits)."""
    if role == "guest":
        return RoleQuota(role=role, runs_at_once=settings.guest_task_quota,
                         gpu_seconds_per_day=_gpu_seconds(settings.guest_gpu_minutes_per_day),
                         storage_bytes=settings.guest_storage_quota_bytes or None)
    return RoleQuota(role=role, runs_at_once=settings.task_quota,
                     gpu_seconds_per_day=_gpu_seconds(settings.gpu_minutes_per_day),
                     storage_bytes=settings.storage_quota_bytes or None)


def seed(db: Session, settings: Settings) -> None:
    """Once, at a start: the rows of the roles that have none, from the settings (edited rows are kept)."""
    for role in ROLES:
        row = defaults(settings, role)
        db.execute(insert(RoleQuota).values(role=role, runs_at_once=row.runs_at_once,
                                            gpu_seconds_per_day=row.gpu_seconds_per_day,
                                            storage_bytes=row.storage_bytes, updated_at=utcnow())
                   .on_conflict_do_nothing())


def rows(db: Session, settings: Settings) -> dict[Role, RoleQuota]:
    """Every role's row (a role without one yet: its defaults, not written)."""
    found = {row.role: row for row in db.exec(select(RoleQuota)).all()}
    return {role: found.get(role) or defaults(settings, role) for role in ROLES}


@cache
def _role_limits() -> Prepared:
    """A role's limits, prepared once (`Prepared`): read on every task's start by someone not an administrator
    whenever the database changed since (every run changes it)."""
    return Prepared(select(RoleQuota.runs_at_once, RoleQuota.gpu_seconds_per_day, RoleQuota.storage_bytes)
                    .where(col(RoleQuota.role) == bindparam("role")))


def _limits_of(row: RoleQuota) -> Limits:
    role: Role = "guest" if row.role == "guest" else "user"
    return Limits(role=role, runs_at_once=row.runs_at_once, gpu_seconds_per_day=row.gpu_seconds_per_day,
                  storage_bytes=row.storage_bytes)


def limits(db: Session, settings: Settings, user: User) -> Limits:
    """`user`'s limits. Read from memory while the database has not changed (one primary-key read otherwise)."""
    if user.is_admin and not user.is_guest:
        return Limits(role="admin", runs_at_once=settings.task_quota, gpu_seconds_per_day=None, storage_bytes=None)
    role: Role = "guest" if user.is_guest else "user"

    def read() -> Limits:
        if db.new or db.dirty:  # a change of this transaction not written yet (as `Session.get` would see it)
            db.flush()
        found = _role_limits().tuples(db, {"role": role})
        if not found:
            return _limits_of(defaults(settings, role))
        runs_at_once, gpu_seconds_per_day, storage_bytes = found[0]
        return Limits(role=role, runs_at_once=runs_at_once, gpu_seconds_per_day=gpu_seconds_per_day,
                      storage_bytes=storage_bytes)

    database = db.info.get("database")
    # Keyed by the defaults too: a role without a row yet answers what these settings say.
    key = (role, settings.task_quota, settings.guest_task_quota, settings.gpu_minutes_per_day,
           settings.guest_gpu_minutes_per_day, settings.storage_quota_bytes, settings.guest_storage_quota_bytes)
    return database.reads("quotas", size=16).get_or_compute(key, read) if isinstance(database, Database) else read()


def update(db: Session, settings: Settings, actor: User, role: Role, changes: dict[str, Any]) -> RoleQuota:
    """Apply an administrator's changes (already checked) to `role`'s row."""
    row = db.get(RoleQuota, role)
    if row is None:
        row = defaults(settings, role)
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by = utcnow(), actor.id
    db.add(row)
    return row


# -- the day ---------------------------------------------------------------------------------------------------


def day_start(now: datetime) -> datetime:
    """The start of `now`'s UTC day: GPU minutes count from 00:00 UTC."""
    now = now.astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def next_reset(now: datetime) -> datetime:
    return day_start(now) + timedelta(days=1)


def minutes(seconds: float) -> str:
    """Seconds as people read GPU minutes: "12", "4.5", "0.25"."""
    value = seconds / 60
    shown = f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def until(moment: datetime, now: datetime) -> str:
    """"in 5 h 12 min" (rounded up to the minute)."""
    left = max(0, math.ceil((moment - now).total_seconds() / 60))
    hours, mins = divmod(left, 60)
    return f"in {hours} h {mins} min" if hours else f"in {mins} min"
