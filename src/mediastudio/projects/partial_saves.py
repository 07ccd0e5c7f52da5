"""What a PUT …/graph that failed half-way kept, said as it is. A full disk often fails only a later step
(the scene file, the history commit, the edit log's compaction) after the edit was durably taken: the old
answer, a 500 saying "nothing you sent was lost", was wrong both ways."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

from mediastudio.errors import InsufficientStorage, MediastudioError, disk_full
from mediastudio.projects.files import graph_hash, read_json
from mediastudio.projects.repo import ProjectRepo

Kept = Literal["nothing", "log", "file", "all"]
log = logging.getLogger("mediastudio")


class SavedNotRecorded(MediastudioError):
    status = 500
    title = "Saved, not recorded"


def _committed_graph(folder: Path, name: str) -> dict[str, Any] | None:
    repo = ProjectRepo(folder)
    head = repo.log(limit=1)
    files = repo.files_at(head[0].sha, name) if head else {}
    return json.loads(files[name]).get("graph") if name in files else None


def what_was_kept(live: dict[str, Any] | None, before: dict[str, Any], folder: Path,
                  scene_id: str) -> tuple[Kept, dict[str, Any]]:
    """How far the edit got (the live document and its durable edit log, the scene file, the history), and
    the graph the scene holds now."""
    name = f"scenes/{scene_id}.json"
    try:
        on_file = read_json(folder / name).get("graph") or {}
    except (OSError, ValueError, AttributeError):
        on_file = {}
    now = live if live is not None else on_file  # the live room may be closed already
    if graph_hash(now) == graph_hash(before):
        return "nothing", now
    if graph_hash(on_file) != graph_hash(now):
        return "log", now
    try:
        committed = _committed_graph(folder, name)
    except Exception:  # the history cannot be read: do not claim it holds the edit
        committed = None
    return ("all" if committed is not None and graph_hash(committed) == graph_hash(now) else "file"), now


def kept_error(kept: Kept, exc: BaseException) -> MediastudioError:
    """The answer for an edit that was saved ("log" or "file") but not all the way."""
    full = disk_full(exc)
    cause = "the server's disk is full" if full else "the server hit an unexpected error"
    if kept == "file":
        detail = (f"Your graph is saved (in the scene file, and live for everyone), but recording it in the "
                  f"project's history failed: {cause}.")
        hint = "Nothing to send again: it is recorded with the scene's next change, or when the studio next starts."
    else:
        detail = (f"Your graph is saved in the scene's edit log and live for everyone, but writing the scene file "
                  f"failed: {cause}.")
        hint = "Nothing to send again: the studio writes the file once it can, and at its next start at the latest."
    if full:
        return InsufficientStorage(detail, hint=hint + " The administrator needs to free space on the "
                                   "server's data disk.", saved=True)
    return SavedNotRecorded(detail, hint=hint, saved=True)


def saved_anyway(exc: BaseException) -> None:
    """The edit is saved and recorded; only housekeeping after it failed (the edit log's compaction)."""
    log.warning("A scene edit was saved and committed, then its housekeeping failed: %s", exc, exc_info=exc)
