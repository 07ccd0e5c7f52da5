"""Task kinds: what a task does, on which lane, who may start it, and how big it is (for the ETA).

A kind is a function `run(ctx, params) -> result dict` (params as a dict dumped from the kind's model once
validated; the model itself for a kind registered with `takes_model`). It reports progress through
`ctx.progress(step, total, message)` and calls `ctx.check_cancelled()` at every step; it writes partial
outputs only under `ctx.scratch`, which is discarded unless the task succeeds.

The task system knows no kind by itself: each feature offers `register(kinds)` (projects/task_kinds.py,
media/task_kinds.py, engine/run.py, models/pull.py) and the app's composition (kinds.py) builds one
`KindRegistry` per app or worker process from them and from the modules named in `extra_task_kinds`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from mediastudio.tasks.context import TaskContext

Lane = Literal["gpu", "cpu"]
LANES: tuple[Lane, ...] = ("gpu", "cpu")
# Which project right starting a kind needs; "admin" = administrators only, no project.
Needs = Literal["view", "edit", "run", "admin", "none"]
RunFunction = Callable[["TaskContext", Any], dict[str, Any] | None]  # params: a dict (or the model: `takes_model`)


@dataclass(frozen=True)
class TaskKind:
    name: str
    lane: Lane
    run: RunFunction
    params: type[BaseModel]
    title: Callable[[Any], str]
    size: Callable[[Any], float]
    needs: Needs = "view"
    project: bool = True  # takes a project_id
    shared: bool = False  # everyone who may open its project hears its events (a scene's run), not only its owner
    # Params only task.queued carries (a scene run's whole graph): the later events of a run leave them out, since
    # nobody reads them there and each event would encode and compress them again; the REST API keeps them.
    queued_only_params: frozenset[str] = frozenset()
    # `run` is given its params as the validated model itself (`params`' instance), not dumped to a dict: a scene
    # run's graph is then read once in the task, not validated a second time from the dump.
    takes_model: bool = False


class KindRegistry:
    """The task kinds one process offers, by name."""

    def __init__(self) -> None:
        self._kinds: dict[str, TaskKind] = {}

    def add(self, name: str, run: RunFunction, *, lane: Lane, params: type[BaseModel], title: Callable[[Any], str],
            size: Callable[[Any], float] = lambda _: 1.0, needs: Needs = "view", project: bool = True,
            shared: bool = False, queued_only_params: frozenset[str] = frozenset(),
            takes_model: bool = False) -> TaskKind:
        if name in self._kinds:
            raise ValueError(f"The task kind '{name}' is registered twice")
        kind = self._kinds[name] = TaskKind(name, lane, run, params, title, size, needs, project, shared,
                                                queued_only_params, takes_model)
        return kind

    def get(self, name: str) -> TaskKind | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def __iter__(self) -> Iterator[TaskKind]:
        return iter(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds
