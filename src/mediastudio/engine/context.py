"""What a node sees while it runs: the narrow door to the rest of the studio (docs/architecture.md, "Engine").

A node receives only this context: its progress, the cancel check, the models, the run's index, the
project's assets (read and write) and the facts it records. It never sees the task system or the executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

    from mediastudio.engine.executor import Execution
    from mediastudio.models.pipelines import PipelineCache
    from mediastudio.storage.blobs import BlobStore


@dataclass
class NodeContext:
    execution: Execution  # private to the engine: nodes use the methods below
    node_id: str
    title: str
    total_steps: int
    facts: dict[str, Any] = field(default_factory=dict)  # recorded for provenance: seed, model, …

    @property
    def models(self) -> PipelineCache:
        return self.execution.models

    @property
    def blobs(self) -> BlobStore:
        return self.execution.blobs

    @property
    def device(self) -> str:
        return str(self.execution.models.device)

    @property
    def project_id(self) -> str | None:
        return self.execution.project_id

    @property
    def run_index(self) -> int:
        """How many runs of this scene succeeded before this one (seeds step on with it)."""
        return self.execution.run_index

    def progress(self, step: int, total: int | None = None, preview: str | None = None,
                 phase: str | None = None) -> None:
        """Step `step` of this node's `total` (default: its declared steps); `preview`: a small picture of the work
        so far (a data: URL), shown on the node while it runs; `phase`: which part of its work a node of several
        passes is in ("refining"), said in the task's message and the node's state."""
        self.execution.node_progress(self, step, total or self.total_steps, preview, phase)

    def check_cancelled(self) -> None:
        self.execution.task.check_cancelled()

    def upstream_facts(self) -> dict[str, Any]:
        """Facts (seed, model, the generating node) of every node this one depends on, nearest last."""
        return self.execution.upstream_facts(self.node_id)

    def load_image(self, asset_id: str) -> Image:
        """A picture asset of the run's project (TaskFailed outside a project)."""
        return self.execution.load_asset_image(asset_id)

    def load_video(self, asset_id: str) -> Path:
        """The file of a video asset of the run's project (TaskFailed outside a project)."""
        return self.execution.load_asset_video(asset_id)

    def encoded(self, image: Any) -> str | None:
        """The sha256 of the PNG the output cache already stored for `image`, if it did."""
        return self.execution.cache.encoded(image)

    def encoded_png(self, image: Any) -> bytes | None:
        """The PNG bytes the output cache stored for `image`, if it did (kept in memory a moment: no read back)."""
        return self.execution.cache.encoded_png(image)

    def create_assets(self, items: list[tuple[str, bytes, dict[str, Any]]], tags: list[str]) -> list[str]:
        return self.execution.create_assets(self, items, tags)
