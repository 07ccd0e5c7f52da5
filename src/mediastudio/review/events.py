"""The review board's event of `WS /api/v1/events` (docs/events.md): it reaches the members of the project's
workspace, whose open boards refresh."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mediastudio.events.schema import Event


class ShotChanged(Event):
    """A shot's place on the board changed: its status, its picked take, or the order of its scene's shots."""

    type: Literal["shot.changed"] = "shot.changed"
    version: Literal[1] = 1
    workspace_id: str
    project_id: str
    scene_id: str
    node_ids: list[str] = Field(description="The shot nodes that changed")
    change: Literal["status", "take", "order"]
    by: str = Field(description="The user who changed it")
