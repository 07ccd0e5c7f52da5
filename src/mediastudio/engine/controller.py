"""/api/v1/node-types, scene runs and graph checks, and the previews a run made."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Response
from litestar.status_codes import HTTP_201_CREATED
from pydantic import BaseModel, Field

from mediastudio.auth.identity import IdentityDep
from mediastudio.common import Page
from mediastudio.engine.graph import GraphInvalid
from mediastudio.engine.registry import describe, load_nodes
from mediastudio.errors import Conflict, MediastudioError, NotFound
from mediastudio.graph import Graph, GraphNode
from mediastudio.media.serving import serve_blob
from mediastudio.projects import content, scenes
from mediastudio.projects.access import require
from mediastudio.studio import StudioDep
from mediastudio.tasks import service as tasks
from mediastudio.tasks.schemas import TaskOut


class GraphProblems(MediastudioError):
    status = 422
    title = "The graph cannot run"


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


class CheckOut(BaseModel):
    issues: list[IssueOut]
    runnable: list[str] = Field(description="The nodes a whole-scene run would compute")


def _new_seed(node: GraphNode, seed: int) -> GraphNode:
    params = dict(node.params)
    if node.type == "seed":
        params.update({"value": seed, "mode": "fixed"})
    elif "seed" in params or node.type in ("text_to_image", "image_to_image", "inpaint", "text_to_video",
                                           "image_to_video"):
        params["seed"] = seed
    return node.model_copy(update={"params": params})


class EngineController(Controller):
    path = "/api/v1"

    @get("/node-types", summary="Every node type with its ports and the JSON schema of its parameters",
         sync_to_thread=True)
    def node_types(self, identity: IdentityDep) -> list[NodeTypeOut]:
        return [NodeTypeOut.model_validate(describe(cls)) for cls in load_nodes().latest()]

    async def _graph(self, studio: Any, identity: Any, project_id: str, scene_id: str, action: str) -> tuple:
        def read() -> tuple:
            with studio.db.session() as db:
                require(db, identity.user, project_id, action)  # type: ignore[arg-type]
                return scenes.get_scene(db, studio.settings, identity.user, project_id, scene_id)

        scene = await to_thread.run_sync(read)
        # The live document (what everyone sees now) is the graph that runs; a snapshot goes into the task.
        return scene, studio.rooms.live_graph(project_id, scene_id) or content.scene_graph(scene)

    @post("/projects/{project_id:str}/scenes/{scene_id:str}/run", status_code=HTTP_201_CREATED,
          summary="Run the scene's graph as it is now (or the given outputs): a task on the GPU lane")
    async def run(self, project_id: FromPath[str], scene_id: FromPath[str], data: JSONBody[RunIn],
                  identity: IdentityDep, studio: StudioDep) -> TaskOut:
        (task,) = await self._queue_runs(studio, identity, project_id, scene_id, data, 1)
        return task

    @post("/projects/{project_id:str}/scenes/{scene_id:str}/runs", status_code=HTTP_201_CREATED,
          summary="Queue a batch of runs of the scene's graph as it is now (all or none: they must fit the quota)")
    async def run_batch(self, project_id: FromPath[str], scene_id: FromPath[str], data: JSONBody[BatchIn],
                        identity: IdentityDep, studio: StudioDep) -> Page[TaskOut]:
        return Page(items=await self._queue_runs(studio, identity, project_id, scene_id, data, data.repeat))

    async def _queue_runs(self, studio: Any, identity: Any, project_id: str, scene_id: str, data: RunIn,
                          repeat: int) -> list[TaskOut]:
        scene, graph = await self._graph(studio, identity, project_id, scene_id, "run")
        engine = studio.tasks.runner.engine

        def start() -> list[Any]:
            try:
                run_plan = engine.plan(graph, data.outputs)
            except GraphInvalid as exc:
                first = exc.issues[0].message
                more = f" (and {len(exc.issues) - 1} more)" if len(exc.issues) > 1 else ""
                raise GraphProblems(f"{first}{more}", hint="The canvas marks each problem on its node.",
                                    issues=[i.as_dict() for i in exc.issues]) from exc
            made = []
            with studio.db.transaction() as db:  # one transaction: a batch over the quota queues nothing
                for index in range(repeat):
                    params = {"scene_id": scene_id, "scene_name": scene.get("name", ""), "outputs": data.outputs,
                              "graph": graph, "force": data.force, "run_index": engine.run_index(db, scene_id),
                              "steps_hint": engine.steps(run_plan),
                              "batch": (index + 1, repeat) if repeat > 1 else None}
                    made.append(tasks.new_task(db, studio.settings, identity.user, "scene.run", params, project_id))
                    db.flush()  # counted by the next one's run index, quota and fair priority
            return made

        made = await to_thread.run_sync(start)
        for task in made:
            studio.tasks.submit(task)
        return studio.tasks.describe(made)  # type: ignore[no-any-return]

    @post("/projects/{project_id:str}/assets/{asset_id:str}/regenerate", status_code=HTTP_201_CREATED,
          summary="Run the graph snapshot that made a generated asset again (same seed, or a new one)",
          sync_to_thread=True)
    def regenerate(self, project_id: FromPath[str], asset_id: FromPath[str], data: JSONBody[RegenerateIn],
                   identity: IdentityDep, studio: StudioDep) -> TaskOut:
        import secrets

        from mediastudio.media.assets import get_asset, read_meta

        engine = studio.tasks.runner.engine
        with studio.db.session() as db:
            project, _ = require(db, identity.user, project_id, "run")
            _, asset = get_asset(db, identity.user, project_id, asset_id)
            provenance = read_meta(studio.settings, project, asset.id).get("provenance") or {}
        graph, node_id = Graph.read(provenance.get("graph")), provenance.get("node_id")
        if graph is None or not node_id:
            raise Conflict(f"'{asset.name}' was not made by a graph here, so it cannot be regenerated.",
                             hint="Only generated assets record the graph that made them.")
        if data.new_seed:
            graph = graph.model_copy(update={"nodes": {k: _new_seed(v, secrets.randbelow(2**32))
                                                       for k, v in graph.nodes.items()}})
        try:
            run_plan = engine.plan(graph, [node_id])
        except GraphInvalid as exc:
            raise GraphProblems(exc.issues[0].message, issues=[i.as_dict() for i in exc.issues],
                                hint="Open the graph, fix it, and run it from the scene.") from exc
        params = {"scene_id": provenance.get("scene_id") or "", "scene_name": f"{asset.name} again",
                  "outputs": [node_id], "graph": graph, "force": True, "run_index": 0,
                  "steps_hint": engine.steps(run_plan)}
        with studio.db.transaction() as db:
            task = tasks.new_task(db, studio.settings, identity.user, "scene.run", params, project_id)
        studio.tasks.submit(task)
        return studio.tasks.describe([task])[0]  # type: ignore[no-any-return]

    @post("/projects/{project_id:str}/scenes/{scene_id:str}/check", status_code=200,
          summary="Check the scene's graph without running it: every problem, on the node it concerns")
    async def check(self, project_id: FromPath[str], scene_id: FromPath[str], identity: IdentityDep,
                    studio: StudioDep) -> CheckOut:
        _, graph = await self._graph(studio, identity, project_id, scene_id, "view")
        whole = await to_thread.run_sync(lambda: studio.tasks.runner.engine.plan(graph, whole=True))
        return CheckOut(issues=[IssueOut(**i.as_dict()) for i in whole.issues], runnable=whole.order)

    @get("/tasks/{task_id:str}/previews/{node_id:str}", summary="The picture a node of a run made",
         sync_to_thread=True)
    def preview(self, request: Request, task_id: FromPath[str], node_id: FromPath[str], identity: IdentityDep,
                studio: StudioDep) -> Response:
        # The live context first, the row second: a task that ends in between has written its final row before
        # it leaves `active`, and the context kept here still holds the same final detail.
        live = studio.tasks.runner.active.get(task_id)
        with studio.db.session() as db:
            task = tasks.visible_task(db, identity.user, task_id)
        state = ((task.detail or {}).get("nodes") or {}).get(node_id) or {}
        if not state.get("preview") and live is not None:  # running here: its events are ahead of its row
            state = ((live.detail or {}).get("nodes") or {}).get(node_id) or {}
        sha = state.get("preview")
        if not sha or not studio.blobs.has(sha):
            raise NotFound(f"The node '{node_id}' made no picture in this run.")
        return serve_blob(request, studio.blobs.path(sha), sha, "image/png", f"{node_id}.png")  # type: ignore[return-value]
