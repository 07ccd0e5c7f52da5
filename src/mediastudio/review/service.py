"""The board's reads and changes. A change (status, pick, order) is a shared edit of the scene's live document
(`LiveScenes.patch_reviews`: everyone with the scene open sees it, and it is committed at once with a message
that says what changed); then `shot.changed` tells every open board, and a status change reaches the inbox of
the people whose shot it is (those who generated its takes, and who set its status before)."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from sqlmodel import Session, col, select

from mediastudio.auth.tables import User
from mediastudio.comments.inbox import notify_status
from mediastudio.common import utcnow
from mediastudio.db import Database
from mediastudio.engine.takes import Take, index_missing, takes_of
from mediastudio.errors import NotFound, Unprocessable
from mediastudio.events.emit import emit
from mediastudio.graph import Graph, GraphNode
from mediastudio.projects import content, scenes
from mediastudio.projects.access import project_folder, require
from mediastudio.projects.live import LiveScenes
from mediastudio.projects.tables import Asset, Project
from mediastudio.review.board import SHOT, board_scenes, card, people_of, shots_in_order, take_out
from mediastudio.review.events import ShotChanged
from mediastudio.review.schemas import BoardOut, ShotCard, ShotPatch, TakesOut
from mediastudio.settings import Settings
from mediastudio.workspaces.roles import project_allows

STATUS_WORDS = {"todo": "To do", "in_progress": "In progress", "review": "In review", "approved": "Approved"}


async def board(database: Database, settings: Settings, live: LiveScenes, user: User, project_id: str) -> BoardOut:
    """The project's board, with the graphs of open scenes as their live documents hold them."""
    def files() -> tuple[bool, list[dict[str, Any]], list[tuple[Take, Asset]]]:
        with database.transaction() as db:
            project, role = require(db, user, project_id, "view")
            index_missing(db, settings, project)
            return (project_allows(role, "edit"), content.read_scenes(project_folder(settings, project)),
                    takes_of(db, project.id))

    can_edit, found, takes = await to_thread.run_sync(files)
    graphs = {s["id"]: g for s in found if (g := live.live_graph(project_id, s["id"])) is not None}

    def build() -> BoardOut:
        with database.session() as db:
            people = people_of(db, [graphs.get(s["id"]) or content.scene_graph(s) for s in found])
        return BoardOut(project_id=project_id, can_edit=can_edit, scenes=board_scenes(found, graphs, takes, people))

    return await to_thread.run_sync(build)


def shot_takes(db: Session, settings: Settings, user: User, project_id: str, scene_id: str, node_id: str,
               picked: str | None) -> TakesOut:
    project, _ = require(db, user, project_id, "view")
    index_missing(db, settings, project)
    return TakesOut(items=[take_out(t, a, picked) for t, a in takes_of(db, project.id, scene_id, node_id)])


async def _graph(database: Database, settings: Settings, live: LiveScenes, user: User, project_id: str,
                 scene_id: str, right: str = "edit") -> tuple[Project, Graph]:
    """The project (if the caller may `right` it) and the scene's graph as everyone sees it now."""
    def read() -> tuple[Project, dict[str, Any]]:
        with database.session() as db:
            project, _ = require(db, user, project_id, right)  # type: ignore[arg-type]
        scene = content.read_scene(project_folder(settings, project), scene_id)
        if scene is None:
            raise scenes.no_such_scene(project_id, scene_id)
        return project, scene

    project, scene = await to_thread.run_sync(read)
    return project, live.live_graph(project_id, scene_id) or content.scene_graph(scene)


def _shot(graph: Graph, scene_id: str, node_id: str) -> GraphNode:
    node = graph.nodes.get(node_id)
    if node is None:
        raise NotFound(f"Scene '{scene_id}' has no node '{node_id}'.", hint="Reload the board: it may have been "
                       "deleted.")
    if node.type != SHOT:
        raise Unprocessable(f"'{node.title}' is not a shot: only shot output nodes are on the board.")
    return node


async def get_takes(database: Database, settings: Settings, live: LiveScenes, user: User, project_id: str,
                    scene_id: str, node_id: str) -> TakesOut:
    _, graph = await _graph(database, settings, live, user, project_id, scene_id, "view")
    node = _shot(graph, scene_id, node_id)
    picked = node.review.take if node.review else None

    def read() -> TakesOut:
        with database.transaction() as db:
            return shot_takes(db, settings, user, project_id, scene_id, node_id, picked)

    return await to_thread.run_sync(read)


