"""A task's last log lines are written with its outcome in one statement, not one INSERT per line, and read
back whole and in order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.db import _GatedCursor
from mediastudio.settings import Settings
from mediastudio.studio import Studio
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.log_store import read
from mediastudio.tasks.tables import Task


class Params(BaseModel):
    lines: int = 5


def _talky(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    for n in range(params["lines"]):
        ctx.log("info", f"line {n}")
    return {}


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    made.tasks.kinds.add("test.talky", _talky, lane="cpu", params=Params, title=lambda _: "Talky", needs="none",
                         project=False)
    yield made
    made.db.close()


def test_the_last_lines_go_with_the_outcome_in_one_statement(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    with studio.db.transaction() as db:
        user = create_user(db, username="ana", password="violet tram sixteen", is_admin=True)
        task = studio.tasks.new(db, user, "test.talky", {"lines": 5}, None)
    inserts: list[tuple[str, int]] = []
    # Watched at the connection: SQLAlchemy's statements and those prepared on the connection itself pass there
    real_execute, real_many = _GatedCursor.execute, _GatedCursor.executemany

    def note(statement: str, rows: int) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TASK_LOG"):
            inserts.append((statement, rows))

    def execute(cursor: _GatedCursor, statement: str, parameters: Any = ()) -> _GatedCursor:
        note(statement, 1)
        return real_execute(cursor, statement, parameters)

    def executemany(cursor: _GatedCursor, statement: str, parameters: Any) -> _GatedCursor:
        parameters = list(parameters)
        note(statement, len(parameters))
        return real_many(cursor, statement, parameters)

    monkeypatch.setattr(_GatedCursor, "execute", execute)
    monkeypatch.setattr(_GatedCursor, "executemany", executemany)
    studio.tasks.runner.execute(task.id)
    monkeypatch.undo()
    assert len(inserts) == 1 and inserts[0][1] == 7, inserts  # started, five lines, succeeded
    with studio.db.session() as db:
        row = db.get(Task, task.id)
        assert row is not None and row.status == "succeeded"
        lines = [line.message for line in read(db, row).lines]
    assert lines[0].startswith("Started") and lines[1:6] == [f"line {n}" for n in range(5)]
    assert lines[-1].startswith("Succeeded")
