"""Image reference by IP-Adapter: the IP-Adapter node puts an adapter, its scale and a reference picture on the
model (chained between the Model node and a picture node, as a LoRA is); the picture node loads the adapter for
its run and unloads it afterwards (steering.py, models/ipadapters.py)."""

from __future__ import annotations

import io
from typing import Any

from pydantic import Field

from mediastudio.engine.context import NodeContext
from mediastudio.engine.nodes.diffusion_base import model_ip_adapter, model_value
from mediastudio.engine.registry import NodeType, Port, node
from mediastudio.errors import TaskFailed
from mediastudio.models.ipadapters import HINT


def reference_image(ctx: NodeContext, sha256: str) -> Any:
    """The reference picture an IP-Adapter node stored (a blob of the output cache), as RGB."""
    from PIL import Image

    if not ctx.blobs.has(sha256):
        raise TaskFailed("The IP-Adapter's reference picture is gone from the store.", code="missing_input",
                         hint="Run the scene again (the IP-Adapter node stores it anew).")
    with Image.open(ctx.blobs.path(sha256)) as image:
        return image.convert("RGB")


def _stored(ctx: NodeContext, image: Any) -> str:
    """The blob of `image` as PNG: the one the output cache wrote for it already, else a new one."""
    known = ctx.encoded(image)
    if known:
        return known
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ctx.blobs.put_bytes(buffer.getvalue())


@node("ip_adapter", title="IP-Adapter", category="Models",
      description="Steers the picture by a reference image through an IP-Adapter (weights in the data folder's "
                  "ipadapters/), at a scale; put it on the model between the Model node and a picture node.")
class IpAdapter(NodeType):
    inputs = {"model": Port("model", required=False, description="The model (default: the first installed one)"),
              "image": Port("image", description="The reference picture")}
    outputs = {"model": "model"}
    fits_base = {"adapter": "ipadapters"}  # planning checks it is installed, and its base (engine/fit.py)
    adapter: str = Field("", max_length=200, json_schema_extra={"x-options": "ipadapters"},
                         description="The IP-Adapter: the path of its weights inside the data folder's ipadapters/ "
                                     "(e.g. 'models/ip-adapter_sd15.safetensors')")
    scale: float = Field(0.6, ge=0.0, le=2.0,
                         description="How strongly the reference steers the picture: 0 not at all, 1 strongly "
                                     "(0.4–0.7 keeps the prompt in play)")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        if not self.adapter:
            raise TaskFailed("No IP-Adapter chosen.", code="missing_input",
                             hint=f"Pick one in the inspector. {HINT}")
        ctx.models.ipadapters.find(self.adapter)  # refused here already when it is not installed
        value = model_value(inputs.get("model"))
        if model_ip_adapter(value):
            raise TaskFailed("The model has an IP-Adapter already: one per model.", code="ip_adapter_mismatch",
                             hint="Remove one of the IP-Adapter nodes on this model.")
        reference = {"name": self.adapter, "scale": self.scale, "image": _stored(ctx, inputs["image"])}
        return {"model": {**value, "ip_adapter": reference}}
