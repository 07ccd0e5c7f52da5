"""Scene runs as the API asks for them: read the graph that runs (the live document), plan it, record the
`scene.run` tasks (one transaction) and submit them. The controller only translates HTTP to these calls."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from anyio import to_thread
from sqlmodel import Session, col, select

from mediastudio.auth.tables import User
from mediastudio.db import Database
from mediastudio.engine.graph import NO_MODEL, GraphInvalid, Issue, Plan
from mediastudio.engine.service import Engine, scene_of_task
from mediastudio.errors import Conflict, MediastudioError, NotFound
from mediastudio.graph import Graph, GraphNode
from mediastudio.media.assets import get_asset, read_meta
from mediastudio.models.advice import no_model
from mediastudio.projects import content, scenes
from mediastudio.projects.access import project_and_role, project_folder, require, require_row
from mediastudio.projects.live import LiveScenes
from mediastudio.settings import Settings
from mediastudio.tasks import service as task_service
from mediastudio.tasks.estimates import Placement
from mediastudio.tasks.schemas import TaskOut
from mediastudio.tasks.system import TaskSystem
from mediastudio.tasks.tables import Task
from mediastudio.workspaces.roles import Action

SCENE_HINT = "The canvas marks each problem on its node."
REGENERATE_HINT = "Open the graph, fix it, and run it from the scene."
SEEDED_TYPES = ("text_to_image", "image_to_image", "inpaint", "text_to_video", "image_to_video")


T = TypeVar("T")


class GraphProblems(MediastudioError):
    status = 422
    title = "The graph cannot run"


@dataclass(frozen=True)
class RunRequest:
    """A run as asked for: of which scene, which outputs (None: every shot output), ignoring cached outputs or
    not, and how many times (a batch when more than one)."""

    project_id: str
    scene_id: str
    outputs: list[str] | None = None
    force: bool = False
    repeat: int = 1


@dataclass(frozen=True)
class Snapshot:
    """The graph that runs (a copy goes into each task) and the name of its scene (the tasks' titles); the
    project's workspace and name, when the snapshot's read checked the caller's right to run in it (so the
    record checks it no second time)."""

    scene_name: str
    graph: Graph
    checked: tuple[str, str] | None = None  # (workspace id, project name)


def run_params(request: RunRequest, snapshot: Snapshot, *, steps_hint: int, run_index: int = 0,
               place: int = 1) -> dict[str, Any]:
    """The params of one `scene.run` task, the `place`-th of the request's batch (`RunParams`' fields), checked
    where every task's params are (`TaskSystem.new`, with its 422 messages). The graph goes as the `Graph` the
    snapshot read: pydantic takes a model instance of the field's class as it is, so the graph read from the scene
    (or the live document) is not dumped and validated again on every run's request."""
    batch = (place, request.repeat) if request.repeat > 1 else None
    return {"scene_id": request.scene_id, "scene_name": snapshot.scene_name, "outputs": request.outputs,
            "graph": snapshot.graph, "force": request.force, "run_index": run_index, "steps_hint": steps_hint,
            "batch": batch}


def _problems(issues: list[Issue], *, count_more: bool) -> str:
    more = f" (and {len(issues) - 1} more)" if count_more and len(issues) > 1 else ""
    return f"{issues[0].message}{more}"


def for_role(issues: list[Issue], user: User) -> list[Issue]:
    """The issues in words fitted to who reads them: with no model installed, admins are told how to add one,
    everyone else whom to ask."""
    return [replace(i, message=no_model(user.is_admin)) if i.code == NO_MODEL else i for i in issues]


def plan_run(engine: Engine, graph: Graph, outputs: list[str] | None, user: User, *, hint: str = SCENE_HINT,
             count_more: bool = True) -> Plan:
    """The engine's plan of the run, or GraphProblems naming the first problem (and how many more)."""
    return _planned(lambda: engine.plan(graph, outputs), user, hint, count_more)


def plan_run_part(engine: Engine, graph: Graph, outputs: list[str] | None, user: User, *, hint: str = SCENE_HINT,
                  count_more: bool = True) -> tuple[Plan, Graph]:
    """`plan_run`, and the part of `graph` the run computes (`Engine.plan_part`): what it records."""
    return _planned(lambda: engine.plan_part(graph, outputs), user, hint, count_more)


def _planned(planning: Callable[[], T], user: User, hint: str, count_more: bool) -> T:
    try:
        return planning()
    except GraphInvalid as exc:
        issues = for_role(exc.issues, user)
        raise GraphProblems(_problems(issues, count_more=count_more), hint=hint,
                            issues=[i.as_dict() for i in issues]) from exc


