"""Task records as the API and the events show them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mediastudio.common import UtcDatetime
from mediastudio.tasks.tables import Task


class TaskError(BaseModel):
    code: str
    message: str
    hint: str | None = None


class TaskOut(BaseModel):
    id: str
    kind: str
    lane: str
    title: str
    owner_id: str
    owner_name: str | None = None
    project_name: str | None = Field(None, description="The project's name now (the REST API and the feed's hello "
                                                       "say it; task events do not)")
    workspace_id: str | None
    project_id: str | None
    params: dict[str, Any]
    status: str = Field(description="queued, running, succeeded, failed, cancelled or interrupted "
                                    "(interrupted = stopped by a restart; it runs again once)")
    progress: float = Field(description="0–1")
    step: int
    total: int
    message: str
    eta_seconds: float | None = Field(description="While running: seconds left from the measured rate of its "
                                                  "steps, or (until a rate is measured) from the kind's history "
                                                  "minus the time it has run; while queued: from that history "
                                                  "(until done); null when nothing is known yet")
    step_seconds: float | None = Field(None, description="While running: the measured time of one step (a cancel "
                                                         "takes effect after the current step); null until measured")
    position: int | None = Field(None, description="1 = next to start on its lane; null unless queued")
    starts_in_seconds: float | None = Field(None, description="While queued: the tasks ahead, summed")
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    updated_at: UtcDatetime = Field(description="When this state was recorded (eta_seconds counts from it)")
    error: TaskError | None
    result: dict[str, Any] | None
    detail: dict[str, Any] | None = Field(None, description="Kind-specific live detail: for scene runs, each "
                                                            "node's state (waiting, running, cached, done, error, "
                                                            "cancelled; skipped: not reached, the run failed or was "
                                                            "cancelled first)")
    attempts: int
    cancel_requested: bool
    revision: int


def task_out(task: Task, *, owner_name: str | None = None, project_name: str | None = None, position: int | None = None,
             starts_in: float | None = None, eta: float | None = None, leave_out: frozenset[str] = frozenset()
             ) -> TaskOut:
    error = (TaskError(code=task.error_code or "failed", message=task.error_message, hint=task.error_hint)
             if task.error_message else None)
    return TaskOut(
        id=task.id, kind=task.kind, lane=task.lane, title=task.title, owner_id=task.owner_id, owner_name=owner_name,
        project_name=project_name, workspace_id=task.workspace_id, project_id=task.project_id,
        params={k: v for k, v in task.params.items() if k not in leave_out} if leave_out else task.params,
        status=task.status,
        progress=task.progress, step=task.step, total=task.total, message=task.message,
        eta_seconds=eta if eta is not None else task.eta_seconds, step_seconds=task.step_seconds, position=position,
        starts_in_seconds=starts_in,
        created_at=task.created_at, started_at=task.started_at, finished_at=task.finished_at,
        updated_at=task.updated_at, error=error, detail=task.detail,
        result=task.result, attempts=task.attempts, cancel_requested=task.cancel_requested, revision=task.revision)
