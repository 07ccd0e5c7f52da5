"""The asset events of `WS /api/v1/events`: they reach the members of the project's workspace."""

from __future__ import annotations

from typing import Literal

from mediastudio.events.schema import Event


class AssetEvent(Event):
    """An asset of a project, and who touched it."""

    workspace_id: str
    project_id: str
    asset_id: str
    by: str


class AssetCreated(AssetEvent):
    """An asset was added to a project (an upload, or a task's result)."""

    type: Literal["asset.created"] = "asset.created"
    version: Literal[1] = 1


class AssetUpdated(AssetEvent):
    """An asset was renamed, tagged, moved to another category, trashed or restored."""

    type: Literal["asset.updated"] = "asset.updated"
    version: Literal[1] = 1
