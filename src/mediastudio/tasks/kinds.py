"""Task kinds: what a task does, on which lane, who may start it, and how big it is (for the ETA).

A kind is a function `run(ctx, params) -> result dict` registered with `@task_kind(...)`. It reports
progress through `ctx.progress(step, total, message)` and calls `ctx.check_cancelled()` at every step;
it writes partial outputs only under `ctx.scratch`, which is discarded unless the task succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from mediastudio.tasks.context import TaskContext

Lane = Literal["gpu", "cpu"]
LANES: tuple[Lane, ...] = ("gpu", "cpu")
# Which project right starting a kind needs; "admin" = administrators only, no project.
Needs = Literal["view", "edit", "run", "admin", "none"]


@dataclass(frozen=True)
class TaskKind:
    name: str
    lane: Lane
    run: Callable[[TaskContext, dict[str, Any]], dict[str, Any] | None]
    params: type[BaseModel]
    title: Callable[[BaseModel], str]
    size: Callable[[BaseModel], float]
    needs: Needs = "view"
    project: bool = True  # takes a project_id
    test_only: bool = False  # creatable only with the test_tasks setting on


KINDS: dict[str, TaskKind] = {}


def task_kind(name: str, *, lane: Lane, params: type[BaseModel], title: Callable[[Any], str],
              size: Callable[[Any], float] = lambda _: 1.0, needs: Needs = "view", project: bool = True,
              test_only: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(run: Callable[..., Any]) -> Callable[..., Any]:
        KINDS[name] = TaskKind(name, lane, run, params, title, size, needs, project, test_only)
        return run

    return register


def load_builtin_kinds() -> dict[str, TaskKind]:
    import mediastudio.engine.run
    import mediastudio.models.pull
    import mediastudio.tasks.builtin  # noqa: F401  (kinds register on import)

    return KINDS
