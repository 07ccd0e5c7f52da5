"""How long the studio keeps what it keeps, in one row, and the sweep that honours it (at start, then hourly).

Each span's first value comes from the settings (`trash_days`, `guest_expiry_days`, `audit_retention_days`,
`task_history_days`, `export_days`); an administrator changes them together afterwards
(`GET`/`PATCH /api/v1/admin/retention`), and the next sweep applies them.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import timedelta

from sqlmodel import Session, col, select

from mediastudio.accounts.users import expire_guests
from mediastudio.audit.query import remove_older_than
from mediastudio.common import utcnow
from mediastudio.db import Database
from mediastudio.privacy.export import KIND as EXPORT_KIND
from mediastudio.privacy.tables import Retention
from mediastudio.projects.service import purge_trash
from mediastudio.settings import Settings
from mediastudio.tasks.runner import results_dir
from mediastudio.tasks.tables import FINISHED, Task

log = logging.getLogger("mediastudio")
SWEEP_EVERY_S = 3600.0
SPANS = ("trash_days", "guest_days", "audit_days", "task_days", "export_days")


def defaults(settings: Settings) -> Retention:
    return Retention(trash_days=settings.trash_days, guest_days=settings.guest_expiry_days,
                     audit_days=settings.audit_retention_days, task_days=settings.task_history_days,
                     export_days=settings.export_days)


def current(db: Session, settings: Settings) -> Retention:
    """The row (its defaults, not written, until an administrator saves one)."""
    return db.get(Retention, 1) or defaults(settings)


def update(db: Session, settings: Settings, changes: dict[str, int], by: str) -> tuple[Retention, dict[str, int]]:
    """Save the spans changed; answers the row and what each changed span was before."""
    row = db.get(Retention, 1) or defaults(settings)
    before = {name: getattr(row, name) for name in SPANS if name in changes and changes[name] != getattr(row, name)}
    for name in before:
        setattr(row, name, changes[name])
    row.updated_at, row.updated_by = utcnow(), by
    db.add(row)
    return row, before


def _expire_exports(db: Session, settings: Settings, days: int) -> int:
    """The archives of personal data exports older than `days` are deleted; the task says it expired."""
    cutoff = utcnow() - timedelta(days=days)
    stale = db.exec(select(Task).where(Task.kind == EXPORT_KIND, Task.status == "succeeded",
                                       col(Task.finished_at) < cutoff)).all()
    expired = 0
    for task in stale:
        if not (task.result or {}).get("file"):
            continue
        shutil.rmtree(results_dir(settings, task.id), ignore_errors=True)
        task.result = {**(task.result or {}), "file": None, "download": None, "expired": True}
        db.add(task)
        expired += 1
    return expired


def _forget_tasks(db: Session, settings: Settings, days: int) -> int:
    """Finished tasks older than `days` leave the history, with their folders (results included)."""
    cutoff = utcnow() - timedelta(days=days)
    stale = db.exec(select(Task).where(col(Task.status).in_(FINISHED), col(Task.finished_at) < cutoff)).all()
    for task in stale:
        shutil.rmtree(results_dir(settings, task.id), ignore_errors=True)
        db.delete(task)
    return len(stale)


def sweep(db: Database, settings: Settings) -> dict[str, int]:
    """Apply every span once; answers how many of each kind of thing went."""
    with db.session() as session:
        spans = current(session, settings)
    done: dict[str, int] = {}
    with db.transaction() as session:
        done["trash"] = purge_trash(session, settings, older_than_days=spans.trash_days)
    with db.transaction() as session:
        done["guests"] = expire_guests(session, idle_days=spans.guest_days, data_dir=settings.data_dir)
    with db.transaction() as session:
        done["audit"] = remove_older_than(session, spans.audit_days)
    with db.transaction() as session:
        done["exports"] = _expire_exports(session, settings, spans.export_days)
    with db.transaction() as session:
        done["tasks"] = _forget_tasks(session, settings, spans.task_days)
    if any(done.values()):
        log.info("Retention: removed %s", ", ".join(f"{n} {what}" for what, n in done.items() if n))
    return done


async def retention_sweeper(db: Database, settings: Settings) -> None:
    while True:
        try:
            await asyncio.to_thread(sweep, db, settings)
        except Exception:  # a failed sweep must not stop later ones
            log.exception("The retention sweep failed")
        await asyncio.sleep(SWEEP_EVERY_S)
