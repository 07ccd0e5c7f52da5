"""Starting a task checks the owner's quotas with one query on the task rows (their tasks waiting or running, and
how many of those share the lane, for the fair order), and reads the role's limits from memory while the database
has not changed; a change an administrator commits applies to the very next start. GPU minutes are summed only
for a role that has a daily limit."""

from __future__ import annotations

from collections.abc import Iterator
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
