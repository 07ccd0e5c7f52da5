"""/api/v1/node-types, scene runs and graph checks, and the previews a run made: HTTP in and out; the runs
themselves are engine/runs.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Response
from litestar.status_codes import HTTP_201_CREATED
from pydantic import BaseModel, Field

from mediastudio.auth.identity import IdentityDep
from mediastudio.common import Page
from mediastudio.db import DatabaseDep
from mediastudio.engine import runs
from mediastudio.engine.embed import asset_graph
from mediastudio.engine.model_usage import UsageOut, usage
from mediastudio.engine.registry import describe
from mediastudio.engine.service import EngineDep
from mediastudio.errors import NotFound
from mediastudio.projects.live import LiveScenesDep
from mediastudio.settings import SettingsDep
from mediastudio.storage.blobs import BlobsDep
from mediastudio.storage.serving import serve_blob
from mediastudio.tasks.schemas import TaskOut
from mediastudio.tasks.system import TasksDep


class PortOut(BaseModel):
    name: str
    type: str
    required: bool = True
    description: str = ""
    fallback_param: str | None = None


class NodeTypeOut(BaseModel):
    id: str
    version: int
    title: str
    category: str
    description: str
    output_node: bool
    inputs: list[PortOut]
    outputs: list[PortOut]
    params_schema: dict[str, Any] = Field(description="JSON schema of the parameters (ranges, defaults, "
                                                      "descriptions; x-widget / x-options hint the control)")


class RunIn(BaseModel):
    outputs: list[str] | None = Field(None, description="Node ids to compute (and what they need); "
                                                        "default: every shot output of the scene")
    force: bool = Field(False, description="Compute everything again, ignoring cached outputs")


class BatchIn(RunIn):
    repeat: int = Field(4, ge=1, le=100, description="How many runs to queue; seeds in 'increment' mode step by one "
                                                      "per run, 'random' ones differ, 'fixed' ones repeat the picture")


class RegenerateIn(BaseModel):
    new_seed: bool = Field(False, description="Use a new random seed (a variation) instead of the recorded one")


class IssueOut(BaseModel):
    node_id: str | None
    field: str | None
    edge: str | None
    message: str
    code: str | None = Field(None, description="What kind of problem, where one is named: 'no_model' (no model is "
                                                "installed, so nothing can be generated; the message says what to do)")


class CheckOut(BaseModel):
    issues: list[IssueOut]
    runnable: list[str] = Field(description="The nodes a whole-scene run would compute")


def _request(project_id: str, scene_id: str, data: RunIn, repeat: int) -> runs.RunRequest:
    return runs.RunRequest(project_id, scene_id, outputs=data.outputs, force=data.force, repeat=repeat)


class EngineController(Controller):
    path = "/api/v1"

    @get("/node-types", summary="Every node type with its ports and the JSON schema of its parameters",
         sync_to_thread=True)
    def node_types(self, identity: IdentityDep, engine: EngineDep) -> list[NodeTypeOut]:
        return [NodeTypeOut.model_validate(describe(cls)) for cls in engine.nodes.latest()]

    @get("/models/usage", summary="Which of your projects used each model (from their generated assets)",
         sync_to_thread=True)
    def model_usage(self, identity: IdentityDep, database: DatabaseDep, settings: SettingsDep) -> UsageOut:
        return usage(database, settings, identity.user)

    @post("/projects/{project_id:str}/scenes/{scene_id:str}/run", status_code=HTTP_201_CREATED,
          summary="Run the scene's graph as it is now (or the given outputs): a task on the GPU lane")
    async def run(self, project_id: FromPath[str], scene_id: FromPath[str], data: JSONBody[RunIn],
                  identity: IdentityDep, database: DatabaseDep, settings: SettingsDep, rooms: LiveScenesDep,
                  tasks: TasksDep, engine: EngineDep) -> TaskOut:
        request = _request(project_id, scene_id, data, 1)
        (task,) = await runs.queue_runs(database, settings, rooms, tasks, engine, identity.user, request)
        return task

    @post("/projects/{project_id:str}/scenes/{scene_id:str}/runs", status_code=HTTP_201_CREATED,
          summary="Queue a batch of runs of the scene's graph as it is now (all or none: they must fit the quota)")
    async def run_batch(self, project_id: FromPath[str], scene_id: FromPath[str], data: JSONBody[BatchIn],
                        identity: IdentityDep, database: DatabaseDep, settings: SettingsDep, rooms: LiveScenesDep,
                        tasks: TasksDep, engine: EngineDep) -> Page[TaskOut]:
        request = _request(project_id, scene_id, data, data.repeat)
        return Page(items=await runs.queue_runs(database, settings, rooms, tasks, engine, identity.user, request))

    @get("/projects/{project_id:str}/scenes/{scene_id:str}/runs", sync_to_thread=True,
         summary="The scene's runs, whoever started them: waiting and running ones, then the newest ended (20 in all)")
    def scene_runs(self, project_id: FromPath[str], scene_id: FromPath[str], identity: IdentityDep,
                   database: DatabaseDep, tasks: TasksDep) -> Page[TaskOut]:
        return Page(items=runs.scene_runs(database, tasks, identity.user, project_id, scene_id))

    @post("/projects/{project_id:str}/assets/{asset_id:str}/regenerate", status_code=HTTP_201_CREATED,
          summary="Run the graph snapshot that made a generated asset again (same seed, or a new one)",
          sync_to_thread=True)
    def regenerate(self, project_id: FromPath[str], asset_id: FromPath[str], data: JSONBody[RegenerateIn],
                   identity: IdentityDep, database: DatabaseDep, settings: SettingsDep, tasks: TasksDep,
                   engine: EngineDep) -> TaskOut:
        return runs.regenerate(database, settings, tasks, engine, identity.user, project_id, asset_id,
                               data.new_seed)

    @get("/projects/{project_id:str}/assets/{asset_id:str}/workflow", media_type="application/json",
         summary="The nodes that made a generated asset, as a workflow file (the same graph a picture carries in "
                 "its PNG and a clip in its MP4)", sync_to_thread=True)
    def asset_workflow(self, project_id: FromPath[str], asset_id: FromPath[str], identity: IdentityDep,
                       database: DatabaseDep, settings: SettingsDep) -> Response[bytes]:
        filename, text = asset_graph(database, settings, identity.user, project_id, asset_id)
        quoted = quote(filename)
        return Response(text.encode(), media_type="application/json",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"})

    @post("/projects/{project_id:str}/scenes/{scene_id:str}/check", status_code=200,
          summary="Check the scene's graph without running it: every problem, on the node it concerns")
    async def check(self, project_id: FromPath[str], scene_id: FromPath[str], identity: IdentityDep,
                    database: DatabaseDep, settings: SettingsDep, rooms: LiveScenesDep, engine: EngineDep) -> CheckOut:
        whole = await runs.check_scene(database, settings, rooms, engine, identity.user, project_id, scene_id)
        return CheckOut(issues=[IssueOut(**i.as_dict()) for i in whole.issues], runnable=whole.order)

    @get("/tasks/{task_id:str}/previews/{node_id:str}", summary="The picture a node of a run made",
         sync_to_thread=True)
    def preview(self, request: Request, task_id: FromPath[str], node_id: FromPath[str], identity: IdentityDep,
                database: DatabaseDep, blobs: BlobsDep, tasks: TasksDep) -> Response:
        # The live context first, the row second: a task that ends in between has written its final row before
        # it leaves `active`, and the context kept here still holds the same final detail.
        live = tasks.runner.active.get(task_id)
        with database.session() as db:
            task = runs.visible_run(db, identity.user, task_id)  # a scene's run: anyone who may open the project
        state = ((task.detail or {}).get("nodes") or {}).get(node_id) or {}
        if not state.get("preview") and live is not None:  # running here: its events are ahead of its row
            state = ((live.detail or {}).get("nodes") or {}).get(node_id) or {}
        sha = state.get("preview")
        if not sha or not blobs.has(sha):
            raise NotFound(f"The node '{node_id}' made no picture in this run.")
        return serve_blob(request, blobs.path(sha), sha, "image/png", f"{node_id}.png")
