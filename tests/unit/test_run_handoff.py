"""A run recorded by this process's request reaches its worker as the request checked it: the task's params are
handed over as they are (not validated from the row again) and the engine gives the plan it made of that very
graph again, while nothing it depends on changed (benchmarks/README.md, "Fourteenth round")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from mediastudio.auth.tables import User
from mediastudio.engine import service as engine_service
from mediastudio.engine.service import Engine
from mediastudio.events.bus import EventBus
from mediastudio.graph import Graph
from mediastudio.models.registry import ModelRegistry
from mediastudio.projects.access import task_scope
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.tables import open_database
from mediastudio.tasks.kinds import KindRegistry
from mediastudio.tasks.system import TaskSystem
from mediastudio.tasks.tables import Task


class Echo(BaseModel):
    words: list[str]


def _echo_system(tmp_path: Path, run: Any = lambda ctx, params: {"ok": True},
                 **settings: Any) -> tuple[TaskSystem, User]:
    """A task system whose kind `test.echo` runs `run` with its params as the model, and one person."""
    db = open_database(tmp_path / "studio.sqlite")
    kinds = KindRegistry()
    kinds.add("test.echo", run, lane="gpu", params=Echo, title=lambda _: "Echo", needs="none", project=False,
              takes_model=True)
    system = TaskSystem(Settings(data_dir=tmp_path, **settings), db, BlobStore(tmp_path / "blobs"), EventBus(),
                        kinds, task_scope)
    actor = User(id="u1", username="ada", display_name="Ada", password_hash="x", color="#336699")
    with db.transaction() as session:
        session.add(actor)
    return system, actor


def test_a_task_recorded_here_runs_with_the_params_it_was_checked_with(tmp_path: Path) -> None:
    received: list[Any] = []

    def echo(ctx: Any, params: Any) -> dict[str, Any]:
        received.append(params)
        return {"ok": True}

    system, actor = _echo_system(tmp_path, echo)
    db = system.db
    handed: list[tuple[str, BaseModel]] = []
    hand = system.runner.hand

    def noted(task_id: str, params: BaseModel, row: Task | None = None) -> None:
        handed.append((task_id, params))
        hand(task_id, params, row)

    system.runner.hand = noted
    with db.transaction() as session:
        task = system.new(session, actor, "test.echo", {"words": ["a", "b"]}, None, system=True)
    # recorded elsewhere (another process, or before a restart): only its row
    with db.transaction() as session:
        session.add(Task(id="t_row", kind="test.echo", lane="gpu", title="Echo", owner_id="u1",
                         params={"words": ["from", "the", "row"]}))
    lane = system.queue.lanes["gpu"]
    for each in (task, Task(id="t_row", kind="test.echo", lane="gpu", title="Echo", owner_id="u1", priority=0)):
        system.queue.enqueue(each)
        lane.execute(lane.dequeue())
    assert [t for t, _ in handed] == [task.id]
    assert received[0] is handed[0][1]  # as it was checked: not read back from the row and validated again
    assert received[1] == Echo(words=["from", "the", "row"])
    with db.session() as session:
        assert [getattr(session.get(Task, t), "status", None) for t in (task.id, "t_row")] == ["succeeded"] * 2
    assert not system.runner._handed  # given once: a later run of the same task (a restart) reads its row
    for each in system.queue.lanes.values():
        each.storage.close()
    db.close()




def test_a_task_cancelled_before_it_ran_leaves_no_params_kept(tmp_path: Path) -> None:
    from mediastudio.tasks.service import request_cancel

    system, actor = _echo_system(tmp_path)
    with system.db.transaction() as session:
        task = system.new(session, actor, "test.echo", {"words": ["never", "run"]}, None, system=True)
    system.submit(task)
    assert list(system.runner._handed) == [task.id]
    with system.db.transaction() as session:
        cancelled, what = request_cancel(session, actor, task.id)
    system.cancel(cancelled, what)
    assert what == "revoked" and not system.runner._handed
    for lane in system.queue.lanes.values():
        lane.storage.close()
    system.db.close()


def test_with_workers_elsewhere_no_params_are_kept(tmp_path: Path) -> None:
    """With Redis, `mediastudio worker` processes may take the task: what this process kept for it would stay."""
    system, actor = _echo_system(tmp_path, queue_url="redis://127.0.0.1:1/0")  # never connected to here
    with system.db.transaction() as session:
        system.new(session, actor, "test.echo", {"words": ["elsewhere"]}, None, system=True)
    assert not system.runner._handed
    system.db.close()

def _engine(tmp_path: Path) -> tuple[Engine, ModelRegistry, Path]:
    source = tmp_path / "weights"
    (source / "unet").mkdir(parents=True)
    (source / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    registry = ModelRegistry(tmp_path / "data")
    registry.add(source, "tiny")
    db = open_database(tmp_path / "studio.sqlite")
    return Engine(Settings(data_dir=tmp_path / "data"), db, BlobStore(tmp_path / "blobs"), registry), registry, source


GRAPH = {"nodes": {"p": {"type": "prompt", "params": {"text": "a lighthouse"}, "position": {"x": 0, "y": 0}}},
         "edges": {}}


def test_the_plan_of_a_graph_object_is_given_again_while_nothing_it_depends_on_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, registry, source = _engine(tmp_path)
    made: list[Graph] = []
    real_plan = engine_service.plan

    def counted(graph: Graph, *args: Any, **kwargs: Any) -> Any:
        made.append(graph)
        return real_plan(graph, *args, **kwargs)

    monkeypatch.setattr(engine_service, "plan", counted)
    graph = Graph.model_validate(GRAPH)
    first = engine.plan(graph, ["p"])
    assert engine.plan(graph, ["p"]) is first and len(made) == 1  # the run's worker, a moment after its request
    assert engine.plan(graph, None) is not first and len(made) == 2  # other outputs: planned anew
    assert engine.plan(graph, None, whole=True) is not first and len(made) == 3
    assert engine.plan(Graph.model_validate(GRAPH), ["p"]) is not first and len(made) == 4  # an equal graph: anew
    registry.add(source, "tiny-two")  # another model installed: planned anew
    assert engine.plan(graph, ["p"]) is not first and len(made) == 5
    again = engine.plan(graph, ["p"])
    assert len(made) == 5
    now = engine_service.time.monotonic()
    monkeypatch.setattr(engine_service.time, "monotonic", lambda: now + engine_service.PLAN_KEPT_S + 0.1)
    assert engine.plan(graph, ["p"]) is not again and len(made) == 6  # too old: planned anew
    engine.db.close()


def test_a_runs_params_hold_the_very_graph_its_request_planned() -> None:
    """What lets the run's worker find the request's plan: the params checked from `run_params` keep the graph
    object the request planned (pydantic takes an instance of the field's class as it is)."""
    from mediastudio.engine.run import RunParams
    from mediastudio.engine.runs import RunRequest, Snapshot, run_params

    graph = Graph.model_validate(GRAPH)
    checked = RunParams.model_validate(run_params(RunRequest("p_1", "s_1", outputs=["p"]), Snapshot("Scene", graph),
                                                  steps_hint=1))
    assert checked.graph is graph and checked.outputs == ["p"]
