"""The board of a project, read: its scenes in order, their shots in board order, each shot's cover take.

`cover_take` is the one statement of which take stands for a shot (the board's card, exports): the picked take
while it is a take of the shot and not in the trash, else the newest take.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from mediastudio.auth.tables import User
from mediastudio.engine.takes import Take, index_missing, takes_of
from mediastudio.graph import Graph, GraphNode, ShotReview
from mediastudio.projects.content import scene_graph
from mediastudio.projects.schemas import users_by_id
from mediastudio.projects.tables import Asset, Project
from mediastudio.review.schemas import BoardScene, ShotCard, TakeOut
from mediastudio.settings import Settings
from mediastudio.workspaces.schemas import MemberUser

SHOT = "shot"
TakeRow = tuple[Take, Asset]


def cover_take(review: ShotReview | None, takes: list[TakeRow]) -> TakeRow | None:
    """The take that stands for a shot: the picked one (`review.take`) if it is among `takes` (the shot's takes
    not in the trash, newest first: `engine/takes.py:takes_of`), else the newest; None when it has none."""
    picked = review.take if review is not None else None
    if picked is not None:
        for row in takes:
            if row[1].id == picked:
                return row
    return takes[0] if takes else None


def cover_take_of(db: Session, settings: Settings, project: Project, scene_id: str, node: str,
                  graph: Graph) -> Asset | None:
    """The cover take's asset of one shot node of a scene's graph (for exports and hand-offs)."""
    index_missing(db, settings, project)
    found = graph.nodes.get(node)
    row = cover_take(found.review if found else None, takes_of(db, project.id, scene_id, node))
    return row[1] if row else None


def shots_in_order(graph: Graph) -> list[tuple[str, GraphNode]]:
    """A scene's shot nodes as the board shows them: those given a place (`review.order`) by it, then the
    others from the top of the canvas down, left to right."""
    shots = [(node_id, node) for node_id, node in graph.nodes.items() if node.type == SHOT]

    def key(item: tuple[str, GraphNode]) -> tuple[int, float, float, float]:
        node = item[1]
        order = node.review.order if node.review is not None else None
        return (0, order, 0, 0) if order is not None else (1, 0, node.position.y, node.position.x)

    return sorted(shots, key=key)


def take_out(take: Take, asset: Asset, picked: str | None) -> TakeOut:
    base = f"/api/v1/projects/{asset.project_id}/assets/{asset.id}"
    return TakeOut(asset_id=asset.id, name=asset.name, number=take.number, seed=take.seed, model=take.model,
                   mime=asset.mime, width=asset.width, height=asset.height, duration=asset.duration,
                   created_by=asset.created_by, created_at=asset.created_at, picked=asset.id == picked,
                   preview_url=f"{base}/preview", content_url=f"{base}/content")


def people_of(db: Session, graphs: list[Graph]) -> dict[str, User]:
    ids = {who for graph in graphs for node in graph.nodes.values() if node.review is not None
           for who in (node.review.status_by, node.review.take_by) if who}
    return users_by_id(db, ids)


def card(scene_id: str, node_id: str, node: GraphNode, takes: list[TakeRow], people: dict[str, User]) -> ShotCard:
    review = node.review or ShotReview()

    def who(user_id: str | None) -> MemberUser | None:
        user = people.get(user_id or "")
        return MemberUser.model_validate(user, from_attributes=True) if user else None

    cover = cover_take(node.review, takes)
    return ShotCard(scene_id=scene_id, node_id=node_id, title=node.title, status=review.status,
                    status_by=who(review.status_by), status_at=review.status_at, take=review.take,
                    take_by=who(review.take_by), take_at=review.take_at,
                    cover=take_out(*cover, review.take) if cover else None, take_count=len(takes),
                    order=review.order)


def board_scenes(scenes: list[dict[str, Any]], graphs: dict[str, Graph], takes: list[TakeRow],
                 people: dict[str, User]) -> list[BoardScene]:
    """The board's rows: `scenes` (files, in order) with their graphs (`graphs`: the live ones where open)."""
    by_shot: dict[tuple[str | None, str | None], list[TakeRow]] = {}
    for row in takes:  # newest first, kept so in each shot's list
        by_shot.setdefault((row[0].scene_id, row[0].node_id), []).append(row)
    rows = []
    for scene in sorted(scenes, key=lambda s: (s.get("order", 0), s["name"])):
        graph = graphs.get(scene["id"]) or scene_graph(scene)
        cards = [card(scene["id"], node_id, node, by_shot.get((scene["id"], node_id), []), people)
                 for node_id, node in shots_in_order(graph)]
        rows.append(BoardScene(id=scene["id"], name=scene["name"], order=scene.get("order", 0), shots=cards))
    return rows
