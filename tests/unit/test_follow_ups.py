"""A run's bookkeeping after its outcome (its results joining the project's pending commit) waits while another task
of the process runs — in a batch, the next run, whose pipeline it shared the interpreter with — and runs once
none does, after at most `FOLLOW_UP_HOLD`, or at once on a clean stop. Announcements never wait for that."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_run_result_files import Params, _maker

from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.auth.tables import User
from mediastudio.projects import service
from mediastudio.projects.access import project_folder
from mediastudio.projects.repo import ProjectRepo
from mediastudio.projects.tables import Project
from mediastudio.settings import Settings
from mediastudio.studio import Studio
from mediastudio.tasks import runner as runner_module
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.tables import Task
from support import run_async, wait_until

GATE = threading.Event()  # the gate task runs until the test opens it (or 20 s pass)
STARTED: list[threading.Thread] = []  # the tasks' threads `_start` began, ended before the studio closes


def _gate(ctx: TaskContext, _params: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while not GATE.is_set() and time.monotonic() < deadline:
        ctx.sleep(0.01)
    return {}


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    GATE.clear()
    # A commit window longer than the tests: what a follow-up put in the project's pending commit stays there.
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False, commit_window_s=60))
    made.tasks.kinds.add("test.maker", _maker, lane="cpu", params=Params, title=lambda _: "Maker", needs="edit")
    made.tasks.kinds.add("test.gate", _gate, lane="gpu", params=Params, title=lambda _: "Gate", needs="none",
                         project=False)
    yield made
    GATE.set()
    while STARTED:
        STARTED.pop().join(30)
    made.tasks.runner.drain_follow_ups()
    made.db.close()


def _tasks(studio: Studio) -> tuple[User, Project, Task, Task]:
    with studio.db.transaction() as db:
        ana = create_user(db, username="ana", password="violet tram sixteen")
        project = service.create_project(db, studio.settings, ana, name="Film", workspace_id=None)
        gate = studio.tasks.new(db, ana, "test.gate", {}, None)
        maker = studio.tasks.new(db, ana, "test.maker", {"colour": "teal"}, project.id)
    return ana, project, gate, maker


def _pending(studio: Studio, project: Project) -> list[str]:
    """The files the project's pending commit names so far."""
    repo = ProjectRepo(project_folder(studio.settings, project))
    return [path for change in repo.pending() for path in change.paths]


def _start(studio: Studio, task: Task) -> threading.Thread:
    """`task` run as a lane's worker does, on a thread of its own; returns once it runs."""
    thread = threading.Thread(target=studio.tasks.runner.execute, args=(task.id,), daemon=True)
    thread.start()
    STARTED.append(thread)
    wait_until(lambda: task.id in studio.tasks.runner.active, timeout=10, message="the gate task to start")
    return thread


def _made(studio: Studio, task: Task) -> str:
    studio.tasks.runner.execute(task.id)
    with studio.db.session() as db:
        row = db.get(Task, task.id)
        assert row is not None and row.status == "succeeded", row
        (asset_id,) = row.result["assets"]
    return f"assets/{asset_id}.json"


def test_a_runs_bookkeeping_waits_for_the_task_running_beside_it(studio: Studio,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "FOLLOW_UP_HOLD", 30.0)
    _, project, gate, maker = _tasks(studio)
    gating = _start(studio, gate)
    made = _made(studio, maker)
    time.sleep(runner_module.FOLLOW_UP_DELAY + 0.3)  # long past when it ran before
    assert made not in _pending(studio, project), "it ran while the other task was running"
    GATE.set()
    gating.join(10)
    wait_until(lambda: made in _pending(studio, project), timeout=5, message="the held bookkeeping to run")


def test_held_bookkeeping_runs_after_at_most_the_hold(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "FOLLOW_UP_HOLD", 0.5)
    _, project, gate, maker = _tasks(studio)
    _start(studio, gate)
    asked = time.monotonic()
    made = _made(studio, maker)
    wait_until(lambda: made in _pending(studio, project), timeout=5, message="the held bookkeeping to run")
    assert time.monotonic() - asked >= 0.5
    assert gate.id in studio.tasks.runner.active  # the other task still runs


def test_a_clean_stop_runs_the_held_bookkeeping_at_once(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "FOLLOW_UP_HOLD", 30.0)
    _, project, gate, maker = _tasks(studio)
    _start(studio, gate)
    made = _made(studio, maker)
    studio.tasks.runner.drain_follow_ups()
    assert made in _pending(studio, project)


def test_without_another_task_the_bookkeeping_runs_at_once(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "FOLLOW_UP_HOLD", 30.0)
    _, project, _, maker = _tasks(studio)
    made = _made(studio, maker)
    wait_until(lambda: made in _pending(studio, project), timeout=5, message="the bookkeeping to run")


def test_the_events_of_what_a_run_recorded_do_not_wait_for_the_task_beside_it(studio: Studio,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "FOLLOW_UP_HOLD", 30.0)
    ana, project, gate, maker = _tasks(studio)

    async def scenario() -> list[dict[str, Any]]:
        studio.events.bind(asyncio.get_running_loop())
        subscriber = studio.events.subscribe(ana.id, {project.workspace_id}, is_admin=False)
        await asyncio.to_thread(_start, studio, gate)
        await asyncio.to_thread(studio.tasks.runner.execute, maker.id)
        heard: list[dict[str, Any]] = []
        async with asyncio.timeout(10):
            while not any(e["type"] == "asset.created" for e in heard):
                heard.append(json.loads(await subscriber.queue.get()))
        return heard

    heard = [e["type"] for e in run_async(scenario()) if e["type"] in ("task.succeeded", "asset.created")]
    assert heard == ["task.succeeded", "asset.created"]
    assert gate.id in studio.tasks.runner.active
