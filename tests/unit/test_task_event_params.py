"""A task's bulky params (a scene run's whole graph) travel once, with task.queued: its started, progress and
outcome events leave them out (each event was encoded and compressed with the graph again), while the rest of
its params and the REST API's record keep them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.settings import Settings
from mediastudio.studio import Studio
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.events import TaskQueued
from mediastudio.tasks.tables import Task
from support import run_async


class Params(BaseModel):
    scene_id: str = "sc_1"
    graph: dict[str, Any] = {}


def _steps(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.progress(1, 2, "half way")
    return {"saw_graph": params["graph"] == GRAPH}


GRAPH = {"nodes": {f"n{i}": {"type": "prompt", "params": {"text": "a lighthouse " * 20}} for i in range(30)}}


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    made.tasks.kinds.add("test.graphy", _steps, lane="cpu", params=Params, title=lambda _: "Graphy", needs="none",
                         project=False, queued_only_params=frozenset({"graph"}))
    yield made
    made.db.close()


def test_only_task_queued_carries_the_queued_only_params(studio: Studio) -> None:
    with studio.db.transaction() as db:
        user = create_user(db, username="ana", password="violet tram sixteen", is_admin=True)
        task = studio.tasks.new(db, user, "test.graphy", {"scene_id": "sc_1", "graph": GRAPH}, None)

    async def scenario() -> list[dict[str, Any]]:
        studio.events.bind(asyncio.get_running_loop())
        subscriber = studio.events.subscribe(user.id, set(), is_admin=True)
        await asyncio.to_thread(studio.tasks.runner.publish, TaskQueued, task)  # as submitting it does
        await asyncio.to_thread(studio.tasks.runner.execute, task.id)
        await asyncio.sleep(0.3)
        heard = []
        while not subscriber.queue.empty():
            heard.append(json.loads(subscriber.queue.get_nowait()))
        return [e for e in heard if e["type"].startswith("task.")]

    heard = run_async(scenario())
    types = [e["type"] for e in heard]
    assert types[0] == "task.queued" and "task.started" in types and types[-1] == "task.succeeded", types
    assert heard[0]["task"]["params"] == {"scene_id": "sc_1", "graph": GRAPH}
    for later in heard[1:]:
        assert later["task"]["params"] == {"scene_id": "sc_1"}, later["type"]
    assert heard[-1]["task"]["result"] == {"saw_graph": True}  # the task itself ran with its whole graph
    with studio.db.session() as db:
        row = db.get(Task, task.id)
    assert row is not None
    assert studio.tasks.describe([row])[0].params["graph"] == GRAPH  # the REST API's record keeps it


def test_a_scene_runs_graph_is_sent_with_task_queued_alone(studio: Studio) -> None:
    kind = studio.tasks.kinds.get("scene.run")
    assert kind is not None and kind.queued_only_params == frozenset({"graph"})
