"""What the board's endpoints take and answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from mediastudio.api_types import text
from mediastudio.common import UtcDatetime
from mediastudio.graph import NODE_ID, ShotStatus
from mediastudio.workspaces.schemas import MemberUser

NodeIdText = Annotated[str, *text(pattern=NODE_ID, message="A node id has 1 to 64 letters, digits, '_' or '-'.")]
AssetIdText = Annotated[str, *text(max_length=64)]


class TakeOut(BaseModel):
    """A take of a shot: one generated asset."""

    asset_id: str
    name: str
    number: int | None = Field(description="The take's number in its shot ('#3'); null for older names")
    seed: int | None
    model: str | None
    mime: str
    width: int | None
    height: int | None
    duration: float | None = Field(description="Seconds, for a clip")
    created_by: str
    created_at: UtcDatetime
    picked: bool = Field(description="The shot's picked take")
    preview_url: str = Field(description="A WebP preview (?size=256 or 1024)")
    content_url: str


class ShotCard(BaseModel):
    """A shot on the board: a `shot` node of a scene, with its review state and its cover take."""

    scene_id: str
    node_id: str
    title: str = Field(description="The node's title on the canvas")
    status: ShotStatus
    status_by: MemberUser | None = Field(description="Who last set the status (null: never set)")
    status_at: str | None
    take: str | None = Field(description="The picked take's asset id (null: none picked)")
    take_by: MemberUser | None
    take_at: str | None
    cover: TakeOut | None = Field(description="The picked take, else the newest; null when the shot has none")
    take_count: int
    order: float | None = Field(description="Its place among its scene's shots (null: by canvas position)")


class BoardScene(BaseModel):
    id: str
    name: str
    order: int
    shots: list[ShotCard]


class BoardOut(BaseModel):
    """A project's board: its scenes in order, each with its shots in order."""

    project_id: str
    can_edit: bool = Field(description="Whether the caller may change statuses, picks and order")
    scenes: list[BoardScene]


class TakesOut(BaseModel):
    items: list[TakeOut] = Field(description="Newest first")


class ShotPatch(BaseModel):
    """A change of a shot's review: its status, its picked take (null: unpick, the newest is shown), or both."""

    status: ShotStatus | None = None
    take: AssetIdText | None = Field(None, description="A take of this shot (GET …/takes); null unpicks")
    unpick: bool = Field(False, description="Unpick the take (the newest is shown again)")


class ShotsOrder(BaseModel):
    """The scene's shots in their new order on the board (every shot of the scene, once)."""

    shots: list[NodeIdText] = Field(min_length=1, max_length=2000)
