"""Start a hand-off: a contact sheet, an image sequence or an animatic, each a task whose file is downloaded from
`GET /api/v1/tasks/{id}/result` when it is done (its owner, or an administrator)."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED
from pydantic import BaseModel

from mediastudio.audit.actions import Action
from mediastudio.audit.record import Actor, ActorDep, Target, record
from mediastudio.auth.identity import Identity, IdentityDep
from mediastudio.db import Database, DatabaseDep
from mediastudio.handoff.task_kinds import AnimaticParams, SequenceParams, SheetParams
from mediastudio.projects import content
from mediastudio.projects.access import project_folder, require
from mediastudio.projects.scenes import no_such_scene
from mediastudio.settings import Settings, SettingsDep
from mediastudio.tasks.schemas import TaskOut
from mediastudio.tasks.system import TasksDep, TaskSystem


class HandoffController(Controller):
    path = "/api/v1/projects/{project_id:str}/handoff"
    tags = ("projects",)

    @post("/sheet", summary="Make a contact sheet of the board's shots (PDF or PNG) as a task",
          status_code=HTTP_202_ACCEPTED, sync_to_thread=True)
    def sheet(self, project_id: FromPath[str], data: JSONBody[SheetParams], identity: IdentityDep,
              database: DatabaseDep, settings: SettingsDep, tasks: TasksDep, actor: ActorDep) -> TaskOut:
        return _start("handoff.sheet", project_id, data, data.scene_ids or [], identity, database, settings, tasks,
                      actor)

    @post("/sequence", summary="Make a scene's takes a zip of numbered PNG files as a task",
          status_code=HTTP_202_ACCEPTED, sync_to_thread=True)
    def sequence(self, project_id: FromPath[str], data: JSONBody[SequenceParams], identity: IdentityDep,
                 database: DatabaseDep, settings: SettingsDep, tasks: TasksDep, actor: ActorDep) -> TaskOut:
        return _start("handoff.sequence", project_id, data, [data.scene_id], identity, database, settings, tasks,
                      actor)

    @post("/animatic", summary="Make a scene's takes an MP4 animatic (each shot held for its duration) as a task",
          status_code=HTTP_202_ACCEPTED, sync_to_thread=True)
    def animatic(self, project_id: FromPath[str], data: JSONBody[AnimaticParams], identity: IdentityDep,
                 database: DatabaseDep, settings: SettingsDep, tasks: TasksDep, actor: ActorDep) -> TaskOut:
        return _start("handoff.animatic", project_id, data, [data.scene_id], identity, database, settings, tasks,
                      actor)


def _start(kind: str, project_id: str, params: BaseModel, scene_ids: list[str], identity: Identity,
           database: Database, settings: Settings, tasks: TaskSystem, actor: Actor) -> TaskOut:
    """Check the caller may view the project and that its scenes are there, then record and queue the task."""
    with database.transaction() as db:
        project, _ = require(db, identity.user, project_id, "view")
        folder = project_folder(settings, project)
        for scene_id in scene_ids:
            if content.read_scene(folder, scene_id) is None:
                raise no_such_scene(project_id, scene_id)
        task = tasks.new(db, identity.user, kind, params.model_dump(mode="json"), project_id)
        record(db, actor, Action.PROJECT_HANDOFF, Target("project", project.id, project.name),
               {"task_id": task.id, "kind": kind})
    tasks.submit(task)
    return tasks.describe([task])[0]
