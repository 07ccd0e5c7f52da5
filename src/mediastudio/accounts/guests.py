"""Guests idle for `guest_expiry_days` are removed with their data, at start and then hourly."""

from __future__ import annotations

import asyncio
import logging

from mediastudio.accounts.users import expire_guests
from mediastudio.db import Database
from mediastudio.settings import Settings

log = logging.getLogger("mediastudio")
SWEEP_EVERY_S = 3600.0


def sweep_guests(db: Database, settings: Settings) -> int:
    with db.transaction() as session:
        removed = expire_guests(session, idle_days=settings.guest_expiry_days, data_dir=settings.data_dir)
    if removed:
        log.info("Removed %d guest account(s) idle for %d days", removed, settings.guest_expiry_days)
    return removed


async def guest_sweeper(db: Database, settings: Settings) -> None:
    while True:
        try:
            await asyncio.to_thread(sweep_guests, db, settings)
        except Exception:  # a failed sweep must not stop later ones
            log.exception("Sweeping expired guests failed")
        await asyncio.sleep(SWEEP_EVERY_S)
