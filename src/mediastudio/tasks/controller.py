"""/api/v1/tasks and /api/v1/queue: start, follow and cancel tasks; the queue as the caller may see it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Response, Stream
from litestar.status_codes import HTTP_201_CREATED
from pydantic import BaseModel, Field

from mediastudio.audit.actions import Action
from mediastudio.audit.record import ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep, provide_admin
from mediastudio.common import Page
from mediastudio.db import DatabaseDep
from mediastudio.errors import BadRequest, NotFound
from mediastudio.settings import SettingsDep
from mediastudio.storage.serving import serve_blob
from mediastudio.tasks import log_store, service
from mediastudio.tasks.events import QueueLane
from mediastudio.tasks.kinds import LANES
from mediastudio.tasks.log_store import TaskLogOut
from mediastudio.tasks.runner import results_dir
from mediastudio.tasks.schemas import TaskOut
from mediastudio.tasks.system import TasksDep, TaskSystem
from mediastudio.tasks.tables import STATUSES, Task


class TaskCreate(BaseModel):
    kind: str = Field(max_length=64, description="project.export, media.previews, blobs.verify (admins), …; "
                                                "GET /api/v1/tasks/kinds lists them (an unknown kind: 422)")
    project_id: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class TaskKindOut(BaseModel):
    name: str
    lane: str
    project: bool
    needs: str
    params_schema: dict[str, Any]


class CancelOut(BaseModel):
    task: TaskOut
    outcome: Literal["revoked", "stopping", "ended", "finished"] = Field(
        description="revoked: it had not started; stopping: it stops after its current step (the task's "
                    "message and step_seconds say about how long); ended: its worker was gone; finished: it had "
                    "already ended")


class QueueOut(BaseModel):
    lanes: list[QueueLane]
    tasks: list[TaskOut] = Field(description="Your waiting and running tasks (every user's for admins), "
                                             "in the order they will run")


class PauseIn(BaseModel):
    lanes: list[Literal["gpu", "cpu"]] = Field(default_factory=lambda: list(LANES))


_ONE_STATUS = "(" + "|".join(STATUSES) + ")"
STATUS_LIST = f"^{_ONE_STATUS}(,{_ONE_STATUS})*$"


def _statuses(raw: str | None) -> list[str]:
    wanted = [s for s in (raw or "").split(",") if s]
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise BadRequest(f"Unknown status '{unknown[0]}'.", hint=f"Use any of {', '.join(STATUSES)}.", field="status")
    return wanted


# Tasks that are also things the audit log records when they are started (the same as their own routes record).
AUDITED_KINDS = {"project.export": Action.PROJECT_EXPORT, "project.import": Action.PROJECT_IMPORT,
                 "models.pull": Action.MODEL_DOWNLOAD, "handoff.sheet": Action.PROJECT_HANDOFF,
                 "handoff.sequence": Action.PROJECT_HANDOFF, "handoff.animatic": Action.PROJECT_HANDOFF}
# The types a task's file may be served as (its result's `media_type`); any other is served as a zip.
RESULT_TYPES = ("application/zip", "application/pdf", "image/png", "video/mp4")


def _task_target(task: Task) -> Target:
    if task.kind == "models.pull":
        name = str((task.params or {}).get("name") or "")
        return Target("model", name[:64], name)
    return Target("project", task.project_id or "", "")


class TasksController(Controller):
    path = "/api/v1/tasks"

    @post(summary="Start a task", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create(self, data: JSONBody[TaskCreate], identity: IdentityDep, database: DatabaseDep,
               tasks: TasksDep, actor: ActorDep) -> TaskOut:
        with database.transaction() as db:
            task = tasks.new(db, identity.user, data.kind, data.params, data.project_id)
            if data.kind in AUDITED_KINDS:
                record(db, actor, AUDITED_KINDS[data.kind], _task_target(task), {"task_id": task.id})
        tasks.submit(task)
        return tasks.describe([task])[0]

    @get("/kinds", summary="The task kinds you can start, with their parameters' JSON schemas", sync_to_thread=False)
    def kinds(self, identity: IdentityDep, tasks: TasksDep) -> list[TaskKindOut]:
        return [TaskKindOut(name=k.name, lane=k.lane, project=k.project, needs=k.needs,
                            params_schema=k.params.model_json_schema())
                for k in tasks.kinds if k.needs != "admin" or identity.user.is_admin]

    @get(summary="Your tasks, newest first (admins: everyone's with ?all=true)", sync_to_thread=True)
    def list_tasks(self, identity: IdentityDep, database: DatabaseDep, tasks: TasksDep,
                   project: FromQuery[str | None] = None,
                   status: Annotated[str | None, QueryParameter(
                       pattern=STATUS_LIST, description="Comma-separated statuses")] = None,
                   all: FromQuery[bool] = False,
                   limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
                   cursor: Annotated[str | None, QueryParameter(
                       pattern=service.TASK_CURSOR, description="The next_cursor of the previous page")] = None,
                   ) -> Page[TaskOut]:
        with database.session() as db:
            rows, next_cursor = service.list_tasks(db, identity.user, project_id=project, statuses=_statuses(status),
                                                   everyone=all, limit=limit, cursor=cursor)
        return Page(items=tasks.describe(rows), next_cursor=next_cursor)

    @get("/{task_id:str}", summary="One task: status, progress, ETA, position, error, result", sync_to_thread=True)
    def get_task(self, task_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                 tasks: TasksDep) -> TaskOut:
        with database.session() as db:
            task = service.visible_task(db, identity.user, task_id)
        return tasks.describe([task])[0]

    @get("/{task_id:str}/log", summary="The task's own log: model loads, warnings, errors with hints, start and end",
         description="Lines in order (each run of the task: its first 300 and last 100 lines). While the task runs, "
                     "new lines arrive within about a second.", sync_to_thread=True)
    def task_log(self, task_id: FromPath[str], identity: IdentityDep, database: DatabaseDep) -> TaskLogOut:
        with database.session() as db:
            task = service.visible_task(db, identity.user, task_id)
            return log_store.read(db, task)

    @get("/{task_id:str}/log/download", summary="The task's log as a text file", sync_to_thread=True,
         media_type="text/plain; charset=utf-8")
    def task_log_download(self, task_id: FromPath[str], identity: IdentityDep, database: DatabaseDep) -> Response[str]:
        with database.session() as db:
            task = service.visible_task(db, identity.user, task_id)
            text = log_store.as_text(task, log_store.read(db, task))
        return Response(text, media_type="text/plain; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="task-{task.id}.log"',
                                 "X-Content-Type-Options": "nosniff"})

    @post("/{task_id:str}/cancel", summary="Cancel a task (waiting: at once; running: at its next step)",
          status_code=200, sync_to_thread=True)
    def cancel(self, task_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
               tasks: TasksDep) -> CancelOut:
        with database.transaction() as db:
            task, outcome = service.request_cancel(db, identity.user, task_id)
        tasks.cancel(task, outcome)
        return CancelOut(task=tasks.describe([task])[0], outcome=outcome)

    @post("/{task_id:str}/force-stop", summary="End a running task now, without waiting for its step (admins)",
          description="The task reads cancelled at once and its lane takes the next task; the step still "
                      "running is left to return and its result is discarded. A task that is not running: 409.",
          status_code=200, sync_to_thread=True)  # the service checks: another's task answers like a missing one
    def force_stop(self, task_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                   tasks: TasksDep) -> TaskOut:
        with database.transaction() as db:
            task = service.force_stop(db, identity.user, task_id)
        tasks.force_stopped(task)
        return tasks.describe([task])[0]

    @get("/{task_id:str}/result", summary="Download the file a task made (an export)", sync_to_thread=True)
    def result(self, request: Request, task_id: FromPath[str], identity: IdentityDep,
               database: DatabaseDep, settings: SettingsDep) -> Response | Stream:
        with database.session() as db:
            task = service.visible_task(db, identity.user, task_id)
        name = (task.result or {}).get("file")
        if task.status != "succeeded" or not name:
            raise NotFound("This task has no file to download.",
                           hint="Only finished tasks that make a file (exports) have one.")
        path = results_dir(settings, task.id) / "result" / name
        if not path.is_file():
            raise NotFound("The task's file is gone.", hint="Run the task again.")
        download = str((task.result or {}).get("name") or path.name)
        media_type = (task.result or {}).get("media_type")
        return serve_blob(request, path, task.id, media_type if media_type in RESULT_TYPES else "application/zip",
                          download, download=True)


def _queue_out(identity: Any, tasks: TaskSystem) -> QueueOut:
    lanes, queued = tasks.visible_queue(identity.user)
    return QueueOut(lanes=[QueueLane(**lane) for lane in lanes], tasks=queued)


class QueueController(Controller):
    path = "/api/v1/queue"

    @get(summary="Lanes, counts, and the positions and ETAs of your waiting tasks (admins: everyone's)",
         sync_to_thread=True)
    def queue(self, identity: IdentityDep, tasks: TasksDep) -> QueueOut:
        return _queue_out(identity, tasks)

    @post("/pause", summary="Stop starting new tasks (admins); running ones finish", status_code=200,
          sync_to_thread=True, dependencies={"identity": Provide(provide_admin, sync_to_thread=False)})
    def pause(self, data: JSONBody[PauseIn], identity: IdentityDep, tasks: TasksDep) -> QueueOut:
        tasks.set_paused(True, tuple(data.lanes))
        return _queue_out(identity, tasks)

    @post("/resume", summary="Start tasks again (admins)", status_code=200, sync_to_thread=True,
          dependencies={"identity": Provide(provide_admin, sync_to_thread=False)})
    def resume(self, data: JSONBody[PauseIn], identity: IdentityDep, tasks: TasksDep) -> QueueOut:
        tasks.set_paused(False, tuple(data.lanes))
        return _queue_out(identity, tasks)
