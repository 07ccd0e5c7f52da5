"""What a node sees while it runs: the narrow door to the rest of the studio (DESIGN "Engine and models")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediastudio.engine.executor import Execution


@dataclass
class NodeContext:
    execution: Execution
    node_id: str
    title: str
    total_steps: int
    facts: dict[str, Any] = field(default_factory=dict)  # recorded for provenance: seed, model, …

    @property
    def models(self) -> Any:
        return self.execution.models

    @property
    def blobs(self) -> Any:
        return self.execution.blobs

    @property
    def device(self) -> str:
        return str(self.execution.models.device)

    @property
    def project_id(self) -> str | None:
        return self.execution.project_id

    def progress(self, step: int, total: int | None = None, preview: str | None = None) -> None:
        """Step `step` of this node's `total` (default: its declared steps); `preview`: a small picture of the work
        so far (a data: URL), shown on the node while it runs."""
        self.execution.node_progress(self, step, total or self.total_steps, preview)

    def check_cancelled(self) -> None:
        self.execution.task.check_cancelled()

    def upstream_facts(self) -> dict[str, Any]:
        """Facts (seed, model, the generating node) of every node this one depends on, nearest last."""
        return self.execution.upstream_facts(self.node_id)

    def create_assets(self, items: list[tuple[str, bytes, dict[str, Any]]], tags: list[str]) -> list[str]:
        return self.execution.create_assets(self, items, tags)
