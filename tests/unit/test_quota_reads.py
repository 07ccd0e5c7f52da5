"""Starting a task checks the owner's quotas with one query on the task rows (their tasks waiting or running, and
how many of those share the lane, for the fair order), and reads the role's limits from memory while the database
has not changed; a change an administrator commits applies to the very next start. GPU minutes are summed only
for a role that has a daily limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest

from mediastudio.accounts.users import create_guest, create_user
from mediastudio.app import build_studio
from mediastudio.auth.tables import User
from mediastudio.errors import TooManyRequests
from mediastudio.quotas import service as quotas
from mediastudio.settings import Settings
from mediastudio.studio import Studio
from support import sql_statements


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False, extra_task_kinds=["kinds_for_tests"],
                                 task_quota=3, guests_enabled=True))
    yield made
    made.db.close()


def start(studio: Studio, user: User, count: int = 1) -> list[str]:
    """Start `count` sleep tasks in one transaction (as a batch of runs does); the statements each start ran."""
    with studio.db.transaction() as db, sql_statements(studio.db.engine) as seen:
        for _ in range(count):
            studio.tasks.new(db, user, "test.sleep", {"steps": 1}, None)
            db.flush()
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


def on(table: str, statements: list[str]) -> list[str]:
    return [s for s in statements if f"FROM {table}" in s]


def test_a_start_reads_the_task_rows_once_and_the_limits_from_memory(studio: Studio) -> None:
    with studio.db.transaction() as db:
        ana = create_user(db, username="ana", password="violet tram sixteen")
    first = start(studio, ana, count=2)
    assert len(on("tasks", first)) == 2, first  # one query per start: the counts of waiting and running
    assert len(on("role_quotas", first)) == 1, first  # the second start of the batch: from memory
    assert not [s for s in first if "started_at" in s.split("FROM")[0]]  # no daily GPU limit: nothing summed

    with studio.db.transaction() as db:  # an administrator lowers the users' limit
        quotas.update(db, studio.settings, ana, "user", {"runs_at_once": 2})
    with pytest.raises(TooManyRequests, match="at most 2 tasks"):
        start(studio, ana)


def test_a_daily_gpu_limit_sums_the_days_gpu_time(studio: Studio) -> None:
    with studio.db.transaction() as db:
        guest = create_guest(db)
    seen = start(studio, guest)
    gpu = [s for s in on("tasks", seen) if "started_at" in s.split("FROM")[0]]
    assert len(gpu) == 1 and len(on("tasks", seen)) == 2, seen  # guests have 10 GPU minutes a day by default


def test_gpu_time_counts_today_in_utc_and_a_task_up_to_now(studio: Studio) -> None:
    """A real task run through the runner: its time counts today, up to the moment asked (so a running task counts
    its time so far), and not at all the next UTC day."""
    from datetime import timedelta

    from mediastudio.quotas.service import day_start, next_reset
    from mediastudio.tasks.service import gpu_seconds_today
    from mediastudio.tasks.tables import Task

    with studio.db.transaction() as db:
        ana = create_user(db, username="ana", password="violet tram sixteen")
        task = studio.tasks.new(db, ana, "test.sleep", {"steps": 2, "step_seconds": 0.15}, None)
        cpu = studio.tasks.new(db, ana, "test.sleep_cpu", {"steps": 1, "step_seconds": 0.1}, None)
    studio.tasks.runner.execute(task.id)
    studio.tasks.runner.execute(cpu.id)  # the CPU lane's time is not GPU time
    with studio.db.session() as db:
        ran = db.get(Task, task.id)
        assert ran is not None and ran.status == "succeeded" and ran.started_at and ran.finished_at
        started = ran.started_at.replace(tzinfo=ran.started_at.tzinfo or UTC)
        finished = ran.finished_at.replace(tzinfo=ran.finished_at.tzinfo or UTC)
        whole = (finished - started).total_seconds()
        assert whole >= 0.3
        # Later the same UTC day (a run in the last five minutes before midnight is asked about just before it),
        # and the part of the run that day (all of it, unless it began the day before).
        later = min(finished + timedelta(minutes=5), next_reset(finished) - timedelta(microseconds=1))
        today = (finished - max(started, day_start(later))).total_seconds()
        assert today == whole or started < day_start(later)
        assert gpu_seconds_today(db, ana.id, later) == pytest.approx(today)
        early = started + timedelta(seconds=0.1)
        assert gpu_seconds_today(db, ana.id, early) == pytest.approx((early - max(started, day_start(early)))
                                                                      .total_seconds())
        tomorrow = next_reset(finished) + timedelta(seconds=30)
        assert day_start(tomorrow) == next_reset(finished) and day_start(tomorrow).hour == 0
        assert gpu_seconds_today(db, ana.id, tomorrow) == 0


def test_a_roles_limits_are_read_by_a_prepared_statement_and_see_this_transactions_change(
        studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run writes, so the limits kept in memory are read again at the next start of someone not an
    administrator: by one statement prepared once, not by the session's `get` (its identity map and row loading);
    a change made earlier in the same transaction is seen, as `get` saw it."""
    from sqlmodel import Session

    with studio.db.transaction() as db:
        ana = create_user(db, username="ana", password="violet tram sixteen")
    gets: list[object] = []
    real_get = Session.get
    monkeypatch.setattr(Session, "get", lambda self, *a, **k: (gets.append(a[0]), real_get(self, *a, **k))[1])
    with studio.db.transaction() as db:
        kept = db.info.pop("database")  # nothing kept in memory: every call reads
        assert quotas.limits(db, studio.settings, ana).runs_at_once == 3
        assert gets == []
        quotas.update(db, studio.settings, ana, "user", {"runs_at_once": 5})  # (which gets the row to change it)
        gets.clear()
        assert quotas.limits(db, studio.settings, ana).runs_at_once == 5
        assert gets == []
        db.info["database"] = kept
