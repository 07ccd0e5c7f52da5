"""engine/runs.py on a real studio (SQLite, git, the task system, the engine; nothing started): the `scene.run`
tasks both paths record (scene runs and batches; regenerating an asset), batch numbering, run indexes, seeds
and the words of a graph that cannot run."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlmodel import col, select

from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.auth.tables import User
from mediastudio.engine import runs
from mediastudio.graph import GraphIn
from mediastudio.media.assets import add_assets, read_meta
from mediastudio.media.probe import probe
from mediastudio.projects import scenes, service
from mediastudio.projects.tables import Asset, Project
from mediastudio.settings import Settings
from mediastudio.storage.sniff import sniff
from mediastudio.studio import Studio
from mediastudio.tasks.tables import Task
from support import run_async


@pytest.fixture
def bare_studio(tmp_path: Path) -> Iterator[Studio]:
    """A studio with no model installed, as after a fresh clone."""
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    yield made
    made.db.close()


@pytest.fixture
def studio(bare_studio: Studio, tmp_path: Path) -> Studio:
    """A studio with one picture model registered (these tests queue runs; nothing loads the model)."""
    folder = tmp_path / "sd-folder"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    bare_studio.models.add(folder, "sd")
    return bare_studio


@pytest.fixture
def film(studio: Studio) -> tuple[User, str, str]:
    """Ana, her project from the text-to-image template, and its scene."""
    with studio.db.transaction() as db:
        ana = create_user(db, username="ana", password="violet tram sixteen")
        project = service.create_project(db, studio.settings, ana, name="Film", workspace_id=None,
                                         template="text-to-image")
    with studio.db.session() as db:
        scene = scenes.list_scenes(db, studio.settings, ana, project.id)[0]
    return ana, project.id, scene["id"]


def queue(studio: Studio, user: User, request: runs.RunRequest) -> list[Task]:
    out = run_async(runs.queue_runs(studio.db, studio.settings, studio.rooms, studio.tasks, studio.engine, user,
                                    request))
    with studio.db.session() as db:
        return [db.get(Task, t.id) for t in out]


def generated_asset(studio: Studio, user: User, project_id: str, provenance: dict[str, Any]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, format="PNG")
    data = buffer.getvalue()
    sha, _ = studio.blobs.store_bytes(data)
    sniffed = sniff(data[:4096])
    probed = probe(studio.blobs.path(sha), sniffed.category, sniffed.mime, max_pixels=10**6)
    with studio.db.transaction() as db:
        (asset,) = add_assets(db, studio.settings, user, project_id, [("cat.png", sha, sniffed, probed, len(data))],
                              category="generated", provenance=provenance)
    return asset.id


def test_a_single_run_has_no_batch_and_counts_the_runs_before_it(studio: Studio, film: tuple[User, str, str]) -> None:
    ana, project_id, scene_id = film
    (first,) = queue(studio, ana, runs.RunRequest(project_id, scene_id))
    (second,) = queue(studio, ana, runs.RunRequest(project_id, scene_id, outputs=["shot"]))
    assert first.kind == "scene.run" and first.project_id == project_id and first.status == "queued"
    assert first.params["batch"] is None and first.params["force"] is False and first.params["outputs"] is None
    assert (first.params["run_index"], second.params["run_index"]) == (0, 1)  # a waiting run counts
    assert first.params["steps_hint"] >= 1 and first.params["graph"]["nodes"]
    assert first.title == "Run 'Hero shot'" and second.title == "Run 1 node(s) of 'Hero shot'"


def test_a_batch_numbers_its_runs_and_steps_their_run_index(studio: Studio, film: tuple[User, str, str]) -> None:
    ana, project_id, scene_id = film
    made = queue(studio, ana, runs.RunRequest(project_id, scene_id, force=True, repeat=3))
    assert [t.params["batch"] for t in made] == [[1, 3], [2, 3], [3, 3]]
    assert [t.params["run_index"] for t in made] == [0, 1, 2]
    assert [t.title for t in made] == [f"Run 'Hero shot' ({n} of 3)" for n in (1, 2, 3)]
    assert all(t.params["force"] for t in made)


def test_regenerating_records_the_same_params_shape(studio: Studio, film: tuple[User, str, str]) -> None:
    ana, project_id, scene_id = film
    (run,) = queue(studio, ana, runs.RunRequest(project_id, scene_id))
    asset_id = generated_asset(studio, ana, project_id,
                               {"graph": run.params["graph"], "node_id": "shot", "scene_id": scene_id})
    out = runs.regenerate(studio.db, studio.settings, studio.tasks, studio.engine, ana, project_id, asset_id, False)
    with studio.db.session() as db:
        task = db.get(Task, out.id)
    assert task is not None and task.params.keys() == run.params.keys()
    assert {k: task.params[k] for k in ("scene_id", "scene_name", "outputs", "force", "run_index", "batch")} == {
        "scene_id": scene_id, "scene_name": "cat.png again", "outputs": ["shot"], "force": True, "run_index": 0,
        "batch": None}
    assert task.params["graph"] == run.params["graph"] and task.title == "Run 1 node(s) of 'cat.png again'"


def test_regenerating_with_new_seeds_changes_every_seed_but_not_the_record(studio: Studio,
                                                                           film: tuple[User, str, str]) -> None:
    ana, project_id, scene_id = film
    (run,) = queue(studio, ana, runs.RunRequest(project_id, scene_id))
    before = run.params["graph"]["nodes"]
    assert before["seed"]["type"] == "seed" and "seed" not in before["generate"]["params"]
    asset_id = generated_asset(studio, ana, project_id, {"graph": run.params["graph"], "node_id": "shot"})
    runs.regenerate(studio.db, studio.settings, studio.tasks, studio.engine, ana, project_id, asset_id, True)
    with studio.db.session() as db:
        task = db.exec(select(Task).order_by(col(Task.created_at).desc())).first()
        project = db.get(Project, project_id)
    assert task is not None and project is not None
    after = task.params["graph"]["nodes"]
    assert after["seed"]["params"]["mode"] == "fixed" and 0 <= after["seed"]["params"]["value"] < 2**32
    assert 0 <= after["generate"]["params"]["seed"] < 2**32  # a generating node gets its own seed too
    assert after["prompt"] == before["prompt"], "nothing else changes"
    recorded = read_meta(studio.settings, project, asset_id)["provenance"]["graph"]
    assert recorded == run.params["graph"], "the asset's record is left as it was"


def test_a_graph_that_cannot_run_names_its_first_problem_and_how_many_more(studio: Studio,
                                                                         film: tuple[User, str, str]) -> None:
    ana, project_id, _ = film
    broken = {"nodes": {"a": {"type": "text_to_image", "position": {"x": 0, "y": 0}},
                        "b": {"type": "image_to_image", "position": {"x": 0, "y": 200}},
                        "shot": {"type": "shot", "position": {"x": 0, "y": 400}}},
              "edges": {"a:image->shot:images": {"source": "a", "source_handle": "image", "target": "shot",
                                                 "target_handle": "images"},
                        "b:image->shot:images": {"source": "b", "source_handle": "image", "target": "shot",
                                                 "target_handle": "images"}}}
    with studio.db.transaction() as db:
        scene = scenes.create_scene(db, studio.settings, ana, project_id, "Broken", GraphIn.model_validate(broken))
    with pytest.raises(runs.GraphProblems) as caught:
        queue(studio, ana, runs.RunRequest(project_id, scene["id"], repeat=2))
    issues = caught.value.extra["issues"]
    assert len(issues) > 1 and caught.value.hint == runs.SCENE_HINT
    assert caught.value.detail == f"{issues[0]['message']} (and {len(issues) - 1} more)"
    with studio.db.session() as db:
        assert db.exec(select(Task)).all() == [], "a graph that cannot run queues nothing"


def test_without_a_model_the_check_says_so_on_the_model_node_in_the_readers_words(bare_studio: Studio) -> None:
    with bare_studio.db.transaction() as db:
        ana = create_user(db, username="ana", password="violet tram sixteen")
        project_id = service.create_project(db, bare_studio.settings, ana, name="Film", workspace_id=None,
                                            template="text-to-image").id
    with bare_studio.db.session() as db:
        scene_id = scenes.list_scenes(db, bare_studio.settings, ana, project_id)[0]["id"]

    def check(user: User, project: str, scene: str) -> list[Any]:
        return run_async(runs.check_scene(bare_studio.db, bare_studio.settings, bare_studio.rooms, bare_studio.engine,
                                          user, project, scene)).issues

    missing = [i for i in check(ana, project_id, scene_id) if getattr(i, "code", None) == "no_model"]
    assert [(i.node_id, i.field) for i in missing] == [("model", "model")]  # the node that picks the model
    assert missing[0].message.startswith("No model installed — ") and "ask an admin" in missing[0].message.lower()
    assert "mediastudio models" not in missing[0].message
    with pytest.raises(runs.GraphProblems) as refused:
        queue(bare_studio, ana, runs.RunRequest(project_id, scene_id))
    assert refused.value.status == 422 and "No model installed" in refused.value.detail
    with bare_studio.db.session() as db:
        assert db.exec(select(Task)).all() == []  # refused up front, not queued to fail later

    with bare_studio.db.transaction() as db:
        root = create_user(db, username="root", password="violet tram sixteen", is_admin=True)
        own = service.create_project(db, bare_studio.settings, root, name="Mine", workspace_id=None,
                                     template="text-to-image")
    with bare_studio.db.session() as db:
        own_scene = scenes.list_scenes(db, bare_studio.settings, root, own.id)[0]["id"]
    (told,) = [i for i in check(root, own.id, own_scene) if getattr(i, "code", None) == "no_model"]
    assert "mediastudio models add" in told.message and "ask an admin" not in told.message.lower()


def test_asking_for_runs_does_no_database_work_on_the_event_loop(studio: Studio, film: tuple[User, str, str]) -> None:
    """Recording, queueing and describing the runs (their places and ETAs read every waiting task) happen on a
    worker thread: the event loop serves every other client meanwhile, however long the queue."""
    import threading

    from sqlalchemy import event

    ana, project_id, scene_id = film
    queue(studio, ana, runs.RunRequest(project_id, scene_id, force=True, repeat=5))  # a queue to describe
    on_loop: list[str] = []
    loop_thread: list[int] = []  # the thread the asking runs on: its loop's thread (not the test's own, where
    # a browser test of the same process may have left Playwright's loop running)

    async def ask() -> list[Any]:
        loop_thread.append(threading.get_ident())
        return await runs.queue_runs(studio.db, studio.settings, studio.rooms, studio.tasks, studio.engine, ana,
                                     runs.RunRequest(project_id, scene_id, force=True, repeat=3))

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if threading.get_ident() in loop_thread:
            on_loop.append(" ".join(statement.split())[:80])

    event.listen(studio.db.engine, "before_cursor_execute", note)
    try:
        out = run_async(ask())
    finally:
        event.remove(studio.db.engine, "before_cursor_execute", note)
    with studio.db.session() as db:
        made = [db.get(Task, t.id) for t in out]
    assert len(made) == 3 and all(t is not None and t.status == "queued" for t in made)
    assert on_loop == [], on_loop


def test_asking_for_runs_checks_the_projects_rights_once_and_reads_no_name_it_knows(studio: Studio,
                                                                                     film: tuple[User, str, str]
                                                                                     ) -> None:
    """The scene's read checks the right to run (the project and the caller's role in it); recording the runs
    does not check it again, and their answer names who asked and the project without reading them again."""
    from sqlalchemy import event

    ana, project_id, scene_id = film
    queue(studio, ana, runs.RunRequest(project_id, scene_id, force=True))  # the first run's one-off reads done
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(studio.db.engine, "before_cursor_execute", note)
    try:
        out = run_async(runs.queue_runs(studio.db, studio.settings, studio.rooms, studio.tasks, studio.engine, ana,
                                        runs.RunRequest(project_id, scene_id, force=True, repeat=2)))
    finally:
        event.remove(studio.db.engine, "before_cursor_execute", note)
    projects = [s for s in seen if s.startswith("SELECT") and "FROM projects" in s.split(" WHERE")[0]]
    users = [s for s in seen if s.startswith("SELECT") and "FROM users" in s.split(" WHERE")[0]]
    assert len(projects) == 1, projects
    assert users == [], users
    assert [(t.owner_name, t.project_name) for t in out] == [(ana.display_name, "Film")] * 2
    assert [t.position for t in out] == [2, 3]  # behind the first, which no worker took


def test_a_runs_results_join_the_pending_commit_without_rereading_the_project(studio: Studio,
                                                                               film: tuple[User, str, str],
                                                                               tmp_path: Path) -> None:
    """The follow-up of a run records its results' change (the journal: durable at once) and touches the
    project's row; the project's own metadata did not change, so its folder is not read into the index again."""
    from sqlalchemy import event

    from mediastudio.engine.run import _commit
    from mediastudio.projects.repo import ProjectRepo
    from mediastudio.tasks.context import TaskContext

    ana, project_id, _ = film
    asset_id = generated_asset(studio, ana, project_id, {"node_id": "shot"})  # committed at once, as an upload
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()).lower())

    ctx = TaskContext(task_id="t_1", owner_id=ana.id, project_id=project_id, scratch_folder=tmp_path / "scratch",
                      runner=studio.tasks.runner)
    event.listen(studio.db.engine, "before_cursor_execute", note)
    try:
        _commit(ctx, "Generated 'cat.png'", [asset_id])
    finally:
        event.remove(studio.db.engine, "before_cursor_execute", note)
    assert not [s for s in seen if "project_tags" in s], seen
    with studio.db.session() as db:
        project = db.get(Project, project_id)
        assert project is not None
    repo = ProjectRepo(service.project_folder(studio.settings, project))
    assert any("Generated 'cat.png'" in c.message for c in repo.log())  # (the history commits what is pending)


def test_recording_a_runs_new_results_reads_no_row_of_their_fresh_ids(studio: Studio,
                                                                      film: tuple[User, str, str]) -> None:
    """The outcome's transaction writes the new assets' and takes' rows without reading each id first: ids
    made a moment before, which no row holds (a read per row per run, in the outcome's transaction)."""
    from sqlalchemy import event

    from mediastudio.engine.takes import Take, record_takes
    from mediastudio.media.assets import prepare_assets
    from mediastudio.projects.tables import Asset

    ana, project_id, scene_id = film
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, format="PNG")
    data = buffer.getvalue()
    sha, _ = studio.blobs.store_bytes(data)
    sniffed = sniff(data[:4096])
    probed = probe(studio.blobs.path(sha), sniffed.category, sniffed.mime, max_pixels=10**6)
    provenance = {"scene_id": scene_id, "node_id": "shot", "seed": 7, "model": "sd"}
    with studio.db.session() as db:
        new = prepare_assets(db, studio.settings, ana, project_id, [("Hero · #1.png", sha, sniffed, probed,
                                                                     len(data))] * 2,
                             category="generated", provenance=provenance)
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(studio.db.engine, "before_cursor_execute", note)
    try:
        with studio.db.transaction() as db:
            new.record(db)
            record_takes(db, project_id, new.metas)
    finally:
        event.remove(studio.db.engine, "before_cursor_execute", note)
    reads = [s for s in seen if s.startswith("SELECT") and ("FROM assets" in s or "FROM takes" in s)]
    assert reads == [], reads
    with studio.db.session() as db:
        assert {a.id for a in db.exec(select(Asset).where(col(Asset.id).in_(new.ids)))} == set(new.ids)
        takes = db.exec(select(Take).where(col(Take.asset_id).in_(new.ids))).all()
        assert {(t.node_id, t.number, t.seed) for t in takes} == {("shot", 1, 7)} and len(takes) == 2