def _check_take(db: Session, project_id: str, scene_id: str, node_id: str, asset_id: str) -> Asset:
    row = db.exec(select(Take, Asset).join(Asset, col(Asset.id) == col(Take.asset_id)).where(
        col(Take.asset_id) == asset_id, col(Take.project_id) == project_id)).first()
    if row is None or row[0].scene_id != scene_id or row[0].node_id != node_id:
        raise Unprocessable(f"'{asset_id}' is not a take of this shot.", field="take",
                         hint="Pick one of the shot's takes (GET …/takes lists them).")
    if row[1].trashed_at is not None:
        raise Unprocessable(f"'{row[1].name}' is in the trash.", field="take",
                            hint="Restore it first, or pick another.")
    return row[1]


async def change_shot(database: Database, settings: Settings, live: LiveScenes, user: User, project_id: str,
                      scene_id: str, node_id: str, patch: ShotPatch) -> ShotCard:
    """Set a shot's status and/or its picked take (the caller's rights and the ids first: a 404 says no more)."""
    project, graph = await _graph(database, settings, live, user, project_id, scene_id)
    node = _shot(graph, scene_id, node_id)
    if patch.status is None and patch.take is None and not patch.unpick:
        raise Unprocessable("Say what to change: a status, a take to pick, or unpick.", field="status")
    if patch.take is not None and patch.unpick:
        raise Unprocessable("Pick a take or unpick, not both.", field="unpick")
    now, fields, said = utcnow().isoformat(), dict[str, Any](), list[str]()
    if patch.take is not None:
        def check() -> Asset:
            with database.session() as db:
                return _check_take(db, project.id, scene_id, node_id, str(patch.take))

        asset = await to_thread.run_sync(check)
        fields.update(take=asset.id, take_by=user.id, take_at=now)
        said.append(f"Picked '{asset.name}' for the shot '{node.title}'")
    elif patch.unpick:
        fields.update(take=None, take_by=None, take_at=None)
        said.append(f"Unpicked the take of the shot '{node.title}'")
    before = node.review.status if node.review else "todo"
    if patch.status is not None:
        fields.update(status=patch.status, status_by=user.id, status_at=now)
        said.append(f"Set the shot '{node.title}' to {STATUS_WORDS[patch.status]}")
    graph = await live.patch_reviews(project, scene_id, {node_id: fields}, user.id, "; ".join(said))
    change = "take" if patch.status is None else "status"

    def announce() -> ShotCard:
        with database.transaction() as db:
            emit(db, ShotChanged(workspace_id=project.workspace_id, project_id=project.id, scene_id=scene_id,
                                 node_ids=[node_id], change=change, by=user.id))
            if patch.status is not None and patch.status != before:
                notify_status(db, project, scene_id, node_id, _owners(db, project.id, scene_id, node_id, node),
                              user.id, f"{node.title}: {STATUS_WORDS[before]} → {STATUS_WORDS[patch.status]}")
            shot = graph.nodes[node_id]
            index_missing(db, settings, project)
            return card(scene_id, node_id, shot, takes_of(db, project.id, scene_id, node_id), people_of(db, [graph]))

    return await to_thread.run_sync(announce)


def _owners(db: Session, project_id: str, scene_id: str, node_id: str, node: GraphNode) -> set[str]:
    """Whose shot it is: who generated its takes, and who set its status before."""
    people = set(db.exec(select(Asset.created_by).join(Take, col(Take.asset_id) == col(Asset.id)).where(
        col(Take.project_id) == project_id, col(Take.scene_id) == scene_id, col(Take.node_id) == node_id)).all())
    if node.review is not None and node.review.status_by:
        people.add(node.review.status_by)
    return people


async def reorder(database: Database, settings: Settings, live: LiveScenes, user: User, project_id: str,
                  scene_id: str, order: list[str]) -> list[str]:
    """Put the scene's shots in this order on the board; answers the order."""
    project, graph = await _graph(database, settings, live, user, project_id, scene_id)
    shots = [node_id for node_id, _ in shots_in_order(graph)]
    if len(set(order)) != len(order) or set(order) != set(shots):
        raise Unprocessable("Send every shot of the scene once, in the new order.", field="shots",
                         hint="The board may be out of date: reload it.")
    changes = {node_id: {"order": float(place)} for place, node_id in enumerate(order, start=1)
               if (graph.nodes[node_id].review is None or graph.nodes[node_id].review.order != place)}  # type: ignore[union-attr]
    if changes:
        moved = [graph.nodes[n].title for n in order if n in changes]
        await live.patch_reviews(project, scene_id, changes, user.id,
                                 f"Reordered the shots on the board: {', '.join(moved[:5])}"
                                 + (f" and {len(moved) - 5} more" if len(moved) > 5 else ""))

        def announce() -> None:
            with database.transaction() as db:
                emit(db, ShotChanged(workspace_id=project.workspace_id, project_id=project.id, scene_id=scene_id,
                                     node_ids=list(changes), change="order", by=user.id))

        await to_thread.run_sync(announce)
    return order
