"""Care of project folders: crash recovery before serving, pending commits on a clean stop (the trash is purged
by the retention sweep, privacy/retention.py)."""

from __future__ import annotations

import asyncio
import logging

from mediastudio.projects.repo import ProjectRepo, commit_every_pending
from mediastudio.settings import Settings

log = logging.getLogger("mediastudio")


def recover_all(settings: Settings) -> int:
    """On start: repair every project folder after a crash (stale locks, uncommitted complete files)."""
    repaired = 0
    for folder in (settings.data_dir / "workspaces").glob("*/*/*/.git"):
        if ProjectRepo(folder.parent).recover():
            repaired += 1
    return repaired


async def recover_projects(settings: Settings) -> None:
    """Before serving: repair folders a crash left mid-write (no request may be writing yet)."""
    repaired = await asyncio.to_thread(recover_all, settings)
    if repaired:
        log.warning("Recovered uncommitted changes in %d project(s) after an interrupted run", repaired)


async def commit_pending_changes() -> None:
    """On a clean stop: commit the everyday edits still waiting for their commit window."""
    committed = await asyncio.to_thread(commit_every_pending)
    if committed:
        log.info("Committed the pending changes of %d project(s) before stopping", committed)
