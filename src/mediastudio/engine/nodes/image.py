"""Pictures in and out of the graph: load an asset of the project, upscale."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mediastudio.engine.context import NodeContext
from mediastudio.engine.registry import NodeType, Port, node
from mediastudio.errors import TaskFailed


@node("load_image", title="Load image", category="Input",
      description="Pictures from the project's assets (drag one onto the canvas).")
class LoadImage(NodeType):
    outputs = {"image": "image", "images": "images", "mask": "mask"}
    asset_id: str = Field("", max_length=64, json_schema_extra={"x-options": "assets"},
                          description="The project picture to load (or drop an asset onto the canvas)")
    asset_ids: list[str] = Field(default_factory=list, max_length=10_000,
                                 description="Several assets, in order (an image sequence)")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        ids = [i for i in [self.asset_id, *self.asset_ids] if i]
        if not ids:
            raise TaskFailed("No picture chosen.", code="missing_input",
                             hint="Drag an image from the Asset Browser onto the node, or pick one in the inspector.")
        images = [ctx.load_image(asset_id) for asset_id in ids]
        ctx.facts.setdefault("source_assets", ids)
        return {"image": images[0], "images": images, "mask": images[0].convert("L")}


@node("upscale", title="Upscale", category="Image", description="A larger picture (resampled).")
class Upscale(NodeType):
    inputs = {"image": Port("image")}
    outputs = {"image": "image"}
    factor: float = Field(2.0, ge=1.0, le=8.0, description="How many times larger, e.g. 2 turns 512 px into 1024 px")
    method: Literal["lanczos", "bicubic", "nearest"] = Field(
        "lanczos", description="Resampling filter: lanczos is sharpest, nearest keeps hard pixel edges")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        from PIL import Image

        image = inputs["image"]
        size = (max(1, round(image.width * self.factor)), max(1, round(image.height * self.factor)))
        if size[0] * size[1] > 64_000_000:
            raise TaskFailed(f"{size[0]}×{size[1]} is larger than this studio makes (64 megapixels).",
                             code="too_large", hint="Use a smaller factor.")
        filters = {"lanczos": Image.Resampling.LANCZOS, "bicubic": Image.Resampling.BICUBIC,
                   "nearest": Image.Resampling.NEAREST}
        return {"image": image.resize(size, filters[self.method])}
