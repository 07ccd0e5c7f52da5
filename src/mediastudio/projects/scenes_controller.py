"""/api/v1/projects/{id}/scenes: scenes and their node graphs."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from mediastudio.auth.identity import IdentityDep
from mediastudio.common import Page, encoded_as
from mediastudio.db import DatabaseDep
from mediastudio.errors import MediastudioError
from mediastudio.graph import Graph, GraphIn
from mediastudio.projects import content, scenes
from mediastudio.projects.access import may_read, may_read_now, project_folder, require
from mediastudio.projects.answers import SCENES
from mediastudio.projects.live import LiveScenesDep
from mediastudio.projects.partial_saves import kept_error, saved_anyway, what_was_kept
from mediastudio.projects.schemas import SceneCreate, SceneDetail, SceneOut, ScenePatch
from mediastudio.projects.tables import Project
from mediastudio.settings import SettingsDep


class ScenesController(Controller):
    path = "/api/v1/projects/{project_id:str}/scenes"
    tags = ("scenes",)

    @get(summary="The project's scenes in order, with their shots", sync_to_thread=True)
    def list_scenes(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                    settings: SettingsDep) -> Page[SceneOut]:
        with database.session() as db:
            found = scenes.list_scenes(db, settings, identity.user, project_id)
        return Page(items=[SceneOut.of(s) for s in found])

    @post(summary="Add a scene at the end", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create_scene(self, project_id: FromPath[str], data: JSONBody[SceneCreate], identity: IdentityDep,
                     database: DatabaseDep, settings: SettingsDep) -> SceneDetail:
        with database.transaction() as db:
            scene = scenes.create_scene(db, settings, identity.user, project_id, data.name,
                                        data.graph)
        return SceneDetail.of(scene)

    @get("/{scene_id:str}", summary="A scene with its graph")
    async def get_scene(self, project_id: FromPath[str], scene_id: FromPath[str], identity: IdentityDep,
                        database: DatabaseDep, settings: SettingsDep) -> SceneDetail:
        # Asked again and again while nothing changed: answered on the event loop from what is known (the
        # caller's rights while the database is unchanged, the encoded scene while its file is), else in a
        # worker thread.
        def now() -> bytes | None:
            allowed = may_read_now(database, identity.user, project_id)
            return None if allowed is None else SCENES.known(project_folder(settings, allowed[0]), scene_id)

        def later() -> bytes:
            project, _ = may_read(database, identity.user, project_id)
            found = SCENES.answer(project_folder(settings, project), scene_id)
            if found is None:
                raise scenes.no_such_scene(project_id, scene_id)
            return found

        found = now()
        return encoded_as(found if found is not None else await to_thread.run_sync(later), SceneDetail)

    @patch("/{scene_id:str}", summary="Rename or move a scene", sync_to_thread=True)
    def update_scene(self, project_id: FromPath[str], scene_id: FromPath[str], data: JSONBody[ScenePatch],
                     identity: IdentityDep, database: DatabaseDep, settings: SettingsDep) -> SceneDetail:
        with database.transaction() as db:
            return SceneDetail.of(scenes.update_scene(db, settings, identity.user, project_id, scene_id,
                                                      name=data.name, order=data.order))

    @post("/{scene_id:str}/duplicate", summary="Copy a scene, placed right after it", status_code=HTTP_201_CREATED,
          sync_to_thread=True)
    def duplicate_scene(self, project_id: FromPath[str], scene_id: FromPath[str], identity: IdentityDep,
                        database: DatabaseDep, settings: SettingsDep) -> SceneDetail:
        with database.transaction() as db:
            return SceneDetail.of(scenes.duplicate_scene(db, settings, identity.user, project_id, scene_id))

    @delete("/{scene_id:str}", summary="Delete a scene", status_code=HTTP_204_NO_CONTENT)
    async def delete_scene(self, project_id: FromPath[str], scene_id: FromPath[str], identity: IdentityDep,
                           database: DatabaseDep, settings: SettingsDep, rooms: LiveScenesDep) -> None:
        def delete() -> None:
            with database.transaction() as db:
                scenes.delete_scene(db, settings, identity.user, project_id, scene_id)

        await to_thread.run_sync(delete)
        await rooms.close_scene(project_id, scene_id, reason="The scene was deleted")

    @get("/{scene_id:str}/graph", summary="The scene's node graph (the live document's, when it is open)")
    async def get_graph(self, project_id: FromPath[str], scene_id: FromPath[str], identity: IdentityDep,
                        database: DatabaseDep, settings: SettingsDep,
                        rooms: LiveScenesDep) -> Graph:
        def read() -> dict[str, Any]:
            with database.session() as db:
                return scenes.get_scene(db, settings, identity.user, project_id, scene_id)

        scene = await to_thread.run_sync(read)
        # pycrdt documents live on the event loop's thread: read the live one here, not in a worker.
        return rooms.live_graph(project_id, scene_id) or content.scene_graph(scene)

    @put("/{scene_id:str}/graph", summary="Replace the scene's node graph (live in every open browser)")
    async def put_graph(self, project_id: FromPath[str], scene_id: FromPath[str], data: JSONBody[GraphIn],
                        identity: IdentityDep, database: DatabaseDep, settings: SettingsDep,
                        rooms: LiveScenesDep) -> Graph:
        def check() -> tuple[Project, dict[str, Any]]:
            with database.session() as db:
                scene = scenes.get_scene(db, settings, identity.user, project_id, scene_id)
                return require(db, identity.user, project_id, "edit")[0], scene

        project, scene = await to_thread.run_sync(check)
        graph = data.stored()
        live = rooms.live_graph(project_id, scene_id)
        before = live.model_dump() if live else scene.get("graph") or {}
        try:
            # The same path as a browser's edit: through the scene's live document, logged, relayed, saved.
            return await rooms.apply_rest(project, scene_id, graph, identity.user.id)
        except MediastudioError:
            raise  # refused before anything was taken (the project is being moved, the update is refused, …)
        except Exception as exc:  # say how far the edit got (a full disk often fails only a later step)
            live = rooms.live_graph(project_id, scene_id)  # the live document is read on the loop
            kept, now = await to_thread.run_sync(what_was_kept, live.model_dump() if live else None, before,
                                                 project_folder(settings, project), scene_id)
            if kept == "nothing":
                raise
            if kept == "all":
                saved_anyway(exc)
                return Graph.model_validate(now)
            raise kept_error(kept, exc) from exc
