"""The project events of `WS /api/v1/events`: they reach the members of the project's workspace."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mediastudio.events.schema import Event, omitted_if_none


class ProjectChanged(Event):
    """A project's files changed (a commit, a scene saved, trashed, restored, imported): reload it."""

    type: Literal["project.changed"] = "project.changed"
    version: Literal[1] = 1
    workspace_id: str
    project_id: str
    by: str | None = Field(description="The user who changed it (null: none, e.g. an import by the system)")
    summary: str = Field(description="What changed, for a person (the commit message)")
    commit: str | None = omitted_if_none("The git commit it made; absent when it made none, and for an everyday "
                                         "edit, committed a moment later with the others of its window")


class ProjectActivity(Event):
    """Edits made live in a scene were recorded in the project's activity (shortly after they were made)."""

    type: Literal["project.activity"] = "project.activity"
    version: Literal[1] = 1
    workspace_id: str
    project_id: str
    by: str = Field(description="The user who made most of the edits")
    scene_id: str
    count: int = Field(description="How many activity entries were recorded")
