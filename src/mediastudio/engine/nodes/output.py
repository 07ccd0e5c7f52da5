"""Shot output: the results of a shot become assets of the project, with provenance."""

from __future__ import annotations

import io
from typing import Any

from pydantic import Field

from mediastudio.engine.context import NodeContext
from mediastudio.engine.registry import NodeType, Port, node
from mediastudio.errors import TaskFailed


@node("shot", title="Shot output", category="Output",
      description="Saves what reaches it as assets of this shot (pictures as PNG, clips as MP4).")
class Shot(NodeType):
    inputs = {"images": Port("images", required=False, description="Pictures"),
              "video": Port("video", required=False, description="A clip")}
    outputs = {"assets": "text"}
    output_node = True
    name: str = Field("Shot", min_length=1, max_length=120, description="The assets' name (each one adds its "
                      "seed, model and take, e.g. 'Shot · seed 1234 · sd-turbo · #3.png')")
    tags: list[str] = Field(default_factory=list, max_length=20,
                            description="Tags given to each saved asset, to find them in the asset browser")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        # Each result is told apart by the seed and model that made it; the writer adds the take ("· #3").
        facts = ctx.upstream_facts()
        seed, model = facts.get("seed"), facts.get("model")
        made_by = (f" · seed {seed}" if isinstance(seed, int) else "") + \
            (f" · {model.replace('#', '')}" if isinstance(model, str) and model.replace("#", "") else "")
        items: list[tuple[str, bytes, dict[str, Any]]] = []
        images = inputs.get("images") or []
        for index, image in enumerate(images, start=1):
            data = ctx.encoded_png(image)  # encoded once already (the cache stored it)?
            if data is None:
                buffer = io.BytesIO()
                image.save(buffer, format="PNG")
                data = buffer.getvalue()
            suffix = f" {index}" if len(images) > 1 else ""
            # Its size goes with it: the writer need not decode the PNG again to read it.
            items.append((f"{self.name}{suffix}{made_by}.png", data,
                          {"shot": f"{self.name}{suffix}", "size": image.size}))
        if inputs.get("video"):
            items.append((f"{self.name}{made_by}.mp4", inputs["video"], {"shot": self.name}))
        if not items:
            raise TaskFailed(f"Nothing reached the shot '{ctx.title}'.", code="missing_input",
                             hint="Connect a picture or a clip to it.")
        ctx.check_cancelled()
        ids = ctx.create_assets(items, ["generated", *self.tags])
        return {"assets": ",".join(ids)}
