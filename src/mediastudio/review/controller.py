"""/api/v1/projects/{id}/board and a shot's takes, status, pick and order (docs/review.md)."""

from __future__ import annotations

from litestar import Controller, get, patch, put
from litestar.params import FromPath, JSONBody

from mediastudio.auth.identity import IdentityDep
from mediastudio.db import DatabaseDep
from mediastudio.projects.live import LiveScenesDep
from mediastudio.review import service
from mediastudio.review.schemas import BoardOut, ShotCard, ShotPatch, ShotsOrder, TakesOut
from mediastudio.settings import SettingsDep


class BoardController(Controller):
    path = "/api/v1/projects/{project_id:str}"
    tags = ("board",)

    @get("/board", summary="The project's board: scenes in order, their shots with status and cover take")
    async def get_board(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                        settings: SettingsDep, rooms: LiveScenesDep) -> BoardOut:
        return await service.board(database, settings, rooms, identity.user, project_id)

    @get("/scenes/{scene_id:str}/shots/{node_id:str}/takes", summary="A shot's takes, newest first")
    async def get_takes(self, project_id: FromPath[str], scene_id: FromPath[str], node_id: FromPath[str],
                        identity: IdentityDep, database: DatabaseDep, settings: SettingsDep,
                        rooms: LiveScenesDep) -> TakesOut:
        return await service.get_takes(database, settings, rooms, identity.user, project_id, scene_id, node_id)

    @patch("/scenes/{scene_id:str}/shots/{node_id:str}", summary="Set a shot's status, or pick its take")
    async def change_shot(self, project_id: FromPath[str], scene_id: FromPath[str], node_id: FromPath[str],
                          data: JSONBody[ShotPatch], identity: IdentityDep, database: DatabaseDep,
                          settings: SettingsDep, rooms: LiveScenesDep) -> ShotCard:
        return await service.change_shot(database, settings, rooms, identity.user, project_id, scene_id, node_id,
                                         data)

    @put("/scenes/{scene_id:str}/shot-order", summary="Put the scene's shots in a new order on the board")
    async def reorder(self, project_id: FromPath[str], scene_id: FromPath[str], data: JSONBody[ShotsOrder],
                      identity: IdentityDep, database: DatabaseDep, settings: SettingsDep,
                      rooms: LiveScenesDep) -> ShotsOrder:
        shots = await service.reorder(database, settings, rooms, identity.user, project_id, scene_id, data.shots)
        return ShotsOrder(shots=shots)
