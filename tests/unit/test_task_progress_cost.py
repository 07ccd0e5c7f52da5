"""What a task's progress costs its run: announced at most ten times a second whatever the kind reports (the
latest state, never one after the outcome, the first 0.1 s after task.started), its row written at most twice a
second and never by the worker between steps; a state reported before a long step still reaches the feed and the
row during that step."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import col

from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.db import _GatedCursor
from mediastudio.settings import Settings
from mediastudio.studio import Studio
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.tables import Task
from support import run_async


class Params(BaseModel):
    reports: int = 30
    then_wait: float = 0.0
    cancel_at: int | None = None


def _chatty(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    """Reports a new message at every one of its quick steps (as a run of many small nodes does), then maybe
    one long step; what the row said during that step is its result."""
    for n in range(params["reports"]):
        ctx.check_cancelled()
        ctx.progress(n, params["reports"] + 1, f"node {n}")
        if params["cancel_at"] == n:  # as a cancel asked in another process (a `mediastudio worker`) is
            with ctx.db.session() as db:
                db.exec(update(Task).where(col(Task.id) == ctx.task_id).values(cancel_requested=True))
                db.commit()
    seen = None
    if params["then_wait"]:
        time.sleep(params["then_wait"])
        with ctx.db.session() as db:
            row = db.get(Task, ctx.task_id)
            assert row is not None
            seen = {"step": row.step, "message": row.message}
    return {"row_during_the_long_step": seen}


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    made.tasks.kinds.add("test.chatty", _chatty, lane="cpu", params=Params, title=lambda _: "Chatty",
                         needs="none", project=False)
    yield made
    made.db.close()


def run_task(studio: Studio, params: dict[str, Any], watch: float = 0.8) -> tuple[list[dict], list[str], Task]:
    """Run one task in this thread's worker (as a lane does) with a subscriber listening: the events it got
    (for `watch` s after the end too) and the UPDATEs and SELECTs of the tasks table made meanwhile."""
    with studio.db.transaction() as db:
        user = create_user(db, username="ana", password="violet tram sixteen", is_admin=True)
        task = studio.tasks.new(db, user, "test.chatty", params, None)
    updates: list[str] = []

    real_execute = _GatedCursor.execute

    def note(cursor: _GatedCursor, statement: str, parameters: Any = ()) -> _GatedCursor:
        # Every statement of the studio's connections, SQLAlchemy's and those prepared on the connection itself.
        words = " ".join(statement.split())
        if words.upper().startswith("UPDATE TASKS") or (words.upper().startswith("SELECT") and "FROM tasks" in words):
            updates.append(words[:90])
        return real_execute(cursor, statement, parameters)

    async def scenario() -> list[dict]:
        studio.events.bind(asyncio.get_running_loop())
        subscriber = studio.events.subscribe(user.id, set(), is_admin=True)
        _GatedCursor.execute = note  # type: ignore[method-assign]
        try:
            await asyncio.to_thread(studio.tasks.runner.execute, task.id)
            await asyncio.sleep(watch)  # a late announcement would arrive meanwhile
        finally:
            _GatedCursor.execute = real_execute  # type: ignore[method-assign]
        heard = []
        while not subscriber.queue.empty():
            heard.append(json.loads(subscriber.queue.get_nowait()))
        return [e for e in heard if e["type"].startswith("task.")]

    heard = run_async(scenario())
    with studio.db.session() as db:
        row = db.get(Task, task.id)
        assert row is not None
    return heard, updates, row


def test_a_quick_task_announces_its_latest_state_not_each_report_and_writes_no_progress_row(studio: Studio) -> None:
    heard, statements, row = run_task(studio, {"reports": 30})
    updates = [s for s in statements if s.startswith("UPDATE")]
    types = [e["type"] for e in heard]
    assert types[0] == "task.started" and types[-1] == "task.succeeded", types
    progress = [e for e in heard if e["type"] == "task.progress"]
    assert len(progress) <= 1, [e["task"]["message"] for e in progress]  # 30 reports in far less than 0.1 s
    revisions = [e["task"]["revision"] for e in heard]
    assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions)
    # The claim and the outcome: the row's progress was never written between them (nor after).
    assert len(updates) == 2, updates
    assert row.status == "succeeded" and row.progress == 1.0


@pytest.mark.timing
def test_a_task_shorter_than_the_interval_sends_no_progress_between_its_start_and_its_outcome(
        studio: Studio) -> None:
    """task.started announced the row: the first report waits its turn after it, and the outcome comes first.
    It holds the task to the interval (0.1 s from its start to its outcome): run with the others' load it once
    took longer (CI, a fresh clone: a `task.progress` between the two), so it runs in the timing phase."""
    heard, _, row = run_task(studio, {"reports": 3}, watch=0.3)
    assert [e["type"] for e in heard] == ["task.started", "task.succeeded"], [e["type"] for e in heard]
    assert row.status == "succeeded"


def test_a_quick_task_reads_its_row_only_with_its_claim_and_its_outcome(studio: Studio) -> None:
    """Whether someone elsewhere asked to cancel is looked up at most every 0.2 s, the first time 0.2 s after
    the start, and at the end by the outcome's own write (which records no success over a cancel). The claim
    and the outcome each read the row they leave in their own statement (UPDATE … RETURNING): no SELECT."""
    _, statements, row = run_task(studio, {"reports": 30}, watch=0.1)
    selects = [s for s in statements if s.startswith("SELECT")]
    assert not selects, selects
    assert row.status == "succeeded"


def test_a_cancel_asked_elsewhere_during_the_last_step_is_still_honoured(studio: Studio) -> None:
    heard, _, row = run_task(studio, {"reports": 5, "cancel_at": 4}, watch=0.1)
    assert row.status == "cancelled" and row.result is None
    assert heard[-1]["type"] == "task.cancelled"


def test_the_state_reported_before_a_long_step_reaches_the_feed_and_the_row_during_it(studio: Studio) -> None:
    heard, statements, row = run_task(studio, {"reports": 10, "then_wait": 0.9}, watch=0.3)
    updates = [s for s in statements if s.startswith("UPDATE")]
    progress = [e for e in heard if e["type"] == "task.progress"]
    assert progress[-1]["task"]["message"] == "node 9" and progress[-1]["task"]["step"] == 9
    assert heard[-1]["type"] == "task.succeeded"
    assert row.result == {"row_during_the_long_step": {"step": 9, "message": "node 9"}}
    assert len(updates) == 3, updates  # the claim, the row once while it waited, the outcome


class Paced(BaseModel):
    reports: int = 12
    every: float = 0.02


def _paced(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    """Reports a new message every few hundredths of a second: most announcements wait for their turn."""
    for n in range(params["reports"]):
        ctx.progress(n, params["reports"], f"part {n}")
        time.sleep(params["every"])
    return {}


def test_reports_that_wait_for_their_turn_start_no_thread_each(studio: Studio) -> None:
    studio.tasks.kinds.add("test.paced", _paced, lane="cpu", params=Paced, title=lambda _: "Paced", needs="none",
                           project=False)
    with studio.db.transaction() as db:
        user = create_user(db, username="ana", password="violet tram sixteen", is_admin=True)
        first, second = (studio.tasks.new(db, user, "test.paced", {}, None) for _ in range(2))
    started: list[str] = []

    def on_new_thread(frame: object, what: str, arg: object) -> None:
        started.append(threading.current_thread().name)
        sys.settrace(None)  # only the thread's start is of interest

    async def scenario() -> list[dict]:
        studio.events.bind(asyncio.get_running_loop())
        subscriber = studio.events.subscribe(user.id, set(), is_admin=True)
        await asyncio.to_thread(studio.tasks.runner.execute, first.id)  # what a runner starts once, it has
        threading.settrace(on_new_thread)
        try:
            await asyncio.to_thread(studio.tasks.runner.execute, second.id)
        finally:
            threading.settrace(None)  # type: ignore[arg-type]
        heard = []
        while not subscriber.queue.empty():
            heard.append(json.loads(subscriber.queue.get_nowait()))
        return [e for e in heard if e["type"] == "task.progress" and e["task"]["id"] == second.id]

    progress = run_async(scenario())
    assert 2 <= len(progress) < 12, [e["task"]["message"] for e in progress]  # some waited for their turn
    assert [name for name in started if not name.startswith("asyncio_")] == [], started  # (not the loop's own)


class Late(BaseModel):
    pass


LATE_INTERVAL = 0.5  # the announcer's interval in this test: wide, so a loaded machine cannot close it by chance


def _late_timer(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    """A report waits for its turn while the announcer's thread is busy (a loaded machine); the next report, once
    its turn has come, goes out at once; then the late timer runs."""
    free = threading.Event()
    ctx.runner._announcer.call(0.0, lambda: free.wait(10))  # the announcer's thread busy until `free`
    with ctx.lock:
        ctx.last_publish = time.monotonic()  # the first report's turn a whole interval away, however slow the start
    ctx.progress(1, 3, "first")  # not its turn: a timer waits for it, behind the busy announcer
    time.sleep(LATE_INTERVAL + 0.1)
    ctx.progress(2, 3, "second")  # its turn has come: announced at once
    free.set()  # the late timer runs now, with nothing newer to say
    time.sleep(0.3)
    return {}


def test_a_late_timer_does_not_announce_a_state_already_announced(studio: Studio,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mediastudio.tasks.runner.PROGRESS_INTERVAL", LATE_INTERVAL)
    studio.tasks.kinds.add("test.late", _late_timer, lane="cpu", params=Late, title=lambda _: "Late",
                           needs="none", project=False)
    with studio.db.transaction() as db:
        user = create_user(db, username="ana", password="violet tram sixteen", is_admin=True)
        task = studio.tasks.new(db, user, "test.late", {}, None)

    async def scenario() -> list[dict]:
        studio.events.bind(asyncio.get_running_loop())
        subscriber = studio.events.subscribe(user.id, set(), is_admin=True)
        await asyncio.to_thread(studio.tasks.runner.execute, task.id)
        await asyncio.sleep(0.2)
        heard = []
        while not subscriber.queue.empty():
            heard.append(json.loads(subscriber.queue.get_nowait()))
        return [e for e in heard if e["type"].startswith("task.")]

    heard = run_async(scenario())
    progress = [(e["task"]["message"], e["task"]["revision"]) for e in heard if e["type"] == "task.progress"]
    assert [m for m, _ in progress] == ["second"], progress
    revisions = [e["task"]["revision"] for e in heard]
    assert len(set(revisions)) == len(revisions), revisions
