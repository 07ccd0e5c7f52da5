"""What the workflow library's API takes and answers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from mediastudio.api_types import NOT_BLANK, text
from mediastudio.common import UtcDatetime
from mediastudio.graph.fragment import Fragment
from mediastudio.workflows.tables import Workflow

NAME_MAX = 80
DESCRIPTION_MAX = 1000
PREVIEW_MAX_CHARS = 200_000  # a data: URL of a small picture (about 150 KB)

Name = Annotated[str, *text(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK,
                             message="A workflow's name needs something besides spaces.")]
Description = Annotated[str, *text(max_length=DESCRIPTION_MAX)]


class WorkflowCreate(BaseModel):
    name: Name
    description: Description = ""
    graph: dict[str, Any] = Field(description="The nodes, in the clipboard's format: {nodes: {id: node}, edges: [...]}"
                                  " (docs/canvas.md); checked against the studio's node types")
    preview: Annotated[str | None, *text(max_length=PREVIEW_MAX_CHARS)] = Field(
        None, description="A small picture as a data: URL (PNG, JPEG or WebP, at most 512 px a side)")


class WorkflowPatch(BaseModel):
    name: Name | None = None
    description: Description | None = None


class WorkflowOut(BaseModel):
    id: str
    workspace_id: str
    name: str
    description: str
    node_count: int
    has_preview: bool
    created_by: str | None = Field(description="The user id of who saved it (null once their account is gone)")
    can_change: bool = Field(description="Whether you may rename or delete it (who saved it, the workspace's owners "
                                         "and admins)")
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, workflow: Workflow, can_change: bool) -> WorkflowOut:
        return cls(id=workflow.id, workspace_id=workflow.workspace_id, name=workflow.name,
                   description=workflow.description, node_count=workflow.node_count,
                   has_preview=workflow.preview is not None, created_by=workflow.created_by,
                   can_change=can_change, created_at=workflow.created_at, updated_at=workflow.updated_at)


class WorkflowWithGraph(WorkflowOut):
    graph: Fragment
