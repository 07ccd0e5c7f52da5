"""A run records the part of its scene's graph it computes, not the whole scene (engine/service.py
`Engine.plan_part`, graph/model.py `Graph.part`): its task's params, its answer and `task.queued` event, and each
result's provenance then grow with what runs, not with the scene around it. On a real studio (SQLite, git, the
task system, the engine); the runs load a picture and upscale it (no model to load)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlmodel import col, select
from test_engine_runs import generated_asset

from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.auth.tables import User
from mediastudio.engine import graph as engine_graph
from mediastudio.engine import runs
from mediastudio.graph import Graph, GraphIn
from mediastudio.media.assets import read_meta
from mediastudio.projects import scenes, service
from mediastudio.projects.tables import Asset, Project
from mediastudio.settings import Settings
from mediastudio.studio import Studio
from mediastudio.tasks import log_store
from mediastudio.tasks.tables import Task
from support import run_async

AT = {"x": 0, "y": 0}


def edge(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
    return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                                  "target_handle": into}


def two_shots(picture: str, *, bypass_group: bool = False) -> dict[str, Any]:
    """Two shots, each with its own chain (a picture loaded, upscaled, saved; a picture loaded and saved), and a
    prompt nothing reads; with `bypass_group`, the first upscale sits in a bypassed group."""
    nodes = {
        "load_a": {"type": "load_image", "position": AT, "params": {"asset_id": picture}},
        "big_a": {"type": "upscale", "position": AT, "params": {"factor": 2}},
        "shot_a": {"type": "shot", "position": AT, "params": {"name": "Hero"}},
        "load_b": {"type": "load_image", "position": AT, "params": {"asset_id": picture}},
        "shot_b": {"type": "shot", "position": AT, "params": {"name": "Wide"}},
        "note": {"type": "prompt", "position": AT, "params": {"text": "an idea for later"}},
    }
    graph: dict[str, Any] = {"nodes": nodes, "edges": dict([edge("load_a", "image", "big_a", "image"),
                                                           edge("big_a", "image", "shot_a", "images"),
                                                           edge("load_b", "image", "shot_b", "images")])}
    if bypass_group:
        nodes["big_a"]["group"] = "quiet"
        frame = {"x": 0, "y": 0, "width": 400, "height": 300}
        graph["groups"] = {"quiet": {"title": "Off", "bypass": True, "bounds": frame},
                           "other": {"title": "Unused", "bounds": frame}}
    return graph


@pytest.fixture
def studio(tmp_path: Path) -> Any:
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    made.engine.import_libraries()  # as the server's preload does: a run's first import takes seconds
    yield made
    made.db.close()


@pytest.fixture
def film(studio: Studio) -> tuple[User, str, str]:
    """Ana, her project, and a picture of 8×8 in it."""
    with studio.db.transaction() as db:
        ana = create_user(db, username="ana", password="violet tram sixteen")
        project = service.create_project(db, studio.settings, ana, name="Film", workspace_id=None)
    return ana, project.id, generated_asset(studio, ana, project.id, {"node_id": "shot"})


def scene_of(studio: Studio, user: User, project_id: str, graph: dict[str, Any]) -> str:
    with studio.db.transaction() as db:
        return str(scenes.create_scene(db, studio.settings, user, project_id, "Coast",
                                       GraphIn.model_validate(graph))["id"])


def run(studio: Studio, user: User, request: runs.RunRequest, *,
        from_rows: bool = False) -> tuple[list[Any], list[Task]]:
    """The runs asked for (as the API answers them), each then run by this thread as the lane's worker would
    (`from_rows`: as after a restart, from what their rows recorded, planned anew)."""
    answered = run_async(runs.queue_runs(studio.db, studio.settings, studio.rooms, studio.tasks, studio.engine, user,
                                         request))
    done = []
    for out in answered:
        if from_rows:
            studio.tasks.runner.unhand(out.id)
            studio.engine._plans.clear()
        studio.tasks.runner.execute(out.id)
        with studio.db.session() as db:
            task = db.get(Task, out.id)
        assert task is not None and task.status == "succeeded", task and task.error_message
        done.append(task)
    return answered, done


def provenance_and_size(studio: Studio, project_id: str, asset_id: str) -> tuple[dict[str, Any], tuple[int, int]]:
    with studio.db.session() as db:
        project, asset = db.get(Project, project_id), db.get(Asset, asset_id)
    assert project is not None and asset is not None
    with Image.open(io.BytesIO(studio.blobs.path(asset.sha256).read_bytes())) as picture:
        return read_meta(studio.settings, project, asset_id)["provenance"], picture.size


def test_a_part_holds_the_nodes_named_the_edges_between_them_and_their_groups(film: tuple[User, str, str]) -> None:
    graph = Graph.model_validate(two_shots("as_1", bypass_group=True))
    part = graph.part(["load_a", "big_a", "shot_a", "not_a_node"])
    assert set(part.nodes) == {"load_a", "big_a", "shot_a"}
    assert set(part.edges) == {"load_a:image->big_a:image", "big_a:image->shot_a:images"}
    assert set(part.groups) == {"quiet"}  # the group of a node kept (its bypass applies), not the unused one
    assert part.nodes["big_a"] is graph.nodes["big_a"], "the graph's own checked nodes, not copies"
    assert set(graph.nodes) == {"load_a", "big_a", "shot_a", "load_b", "shot_b", "note"}, "the graph is left whole"
    assert graph.part(list(graph.nodes)) is graph
    assert Graph.model_validate(part.model_dump()) == part, "a part is a graph as any other"


def test_a_run_of_one_shot_records_and_announces_only_what_it_computes(
        studio: Studio, film: tuple[User, str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    ana, project_id, picture = film
    scene_id = scene_of(studio, ana, project_id, two_shots(picture))
    planned: list[set[str]] = []
    planning = engine_graph.plan

    def counted(graph: Graph, *args: Any, **kwargs: Any) -> Any:
        planned.append(set(graph.nodes))
        return planning(graph, *args, **kwargs)

    monkeypatch.setattr("mediastudio.engine.service.plan", counted)
    heard: list[dict[str, Any]] = []
    studio.events.listeners.append(heard.append)  # events are delivered on the loop; none runs: none is heard
    (answer,), (task,) = run(studio, ana, runs.RunRequest(project_id, scene_id, outputs=["shot_a"], force=True))
    assert set(task.params["graph"]["nodes"]) == {"load_a", "big_a", "shot_a"}, "the task recorded the whole scene"
    assert set(task.params["graph"]["edges"]) == {"load_a:image->big_a:image", "big_a:image->shot_a:images"}
    assert set(answer.params["graph"]["nodes"]) == {"load_a", "big_a", "shot_a"}, "the answer carries the scene"
    assert planned == [{"load_a", "big_a", "shot_a", "load_b", "shot_b", "note"}], \
        "planned once, on the request (its plan of the part given again to the task)"
    (made,) = task.result["assets"]
    provenance, size = provenance_and_size(studio, project_id, made)
    assert set(provenance["graph"]["nodes"]) == {"load_a", "big_a", "shot_a"} and provenance["node_id"] == "shot_a"
    assert size == (16, 16), "the shot's picture, upscaled"


def test_a_run_of_the_whole_scene_leaves_out_what_no_shot_needs_and_each_result_records_its_own_shot(
        studio: Studio, film: tuple[User, str, str]) -> None:
    ana, project_id, picture = film
    scene_id = scene_of(studio, ana, project_id, two_shots(picture))
    _, (task,) = run(studio, ana, runs.RunRequest(project_id, scene_id, force=True))
    assert set(task.params["graph"]["nodes"]) == {"load_a", "big_a", "shot_a", "load_b", "shot_b"}
    recorded = {}
    for made in task.result["assets"]:
        provenance, _ = provenance_and_size(studio, project_id, made)
        recorded[provenance["node_id"]] = set(provenance["graph"]["nodes"])
    assert recorded == {"shot_a": {"load_a", "big_a", "shot_a"}, "shot_b": {"load_b", "shot_b"}}


def test_a_bypassed_group_stays_with_the_part_that_runs(studio: Studio, film: tuple[User, str, str]) -> None:
    ana, project_id, picture = film
    scene_id = scene_of(studio, ana, project_id, two_shots(picture, bypass_group=True))
    for from_rows in (False, True):
        _, (task,) = run(studio, ana, runs.RunRequest(project_id, scene_id, outputs=["shot_a"], force=True),
                         from_rows=from_rows)
        assert set(task.params["graph"]["groups"]) == {"quiet"}
        (made,) = task.result["assets"]
        provenance, size = provenance_and_size(studio, project_id, made)
        assert size == (8, 8), "the upscale in the bypassed group ran"
        assert set(provenance["graph"]["groups"]) == {"quiet"}


def test_regenerating_an_asset_that_recorded_the_whole_scene_records_only_its_shots_part(
        studio: Studio, film: tuple[User, str, str]) -> None:
    """Assets made before runs recorded their part hold the whole scene in their provenance."""
    ana, project_id, picture = film
    whole = Graph.model_validate(two_shots(picture)).model_dump()
    older = generated_asset(studio, ana, project_id, {"graph": whole, "node_id": "shot_b", "scene_id": "sc_x"})
    out = runs.regenerate(studio.db, studio.settings, studio.tasks, studio.engine, ana, project_id, older, False)
    with studio.db.session() as db:
        task = db.get(Task, out.id)
    assert task is not None and set(task.params["graph"]["nodes"]) == {"load_b", "shot_b"}
    assert set(out.params["graph"]["nodes"]) == {"load_b", "shot_b"}


@pytest.mark.parametrize(("outputs", "refused"), [(["shot_a"], "shot_a"), (None, "shot_b")],
                         ids=["with the outcome", "before the next shot runs"])
def test_a_run_over_its_owners_storage_quota_fails_saying_so_and_what_to_do(tmp_path: Path, outputs: list[str] | None,
                                                                           refused: str) -> None:
    """A refusal a person can act on (the storage quota, here) fails the run with its own message and hint, as the
    node that met it: it was reported as a failure of the node, "Check its parameters and inputs; the server log
    has the details", with a stack trace in the log. The shot's results are checked where they are recorded: with
    the outcome, or at once when another node of the run follows (`TaskContext.record_made`)."""
    studio = build_studio(Settings(data_dir=tmp_path, probe_gpu=False, storage_quota_bytes=400))
    try:
        with studio.db.transaction() as db:
            create_user(db, username="admin", password="violet tram sixteen")  # the first account: no quota
            ana = create_user(db, username="ana", password="violet tram sixteen")
            project = service.create_project(db, studio.settings, ana, name="Film", workspace_id=None)
        assert not ana.is_admin
        picture = generated_asset(studio, ana, project.id, {"node_id": "shot"})  # fits: a few dozen bytes
        scene_id = scene_of(studio, ana, project.id, two_shots(picture))
        (answered,) = run_async(runs.queue_runs(studio.db, studio.settings, studio.rooms, studio.tasks, studio.engine,
                                                ana, runs.RunRequest(project.id, scene_id, outputs=outputs)))
        studio.tasks.runner.execute(answered.id)
        with studio.db.session() as db:
            task = db.get(Task, answered.id)
            assets = db.exec(select(Asset).where(col(Asset.project_id) == project.id)).all()
        assert task is not None and task.status == "failed"
        assert task.error_code == "refused", task.error_code
        assert task.error_message is not None
        assert task.error_message.startswith("'Shot output': Your storage quota is used up"), task.error_message
        assert task.error_hint is not None and "larger quota" in task.error_hint
        with studio.db.session() as db:
            said = [line.message for line in log_store.read(db, task).lines]
        assert not [line for line in said if line.startswith("Succeeded")], said  # its log says how it ended
        assert said[-1].startswith("Failed after") and "(refused): 'Shot output': Your storage quota" in said[-1]
        assert task.detail is not None and task.detail["nodes"][refused]["state"] == "error"
        assert "storage quota" in task.detail["nodes"][refused]["error"]
        assert all(state["state"] in ("done", "skipped") for node, state in task.detail["nodes"].items()
                   if node != refused)  # the shot after it (both shots: shot_b runs first) did not run
        assert [asset.id for asset in assets] == [picture]  # nothing of the run was kept
    finally:
        studio.db.close()
