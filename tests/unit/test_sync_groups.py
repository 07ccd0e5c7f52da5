"""Writers that fsync one file or folder at once share their fsyncs (projects/files.py `SyncGroup`), and each
still answers only after an fsync that began after its own change: durable when answered, in fewer calls."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from litestar.testing import TestClient
from test_scene_reads import _admin

from mediastudio.projects.files import SyncGroup
from mediastudio.projects.repo import PENDING, ProjectRepo
from mediastudio.settings import Settings

WRITERS = 16


def test_writers_at_once_share_fsyncs_and_each_returns_after_one_that_began_after_its_change() -> None:
    made: list[int] = []  # the changes, in the order they were made
    covered: list[int] = []  # for each fsync that ended: how many changes were made when it began
    guard = threading.Lock()

    def fsync() -> None:
        began = len(made)
        time.sleep(0.01)  # a disk's flush: the writers arriving meanwhile queue for the next one
        covered.append(began)

    group = SyncGroup(fsync)
    start = threading.Barrier(WRITERS)

    def writer(_: int) -> None:
        start.wait()
        with guard:  # the change, then its ticket (as a writer does under its folder's lock)
            made.append(len(made))
            mine, ticket = len(made), group.ticket()
        group.sync(ticket)
        assert any(began >= mine for began in list(covered)), (mine, covered)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    assert len(made) == WRITERS
    assert 1 <= len(covered) <= WRITERS // 2, covered  # before: one fsync per writer
    assert group.ticket() == WRITERS + 1


def test_a_lone_writer_still_fsyncs_each_time() -> None:
    calls: list[int] = []
    group = SyncGroup(lambda: calls.append(1))
    for _ in range(3):
        group.sync(group.ticket())
    assert len(calls) == 3
    group.sync(2)  # a ticket already covered costs nothing
    assert len(calls) == 3


def test_scenes_created_at_once_share_the_fsyncs_of_their_folder_and_journal(
        client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    csrf = _admin(client)
    project = client.post("/api/v1/projects", json={"name": "Busy"}, headers=csrf).json()
    folder = next(Path(settings.data_dir, "workspaces").glob(f"*/projects/{project['id']}"))
    synced: list[str] = []
    fsync = os.fsync

    def recorded(fd: int) -> None:
        fsync(fd)
        path = os.readlink(f"/proc/self/fd/{fd}")
        if not path.endswith(".tmp"):  # as profiled at 100 writers: the flushes after the lock took the longest,
            time.sleep(0.02)  # so the writers that let go meanwhile pile up behind them
        synced.append(path)

    monkeypatch.setattr(os, "fsync", recorded)

    def create(i: int) -> int:
        return client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": f"Scene {i}"},
                           headers=csrf).status_code

    with ThreadPoolExecutor(WRITERS) as pool:
        statuses = list(pool.map(create, range(WRITERS)))
    monkeypatch.undo()
    assert statuses == [201] * WRITERS
    files = [p for p in synced if Path(p).parent == folder / "scenes" and Path(p).name.endswith(".tmp")]
    names = [p for p in synced if Path(p) == folder / "scenes"]
    lines = [p for p in synced if Path(p) == folder / ".git" / PENDING]
    assert len(files) == WRITERS  # every file is fsynced before its name appears, each on its own
    assert 1 <= len(names) < WRITERS and 1 <= len(lines) < WRITERS, (len(names), len(lines))  # before: 16 each
    # Every change is recorded: in the pending journal, or already committed when the commit window (0.5 s) ran
    # out during the burst, as it does on a loaded machine (this read the journal alone and found it empty there).
    pending = [change.message for change in ProjectRepo(folder).pending()]
    assert len(pending) == len(set(pending)), pending  # none twice
    history = "\n".join(commit.message for commit in ProjectRepo(folder).log())  # (commits what is pending)
    missing = [i for i in range(WRITERS) if f"Added scene 'Scene {i}'" not in history]
    assert missing == [], (missing, history)