def test_a_runs_graph_is_read_once_on_its_request_and_not_again_in_its_task(
        studio: Studio, film: tuple[User, str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The graph is validated from its scene file on the request (the params take that `Graph` as it is, not a
    dump of it read again); the task run by this process takes those params as they are (`Runner.hand`: the run,
    and the workflow its picture carries, use that `Graph`): once in all, where it was six times. A task run
    again after a restart reads it from its row, once."""
    import mediastudio.graph.model as graph_model
    from mediastudio.engine.embed import GRAPH_KEY
    from mediastudio.graph.png import read_text

    ana, project_id, _ = film
    source = generated_asset(studio, ana, project_id, {"node_id": "shot"})
    graph = {"nodes": {"load": {"type": "load_image", "position": {"x": 0, "y": 0}, "params": {"asset_id": source}},
                       "big": {"type": "upscale", "position": {"x": 200, "y": 0}, "params": {"factor": 2}},
                       "shot": {"type": "shot", "position": {"x": 400, "y": 0}, "params": {"name": "Hero"}}},
             "edges": {"load:image->big:image": {"source": "load", "source_handle": "image", "target": "big",
                                                  "target_handle": "image"},
                       "big:image->shot:images": {"source": "big", "source_handle": "image", "target": "shot",
                                                   "target_handle": "images"}}}
    with studio.db.transaction() as db:
        scene = scenes.create_scene(db, studio.settings, ana, project_id, "Light", GraphIn.model_validate(graph))
    reads: list[str] = []
    titled = graph_model._titled

    def counted(node_id: str, node: Any) -> Any:  # called for every node of a graph validated from a dict
        if node_id == "shot":
            reads.append(node_id)
        return titled(node_id, node)

    monkeypatch.setattr(graph_model, "_titled", counted)
    (task,) = queue(studio, ana, runs.RunRequest(project_id, scene["id"], force=True))
    assert len(reads) == 1, "the request read the graph more than once"
    studio.tasks.runner.execute(task.id)  # as the lane's worker does, in this thread
    assert len(reads) == 1, "the task read the graph again"
    with studio.db.session() as db:
        done = db.get(Task, task.id)
        assert done is not None and done.status == "succeeded", done and done.error_message
    (made,) = done.result["assets"]
    with studio.db.session() as db:
        project = db.get(Project, project_id)
        assert project is not None
        meta = read_meta(studio.settings, project, made)
    assert set(meta["provenance"]["graph"]["nodes"]) == {"load", "big", "shot"}  # the graph that ran, recorded
    with studio.db.session() as db:
        asset = db.get(Asset, made)
        assert asset is not None
    picture = studio.blobs.path(asset.sha256).read_bytes()
    carried = json.loads(read_text(picture, {GRAPH_KEY}, 10**6)[GRAPH_KEY])
    assert set(carried["nodes"]) == {"load", "big", "shot"}  # and carried by the picture (its workflow)
