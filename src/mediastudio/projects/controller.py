"""/api/v1/projects: the gallery, projects, trash, bulk actions, export and import."""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.serialization import encode_json
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from mediastudio.audit.actions import Action
from mediastudio.audit.record import ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep
from mediastudio.auth.tables import User
from mediastudio.common import Page, encoded_as
from mediastudio.db import Database, DatabaseDep
from mediastudio.paging import OffsetCursor
from mediastudio.projects import service
from mediastudio.projects.access import project_folder, require, roles_for
from mediastudio.projects.content import read_scenes
from mediastudio.projects.schemas import (
    ProjectCreate,
    ProjectDetail,
    ProjectOut,
    ProjectPatch,
    SceneOut,
    TagCount,
    TemplateOut,
    project_out_for,
    projects_out,
)
from mediastudio.projects.templates import ModelFitDep, all_templates
from mediastudio.settings import SettingsDep


def _out(database: Database, project_id: str, user: User) -> ProjectOut:
    with database.session() as db:
        return project_out_for(db, user, project_id)


class ProjectsController(Controller):
    path = "/api/v1/projects"
    tags = ("projects",)

    @get(summary="Projects you can open: search, filter, sort, paginate")
    async def list_projects(
        self,
        identity: IdentityDep,
        database: DatabaseDep,
        workspace: Annotated[str | None, QueryParameter(description="Only this workspace")] = None,
        q: Annotated[str | None, QueryParameter(description="Words to find in name, description or tags")] = None,
        tag: FromQuery[str | None] = None,
        owner: Annotated[str | None, QueryParameter(description="User id of the creator")] = None,
        archived: Annotated[
            bool | None, QueryParameter(description="true, false (default) or omit with all=true")
        ] = False,
        all_states: Annotated[bool, QueryParameter(name="all", description="Archived and active together")] = False,
        trashed: Annotated[bool, QueryParameter(description="The trash instead")] = False,
        sort: FromQuery[service.Sort] = "updated",
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: OffsetCursor = None,
    ) -> Page[ProjectOut]:
        # The gallery's page, asked on every visit and by every open gallery on each change: kept encoded while
        # nothing was committed to the database (`ReadCache`), answered on the event loop when known.
        user = identity.user
        archived = None if all_states else archived

        def page() -> bytes:
            with database.session() as db:
                rows, next_cursor = service.list_projects(db, user, workspace_id=workspace, q=q, tag=tag,
                                                          owner=owner, archived=archived, trashed=trashed,
                                                          sort=sort, limit=limit, cursor=cursor)
                roles = roles_for(db, user, rows)
                return encode_json(Page(items=projects_out(db, rows, roles), next_cursor=next_cursor)
                                   .model_dump(mode="json"))

        pages = database.reads("projects", size=256)  # a page of 200 projects is ~200 KB: at most ~50 MB
        key = (user.id, workspace, q, tag, owner, archived, trashed, sort, limit, cursor)
        found: bytes | None = pages.known(key)
        body: bytes = found if found is not None else await to_thread.run_sync(pages.get_or_compute, key, page)
        return encoded_as(body, Page[ProjectOut])

    @post(summary="Create a project from a template", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create_project(self, data: JSONBody[ProjectCreate], identity: IdentityDep, database: DatabaseDep,
                       settings: SettingsDep, models: ModelFitDep) -> ProjectOut:
        with database.transaction() as db:
            project = service.create_project(
                db,
                settings,
                identity.user,
                name=data.name,
                workspace_id=data.workspace_id,
                template=data.template,
                model=data.model,
                fit=models,
            )
        return _out(database, project.id, identity.user)

    @get("/templates", summary="The templates a project can start from", sync_to_thread=False)
    def templates(self) -> list[TemplateOut]:
        return [
            TemplateOut(
                id=t["id"],
                name=t["name"],
                description=t.get("description", ""),
                tags=t.get("tags", []),
                scene_names=[s["name"] for s in t["scenes"]],
            )
            for t in all_templates().values()
        ]

    @get("/tags", summary="Tags in use on your projects, with counts", sync_to_thread=True)
    def tags_in_use(self, identity: IdentityDep, database: DatabaseDep,
                    workspace: FromQuery[str | None] = None) -> list[TagCount]:
        with database.session() as db:
            return [TagCount(tag=t, count=c) for t, c in service.all_tags(db, identity.user, workspace)]

    @get("/{project_id:str}", summary="A project with its scenes and shots", sync_to_thread=True)
    def get_project(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                    settings: SettingsDep) -> ProjectDetail:
        with database.session() as db:
            project, role = require(db, identity.user, project_id, "view")
            scenes = [SceneOut.of(s) for s in read_scenes(project_folder(settings, project))]
            out = projects_out(db, [project], {project.id: role})[0]
            return ProjectDetail(**out.model_dump(), scenes=scenes)

    @patch("/{project_id:str}", summary="Rename, describe, tag, set the cover, archive", sync_to_thread=True)
    def update_project(
        self,
        project_id: FromPath[str],
        data: JSONBody[ProjectPatch],
        identity: IdentityDep,
        database: DatabaseDep,
        settings: SettingsDep,
    ) -> ProjectOut:
        # Answered from the changed project and the rights the change checked, in its own transaction: the
        # project and the caller's role read again in a session of their own were ~0.1 of a rename's cost.
        with database.transaction() as db:
            project, role = service.update_project(db, settings, identity.user, project_id,
                                                   data.model_dump(exclude_unset=True))
            return projects_out(db, [project], {project.id: role})[0]

    @delete(
        "/{project_id:str}",
        summary="Move to the trash (restorable for 30 days)",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
    )
    def trash_project(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                      settings: SettingsDep, actor: ActorDep) -> None:
        with database.transaction() as db:
            project = service.trash_project(db, settings, identity.user, project_id)
            record(db, actor, Action.PROJECT_TRASH, Target("project", project.id, project.name))

    @post("/{project_id:str}/restore", summary="Take a project back out of the trash", sync_to_thread=True,
          status_code=200)
    def restore_project(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                        settings: SettingsDep, actor: ActorDep) -> ProjectOut:
        with database.transaction() as db:
            project = service.restore_project(db, settings, identity.user, project_id)
            record(db, actor, Action.PROJECT_RESTORE, Target("project", project.id, project.name))
        return _out(database, project_id, identity.user)
