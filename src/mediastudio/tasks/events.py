"""The task and queue events of `WS /api/v1/events`, and `hello`, the message that opens the stream.

task.* events reach the task's owner and administrators, whatever the workspace, and those of a shared kind (a
scene's run: `shared` is true) every member of the task's workspace too, with the owner's name; queue.* events reach
everyone (each subscriber sees only its own tasks in `queue.changed`; administrators see all). Webhooks
forward task.queued, started, succeeded, failed and cancelled (webhooks/service.py).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field

from mediastudio.events.schema import AddressedEvent, Event, Message, Part
from mediastudio.tasks.schemas import TaskOut, task_out
from mediastudio.tasks.tables import Task


class TaskEvent(AddressedEvent):
    """A task changed: its whole record as it is now (compare `task.revision` to drop stale ones)."""

    task: TaskOut
    shared: bool = Field(False, description="Every member of the task's workspace hears it too (a scene's run: "
                                            "everyone who opens the scene sees it), not only its owner")

    @classmethod
    def about(cls, task: Task, *, shared: bool = False, owner_name: str | None = None,
              leave_out: frozenset[str] = frozenset()) -> Self:
        """The event of `task` as it is now; `leave_out`: params it does not carry (see TaskKind.queued_only_params)."""
        # type and version: each concrete type (TaskQueued…) has them as defaults, which the pydantic mypy
        # plugin cannot know of a `cls` typed as this base
        return cls(workspace_id=task.workspace_id, audience=task.owner_id,  # type: ignore[call-arg]
                   task=task_out(task, owner_name=owner_name, leave_out=leave_out), shared=shared)


class TaskQueued(TaskEvent):
    """A task was submitted, or queued again after a restart interrupted it."""

    type: Literal["task.queued"] = "task.queued"
    version: Literal[1] = 1


class TaskStarted(TaskEvent):
    """A worker took the task."""

    type: Literal["task.started"] = "task.started"
    version: Literal[1] = 1


class TaskProgress(TaskEvent):
    """A running task's step, progress, ETA or live detail changed (a cancel asked for, too)."""

    type: Literal["task.progress"] = "task.progress"
    version: Literal[1] = 1


class TaskSucceeded(TaskEvent):
    """The task is done; `task.result` holds what it made."""

    type: Literal["task.succeeded"] = "task.succeeded"
    version: Literal[1] = 1


class TaskFailed(TaskEvent):
    """The task stopped with an error (`task.error`)."""

    type: Literal["task.failed"] = "task.failed"
    version: Literal[1] = 1


class TaskCancelled(TaskEvent):
    """The task was cancelled, before or while it ran."""

    type: Literal["task.cancelled"] = "task.cancelled"
    version: Literal[1] = 1


# The event that announces a task's end, by its final status.
ENDED: dict[str, type[TaskEvent]] = {"succeeded": TaskSucceeded, "failed": TaskFailed, "cancelled": TaskCancelled}


class QueueLane(Part):
    """One lane of the queue: its workers, whether it is paused, what runs and waits on it."""

    name: str
    workers: int
    paused: bool
    running: int
    queued: int
    backlog_seconds: float | None = Field(description="Until the last waiting task is done (null: no history yet)")


class QueuePlace(Part):
    """Where one waiting or running task stands."""

    id: str
    owner_id: str
    lane: str
    status: str
    position: int | None = Field(description="1 = next to start on its lane; null while running")
    starts_in_seconds: float | None
    eta_seconds: float | None = Field(description="Until it is done")
    progress: float


class QueueChanged(Event):
    """The queue moved: every lane's counts, and the places of the waiting and running tasks one may see
    (one's own; administrators: everyone's). At most 4 a second."""

    type: Literal["queue.changed"] = "queue.changed"
    version: Literal[1] = 1
    workspace_id: None = None
    lanes: list[QueueLane]
    tasks: list[QueuePlace] = Field(description="In run order: running first, then waiting")


class QueuePaused(Event):
    """An administrator paused or resumed lanes (running tasks finish; no new ones start)."""

    type: Literal["queue.paused"] = "queue.paused"
    version: Literal[1] = 1
    workspace_id: None = None
    lanes: list[str]
    paused: bool


class QueueSnapshot(Part):
    """The queue as `queue.changed` tells it, without the event's own fields."""

    type: Literal["queue.changed"] = "queue.changed"
    lanes: list[QueueLane]
    tasks: list[QueuePlace]


class Hello(Message):
    """The first message after every (re)connect: the state now, so a client needs nothing else."""

    type: Literal["hello"] = "hello"
    version: Literal[1] = 1
    user_id: str
    tasks: list[TaskOut] = Field(description="The caller's active tasks and its 20 most recently finished")
    queue: QueueSnapshot
