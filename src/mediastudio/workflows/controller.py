"""/api/v1/workspaces/{id}/workflows and /api/v1/workflows: the library of reusable graphs, and reading a graph
from a file (a workflow's JSON, a picture the studio generated)."""

from __future__ import annotations

from typing import Annotated

import anyio
from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, Parameter
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlmodel import Session

from mediastudio import bodies
from mediastudio.audit.actions import Action
from mediastudio.audit.record import Actor, ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep
from mediastudio.common import Page
from mediastudio.db import Database, DatabaseDep
from mediastudio.engine.service import EngineDep
from mediastudio.errors import NotFound
from mediastudio.graph.fragment import Fragment, fragment_json
from mediastudio.workflows import checks, service
from mediastudio.workflows.schemas import WorkflowCreate, WorkflowOut, WorkflowPatch, WorkflowWithGraph
from mediastudio.workflows.tables import Workflow

Query = Annotated[str | None, Parameter(max_length=200, description="Words to find in names and descriptions")]


def _with_graph(db: Session, workflow_id: str, identity: IdentityDep) -> WorkflowWithGraph:
    workflow, allowed = service.get(db, identity.user, workflow_id)
    out = WorkflowOut.of(workflow, allowed)
    return WorkflowWithGraph(**out.model_dump(), graph=service.graph_of(workflow))


def _target(workflow: Workflow) -> Target:
    return Target("workflow", workflow.id, workflow.name)


def _record_import(database: Database, actor: Actor, fragment: Fragment, head: bytes, size: int) -> None:
    """A file read is audited in a transaction of its own (nothing else is written)."""
    source = "png" if head.startswith(b"\x89PNG") else "mp4" if head[4:8] == b"ftyp" else "json"
    with database.transaction() as db:
        record(db, actor, Action.WORKFLOW_IMPORT, Target("workflow", label=f"a {source} file"),
               {"source": source, "bytes": size, "nodes": len(fragment.nodes)})


def _too_large() -> Exception:
    return checks.TooLarge(f"The file is larger than {checks.MAX_FILE_BYTES >> 20} MB: it cannot be a workflow.")


class WorkflowsController(Controller):
    path = "/api/v1"
    tags = ("workflows",)

    @get("/workspaces/{workspace_id:str}/workflows", summary="The workspace's library of workflows, newest first",
         sync_to_thread=True)
    def list_workflows(self, workspace_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                       q: Query = None) -> Page[WorkflowOut]:
        with database.session() as db:
            return Page(items=[WorkflowOut.of(w, ok) for w, ok in service.listed(db, identity.user, workspace_id, q)])

    @post("/workspaces/{workspace_id:str}/workflows", summary="Save nodes as a workflow of the workspace's library",
          status_code=HTTP_201_CREATED, sync_to_thread=True)
    def save_workflow(self, workspace_id: FromPath[str], data: JSONBody[WorkflowCreate], identity: IdentityDep,
                      database: DatabaseDep, engine: EngineDep, actor: ActorDep) -> WorkflowOut:
        with database.transaction() as db:
            service.member_of(db, identity.user, workspace_id)  # 404 to others, before their graph is looked at
            fragment = checks.known_types(checks.checked(data.graph), engine.nodes)
            workflow, allowed = service.save(db, identity.user, workspace_id, data.name, data.description, fragment,
                                             data.preview)
            record(db, actor, Action.WORKFLOW_SAVE, _target(workflow),
                   {"workspace_id": workspace_id, "nodes": workflow.node_count})
            return WorkflowOut.of(workflow, allowed)

    @get("/workflows/{workflow_id:str}", summary="A workflow with its nodes", sync_to_thread=True)
    def get_workflow(self, workflow_id: FromPath[str], identity: IdentityDep,
                     database: DatabaseDep) -> WorkflowWithGraph:
        with database.session() as db:
            return _with_graph(db, workflow_id, identity)

    @patch("/workflows/{workflow_id:str}", summary="Rename a workflow or change its description (who saved it, "
           "the workspace's owners and admins)", sync_to_thread=True)
    def update_workflow(self, workflow_id: FromPath[str], data: JSONBody[WorkflowPatch], identity: IdentityDep,
                        database: DatabaseDep, actor: ActorDep) -> WorkflowOut:
        with database.transaction() as db:
            before, _ = service.get(db, identity.user, workflow_id)
            was = {"name": before.name, "description": before.description}
            workflow = service.change(db, identity.user, workflow_id, data.name, data.description)
            now = {"name": workflow.name, "description": workflow.description}
            changed = {key: {"before": was[key], "after": now[key]} for key in was if was[key] != now[key]}
            if changed:
                record(db, actor, Action.WORKFLOW_RENAME, _target(workflow), changed)
            return WorkflowOut.of(workflow, True)

    @delete("/workflows/{workflow_id:str}", summary="Delete a workflow (who saved it, the workspace's owners and "
            "admins)", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def delete_workflow(self, workflow_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                        actor: ActorDep) -> None:
        with database.transaction() as db:
            workflow = service.remove(db, identity.user, workflow_id)
            record(db, actor, Action.WORKFLOW_DELETE, _target(workflow), {"workspace_id": workflow.workspace_id})

    @get("/workflows/{workflow_id:str}/preview", summary="A workflow's preview picture", sync_to_thread=True,
         media_type="image/png")
    def workflow_preview(self, workflow_id: FromPath[str], identity: IdentityDep,
                         database: DatabaseDep) -> Response[bytes]:
        with database.session() as db:
            workflow, _ = service.get(db, identity.user, workflow_id)
        if workflow.preview is None:
            raise NotFound("This workflow has no preview.")
        return Response(workflow.preview, media_type=workflow.preview_mime or "image/png",
                        headers={"Cache-Control": "private, max-age=60"})

    @get("/workflows/{workflow_id:str}/file", summary="A workflow as a JSON file (the clipboard's format)",
         sync_to_thread=True, media_type="application/json")
    def workflow_file(self, workflow_id: FromPath[str], identity: IdentityDep,
                      database: DatabaseDep) -> Response[bytes]:
        with database.session() as db:
            workflow, _ = service.get(db, identity.user, workflow_id)
        text = fragment_json(service.graph_of(workflow), name=workflow.name, description=workflow.description)
        filename = "".join(c if c.isalnum() or c in " -_" else "_" for c in workflow.name).strip() or "workflow"
        return Response(text.encode(), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{filename[:80]}.json"'})

    @post("/workflows/read", summary="Read the nodes of a file: a workflow's JSON, or a PNG the studio generated "
          "(its graph chunk); checked as a saved workflow is. The body is the file's bytes.",
          status_code=HTTP_200_OK)
    async def read_workflow_file(self, request: Request, identity: IdentityDep, engine: EngineDep,
                                 database: DatabaseDep, actor: ActorDep) -> Fragment:
        bodies.refuse_declared(request.headers, checks.MAX_FILE_BYTES, _too_large)
        data = bytearray()
        async for chunk in bodies.counted(request.stream(), checks.MAX_FILE_BYTES, _too_large):
            data += chunk
        fragment = checks.known_types(checks.read_file(bytes(data)), engine.nodes)
        await anyio.to_thread.run_sync(_record_import, database, actor, fragment, bytes(data[:8]), len(data))
        return fragment