def _snapshot(database: Database, settings: Settings, user: User, project_id: str, scene_id: str, action: Action,
              live: Graph | None) -> Snapshot:
    """(In a worker thread.) The scene, if `user` may do `action` on its project, with `live` (its live
    document's graph, read on the event loop) as the graph that runs, or the stored graph when no room is open."""
    with database.session() as db:
        return _snapshot_in(db, settings, user, project_id, scene_id, action, live)


def _snapshot_in(db: Session, settings: Settings, user: User, project_id: str, scene_id: str, action: Action,
                 live: Graph | None) -> Snapshot:
    """`_snapshot` in the caller's session."""
    # `action` implies viewing: one check, not two; the project as a plain row (loading the ORM object was most
    # of the check, on every run's request).
    project, _ = require_row(db, user, project_id, action)
    read = content.read_scene_and_graph(project_folder(settings, project), scene_id)
    if read is None:
        raise scenes.no_such_scene(project_id, scene_id)
    scene, stored = read
    return Snapshot(scene.get("name", ""), live or stored,
                    checked=(project.workspace_id, project.name) if action == "run" else None)


async def read_snapshot(database: Database, settings: Settings, rooms: LiveScenes, user: User, project_id: str,
                        scene_id: str, action: Action) -> Snapshot:
    """The scene, if `user` may do `action` on its project, with its live document (what everyone sees now)
    as the graph that runs; the stored graph when no room is open."""
    live = rooms.live_graph(project_id, scene_id)  # on the loop, where the live documents change
    return await to_thread.run_sync(lambda: _snapshot(database, settings, user, project_id, scene_id, action, live))


def record_runs(db: Session, tasks: TaskSystem, engine: Engine, user: User, request: RunRequest,
                snapshot: Snapshot) -> tuple[list[Task], dict[str, Placement]]:
    """Plan once, then record the batch in the caller's transaction: a batch over the quota queues nothing. Each
    run records the part of the scene's graph it computes (`Engine.plan_part`). With the tasks, where every waiting
    and running task stands once they are recorded (`TaskSystem.places`, read in the same transaction: the
    answer is described from it, and reads nothing once the lane's worker, woken, has begun its claim)."""
    run_plan, part = plan_run_part(engine, snapshot.graph, request.outputs, user)
    snapshot = replace(snapshot, graph=part)
    steps = engine.steps(run_plan)
    made = []
    for place in range(1, request.repeat + 1):
        params = run_params(request, snapshot, steps_hint=steps, run_index=engine.run_index(db, request.scene_id),
                            place=place)
        # Written at once (`new_task`): counted by the next one's run index, quota and fair priority.
        made.append(tasks.new(db, user, "scene.run", params, request.project_id, checked=snapshot.checked))
    return made, tasks.places(db)


SCENE_RUNS_SHOWN = 20  # a scene's runs the canvas is given: the waiting and running ones, then the newest ended


def scene_runs(database: Database, tasks: TaskSystem, user: User, project_id: str, scene_id: str) -> list[TaskOut]:
    """The runs of a scene, whoever started them, for anyone who may open its project: the active ones and the
    newest ended ones (`SCENE_RUNS_SHOWN` in all), newest first. Everyone who has the scene open sees a run in
    progress and what it made; their events reach the workspace's members too (the kind is shared)."""
    with database.session() as db:
        require(db, user, project_id, "view")
        ofscene = (col(Task.project_id) == project_id, scene_of_task() == scene_id, col(Task.kind) == "scene.run")
        active = db.exec(select(Task).where(*ofscene, col(Task.status).in_(("queued", "running", "interrupted")))
                         .order_by(col(Task.created_at).desc()).limit(SCENE_RUNS_SHOWN)).all()
        # The newest ended ones of each status, read in order on the scene's runs index (`RUNS_OF_SCENE`), then the
        # newest of those: as one query over the three statuses, SQLite sorted every ended run the scene ever had.
        room = max(0, SCENE_RUNS_SHOWN - len(active))
        ended = sorted((task for status in ("succeeded", "failed", "cancelled") for task in db.exec(
                           select(Task).where(*ofscene, col(Task.status) == status)
                           .order_by(col(Task.created_at).desc()).limit(room)).all()) if room else (),
                       key=lambda task: (task.created_at, task.id), reverse=True)[:room]
    return tasks.describe([*active, *ended])


def visible_run(db: Any, user: User, task_id: str) -> Task:
    """A task `user` may see: theirs (or any, for administrators), or a scene's run in a project they may open."""
    task = db.get(Task, task_id)
    if task is not None and task.kind == "scene.run" and task.project_id and task.owner_id != user.id:
        project, role = project_and_role(db, user, task.project_id)
        if project is not None and role is not None and project.trashed_at is None:
            return task
        raise NotFound(f"No task '{task_id}' of yours.", hint="GET /api/v1/tasks lists your tasks.")
    return task_service.visible_task(db, user, task_id)


