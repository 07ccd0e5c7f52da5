"""A task's scratch folder is made only when the task uses it: a run that writes no file makes no folder and
leaves none behind (each succeeded scene run left an empty one under tasks/), while a task whose result is a file
still gets it, downloadable, and a task run again after an interruption starts from an empty folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import col

from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.settings import Settings
from mediastudio.studio import Studio
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.runner import results_dir
from mediastudio.tasks.tables import Task


class Params(BaseModel):
    write: bool = False


def _maybe_writes(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    leftovers = sorted(p.name for p in ctx.scratch_folder.parent.rglob("*")) if ctx.scratch_folder.parent.exists() \
        else []
    if not params["write"]:
        return {"leftovers": leftovers}
    (ctx.scratch / "out.txt").write_text("made")
    return {**ctx.publish_result_file(ctx.scratch / "out.txt"), "leftovers": leftovers}


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    made.tasks.kinds.add("test.maybe_writes", _maybe_writes, lane="cpu", params=Params, title=lambda _: "Maybe",
                         needs="none", project=False)
    yield made
    made.db.close()


def _run(studio: Studio, params: dict[str, Any], *, attempts: int = 0) -> Task:
    with studio.db.transaction() as db:
        user = create_user(db, username="ana", password="violet tram sixteen", is_admin=True)
        task = studio.tasks.new(db, user, "test.maybe_writes", params, None)  # written at once, no session's
        db.exec(update(Task).where(col(Task.id) == task.id).values(attempts=attempts))
    if attempts:  # as an attempt a crash interrupted leaves its folder
        (results_dir(studio.settings, task.id) / "scratch").mkdir(parents=True)
        (results_dir(studio.settings, task.id) / "scratch" / "half.txt").write_text("half")
    studio.tasks.runner.execute(task.id)
    with studio.db.session() as db:
        row = db.get(Task, task.id)
    assert row is not None and row.status == "succeeded", row
    return row


def test_a_task_that_writes_no_file_makes_no_folder(studio: Studio) -> None:
    row = _run(studio, {"write": False})
    assert not results_dir(studio.settings, row.id).exists()
    assert not (studio.settings.data_dir / "tasks").exists() or not any((studio.settings.data_dir / "tasks").iterdir())


def test_a_task_whose_result_is_a_file_keeps_it(studio: Studio) -> None:
    row = _run(studio, {"write": True})
    assert row.result is not None and row.result["download"] == f"/api/v1/tasks/{row.id}/result"
    assert (results_dir(studio.settings, row.id) / "result" / "out.txt").read_text() == "made"


def test_a_task_run_again_starts_from_an_empty_folder(studio: Studio) -> None:
    row = _run(studio, {"write": True}, attempts=1)
    assert row.result is not None and row.result["leftovers"] == []
    assert sorted(p.name for p in (results_dir(studio.settings, row.id) / "result").iterdir()) == ["out.txt"]
