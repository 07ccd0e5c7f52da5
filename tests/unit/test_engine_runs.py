"""engine/runs.py with stand-ins for the database, the task system and the engine: the `scene.run` params both
paths (scene runs and batches; regenerating an asset) build, batch numbering, run indexes and plan errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from mediastudio.engine import runs
from mediastudio.engine.graph import GraphInvalid, Issue
from mediastudio.engine.run import RunParams, _title

GRAPH: dict[str, Any] = {"nodes": {"n1": {"type": "text_to_image", "params": {"prompt": "a cat", "seed": 7}},
                                   "s": {"type": "seed", "params": {"value": 1, "mode": "increment"}}}, "edges": []}


class FakeDb:
    def __init__(self) -> None:
        self.flushed = 0

    def flush(self) -> None:
        self.flushed += 1


class FakeDatabase:
    def __init__(self) -> None:
        self.db = FakeDb()

    @contextmanager
    def transaction(self) -> Iterator[FakeDb]:
        yield self.db


class FakeEngine:
    """Plans every graph into 5 steps; a scene's run index counts the runs recorded (flushed) before."""

    def __init__(self, issues: list[Issue] | None = None, before: int = 0) -> None:
        self.issues, self.before, self.planned = issues, before, []

    def plan(self, graph: dict[str, Any], outputs: list[str] | None = None) -> str:
        self.planned.append((graph, outputs))
        if self.issues:
            raise GraphInvalid(self.issues)
        return "plan"

    def steps(self, run_plan: str) -> int:
        return 5

    def run_index(self, db: FakeDb, scene_id: str) -> int:
        return self.before + db.flushed


class FakeTasks:
    """Checks params as TaskSystem.new does (RunParams), keeps what it would store and the title."""

    def __init__(self) -> None:
        self.made: list[dict[str, Any]] = []
        self.submitted: list[dict[str, Any]] = []

    def new(self, db: FakeDb, user: Any, kind: str, params: dict[str, Any], project_id: str) -> dict[str, Any]:
        parsed = RunParams.model_validate(params)
        task = {"kind": kind, "project_id": project_id, "params": parsed.model_dump(mode="json"),
                "title": _title(parsed)}
        self.made.append(task)
        return task

    def submit(self, task: dict[str, Any]) -> None:
        self.submitted.append(task)

    def describe(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return tasks


def record(request: runs.RunRequest, engine: FakeEngine | None = None) -> list[dict[str, Any]]:
    snapshot = runs.Snapshot("Opening", GRAPH)
    return runs.record_runs(FakeDatabase(), FakeTasks(), engine or FakeEngine(), "user", request,  # type: ignore[arg-type]
                            snapshot)


def test_a_single_run_has_no_batch_and_the_scene_s_run_index() -> None:
    (task,) = record(runs.RunRequest("p1", "s1", outputs=["n1"]), FakeEngine(before=3))
    assert task["kind"] == "scene.run" and task["project_id"] == "p1"
    assert task["params"] == {"scene_id": "s1", "scene_name": "Opening", "outputs": ["n1"], "graph": GRAPH,
                              "force": False, "run_index": 3, "steps_hint": 5, "batch": None}
    assert task["title"] == "Run 1 node(s) of 'Opening'"


def test_a_batch_numbers_its_runs_and_steps_their_run_index() -> None:
    made = record(runs.RunRequest("p1", "s1", force=True, repeat=3), FakeEngine(before=2))
    assert [t["params"]["batch"] for t in made] == [[1, 3], [2, 3], [3, 3]]
    assert [t["params"]["run_index"] for t in made] == [2, 3, 4]
    assert [t["title"] for t in made] == [f"Run 'Opening' ({n} of 3)" for n in (1, 2, 3)]
    assert all(t["params"]["force"] and t["params"]["outputs"] is None for t in made)


def test_the_builder_gives_valid_params_and_a_batch_only_for_repeats() -> None:
    one = runs.run_params(runs.RunRequest("p", "s"), runs.Snapshot("", GRAPH), steps_hint=4)
    two = runs.run_params(runs.RunRequest("p", "s", repeat=2), runs.Snapshot("", GRAPH), steps_hint=4, place=2,
                          run_index=9)
    assert RunParams.model_validate(one.model_dump(mode="json")) == RunParams.model_validate(one.model_dump())
    assert (one.batch, one.run_index, two.batch, two.run_index) == (None, 0, (2, 2), 9)
    assert _title(one) == "Run 's'"  # no scene name: the scene id


def test_regenerating_builds_the_same_params_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    provenance = {"graph": GRAPH, "node_id": "n1", "scene_id": "s1"}
    monkeypatch.setattr(runs, "_provenance", lambda *args: ("cat.png", provenance))
    tasks = FakeTasks()
    out = runs.regenerate(FakeDatabase(), None, tasks, FakeEngine(), "user", "p1", "a1", False)  # type: ignore[arg-type]
    assert tasks.submitted == [out]
    assert out["params"] == {"scene_id": "s1", "scene_name": "cat.png again", "outputs": ["n1"], "graph": GRAPH,
                             "force": True, "run_index": 0, "steps_hint": 5, "batch": None}
    assert out["params"].keys() == record(runs.RunRequest("p1", "s1"))[0]["params"].keys()
    assert out["title"] == "Run 1 node(s) of 'cat.png again'"


def test_regenerating_with_new_seeds_changes_every_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs, "_provenance", lambda *args: ("cat.png", {"graph": GRAPH, "node_id": "n1"}))
    out = runs.regenerate(FakeDatabase(), None, FakeTasks(), FakeEngine(), "user", "p1", "a1", True)  # type: ignore[arg-type]
    nodes = out["params"]["graph"]["nodes"]
    seeds = [nodes["s"]["params"]["value"], nodes["n1"]["params"]["seed"]]
    assert nodes["s"]["params"]["mode"] == "fixed" and all(0 <= s < 2**32 for s in seeds)
    assert nodes["n1"]["params"]["prompt"] == "a cat" and out["params"]["scene_id"] == ""
    assert GRAPH["nodes"]["n1"]["params"]["seed"] == 7  # the recorded graph is left as it was


def test_a_graph_that_cannot_run_names_its_first_problem_and_how_many_more() -> None:
    issues = [Issue("n1", "The prompt is empty."), Issue("n2", "Nothing feeds 'image'.")]
    with pytest.raises(runs.GraphProblems) as caught:
        record(runs.RunRequest("p1", "s1", repeat=2), FakeEngine(issues))
    assert caught.value.detail == "The prompt is empty. (and 1 more)" and caught.value.hint == runs.SCENE_HINT
    assert caught.value.extra == {"issues": [i.as_dict() for i in issues]}
    with pytest.raises(runs.GraphProblems) as again:
        runs.plan_run(FakeEngine(issues), GRAPH, ["n1"], hint=runs.REGENERATE_HINT, count_more=False)  # type: ignore[arg-type]
    assert again.value.detail == "The prompt is empty." and again.value.hint == runs.REGENERATE_HINT