def submit_all(tasks: TaskSystem, made: list[Task], user: User | None = None, project_name: str | None = None,
               places: dict[str, Placement] | None = None) -> list[TaskOut]:
    """Once their rows are committed: announce and enqueue the tasks; as the API shows them (`user` started
    them, in the project named `project_name`, standing at `places`: none of these is read again)."""
    for task in made:
        tasks.submit(task)
    owners = {user.id: user.display_name} if user is not None else None
    projects = {task.project_id: project_name for task in made if task.project_id} if project_name else None
    return tasks.describe(made, places, owner_names=owners, project_names=projects)


async def queue_runs(database: Database, settings: Settings, rooms: LiveScenes, tasks: TaskSystem, engine: Engine,
                     user: User, request: RunRequest) -> list[TaskOut]:
    """Run the scene's graph as it is now, `request.repeat` times. The scene read, and the runs recorded, queued
    and described (places and ETAs: every waiting task is read), on a worker thread, in one hop: never on the
    event loop."""
    live = rooms.live_graph(request.project_id, request.scene_id)  # on the loop, where the live documents change

    def run() -> list[TaskOut]:
        # One session for the rights, the scene and the record (its reads run outside the write transaction,
        # which the first row written begins: no lock is held while the scene is read and planned).
        with database.transaction() as db:
            snapshot = _snapshot_in(db, settings, user, request.project_id, request.scene_id, "run", live)
            made, places = record_runs(db, tasks, engine, user, request, snapshot)
        return submit_all(tasks, made, user, snapshot.checked[1] if snapshot.checked else None, places)

    return await to_thread.run_sync(run)


async def check_scene(database: Database, settings: Settings, rooms: LiveScenes, engine: Engine, user: User,
                      project_id: str, scene_id: str) -> Plan:
    """The whole-scene plan of the graph as it is now, with every problem (nothing runs)."""
    snapshot = await read_snapshot(database, settings, rooms, user, project_id, scene_id, "view")
    whole = await to_thread.run_sync(lambda: engine.plan(snapshot.graph, whole=True))
    return replace(whole, issues=for_role(whole.issues, user))


def new_seed(node: GraphNode, seed: int) -> GraphNode:
    """The node with `seed` in place of its own (a seed node becomes a fixed one)."""
    params = dict(node.params)
    if node.type == "seed":
        params.update({"value": seed, "mode": "fixed"})
    elif "seed" in params or node.type in SEEDED_TYPES:
        params["seed"] = seed
    return node.model_copy(update={"params": params})


def _reseeded(graph: Graph) -> Graph:
    return graph.model_copy(update={"nodes": {k: new_seed(v, secrets.randbelow(2**32))
                                              for k, v in graph.nodes.items()}})


def _provenance(database: Database, settings: Settings, user: User, project_id: str,
                asset_id: str) -> tuple[str, dict[str, Any]]:
    """The asset's name and the provenance its metadata records (if `user` may run in the project)."""
    with database.session() as db:
        project, _ = require(db, user, project_id, "run")
        _, asset = get_asset(db, user, project_id, asset_id)
        return asset.name, read_meta(settings, project, asset.id).get("provenance") or {}


def regenerate(database: Database, settings: Settings, tasks: TaskSystem, engine: Engine, user: User,
               project_id: str, asset_id: str, new_seeds: bool) -> TaskOut:
    """Run the graph snapshot that made a generated asset again: its node, same seeds or new random ones."""
    name, provenance = _provenance(database, settings, user, project_id, asset_id)
    graph, node_id = Graph.read(provenance.get("graph")), provenance.get("node_id")
    if graph is None or not node_id:
        raise Conflict(f"'{name}' was not made by a graph here, so it cannot be regenerated.",
                       hint="Only generated assets record the graph that made them.")
    graph = _reseeded(graph) if new_seeds else graph
    request = RunRequest(project_id, provenance.get("scene_id") or "", outputs=[node_id], force=True)
    # The part of the graph that made it (assets made before runs recorded their part hold the whole scene).
    run_plan, graph = plan_run_part(engine, graph, request.outputs, user, hint=REGENERATE_HINT, count_more=False)
    params = run_params(request, Snapshot(f"{name} again", graph), steps_hint=engine.steps(run_plan))
    with database.transaction() as db:
        task = tasks.new(db, user, "scene.run", params, project_id)
    return submit_all(tasks, [task])[0]
