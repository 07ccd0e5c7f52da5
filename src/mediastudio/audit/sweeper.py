"""Entries older than `audit_retention_days` are removed, at start and then hourly."""

from __future__ import annotations

import asyncio
import logging

from mediastudio.audit.query import remove_older_than
from mediastudio.db import Database
from mediastudio.settings import Settings

log = logging.getLogger("mediastudio")
SWEEP_EVERY_S = 3600.0


def sweep_audit_log(db: Database, settings: Settings) -> int:
    with db.transaction() as session:
        removed = remove_older_than(session, settings.audit_retention_days)
    if removed:
        log.info("Removed %d audit log entries older than %d days", removed, settings.audit_retention_days)
    return removed


async def audit_sweeper(db: Database, settings: Settings) -> None:
    while True:
        try:
            await asyncio.to_thread(sweep_audit_log, db, settings)
        except Exception:  # a failed sweep must not stop later ones
            log.exception("Sweeping the audit log failed")
        await asyncio.sleep(SWEEP_EVERY_S)
