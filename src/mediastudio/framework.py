"""How this app uses Litestar beyond its defaults.

Litestar resolves the dependencies of one handler that do not depend on each other concurrently: for every request
of a handler with two or more of them it opens an anyio task group and starts one task per dependency. Ours are
plain lookups of a service or of the request's identity (sync, never awaited), so the task group is pure cost:
a quarter of the time of a `GET /api/v1/health` at 100 clients went to spawning those tasks. `resolve_in_order`
resolves them one after another, in the request's own task, with the same cleanup of generator dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection


async def resolve_in_order(self: KwargsModel, connection: ASGIConnection[Any, Any, Any, Any],
                           kwargs: dict[str, Any]) -> DependencyCleanupGroup:
    """`KwargsModel.resolve_dependencies`, one dependency after another (batches keep their order: a batch only
    needs the ones before it)."""
    cleanup_group = DependencyCleanupGroup()
    for batch in self.dependency_batches:
        for dependency in batch:
            await resolve_dependency(dependency, connection, kwargs, cleanup_group)
    return cleanup_group


def resolve_dependencies_in_order() -> None:
    """Install `resolve_in_order` (idempotent; called by `create_app`)."""
    KwargsModel.resolve_dependencies = resolve_in_order  # type: ignore[method-assign]
