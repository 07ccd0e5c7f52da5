"""Diffusion nodes on diffusers pipelines: text-to-image, image-to-image, inpaint, text/image-to-video.

Every run is seeded explicitly (a CPU generator, so a seed gives the same picture on any device), reports
each denoising step, and is cancelled within one step by raising from `callback_on_step_end`.
"""

from __future__ import annotations

import inspect
import time
from typing import Any, ClassVar

from pydantic import Field

from mediastudio.engine.context import NodeContext
from mediastudio.engine.previews import PREVIEW_SECONDS, latent_preview
from mediastudio.engine.registry import NodeType, Port, node

PROMPT = Port("text", description="The prompt", fallback="prompt_text")
NEGATIVE = Port("text", required=False, description="What to avoid")
MODEL = Port("model", required=False, description="The model (default: the first installed one)")
SEED = Port("seed", required=False, description="The seed (default: the node's own)")


IMAGE_MODELS: tuple[str, ...] = ("text-to-image", "inpaint")


def call_pipeline(pipe: Any, args: dict[str, Any], facts: dict[str, Any] | None = None) -> Any:
    """Call a diffusers pipeline with the arguments it takes (video pipelines differ: Stable Video Diffusion has no
    prompt and guides with min/max_guidance_scale). What was left out is noted in `facts["unused"]`."""
    accepted = inspect.signature(pipe.__call__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return pipe(**args)
    args = dict(args)
    on_step = args.get("callback_on_step_end")
    if on_step is not None and "callback_on_step_end" not in accepted and "callback" in accepted:
        # Older pipelines (the upscalers) call back with (step, timestep, latents): the same cancel point.
        args["callback"] = lambda step, timestep, latents: on_step(pipe, step, timestep, {"latents": latents})
        args["callback_steps"] = 1
        del args["callback_on_step_end"]
    if "guidance_scale" in args and "guidance_scale" not in accepted and "max_guidance_scale" in accepted:
        args["max_guidance_scale"] = max(1.0, args.pop("guidance_scale"))
    unused = sorted(k for k in args if k not in accepted)
    if facts is not None and unused:
        facts["unused"] = unused
    return pipe(**{k: v for k, v in args.items() if k in accepted})


class Diffusion(NodeType):
    model_kinds = IMAGE_MODELS
    live_previews: ClassVar[bool] = True  # latents in Stable Diffusion's space: shown while it runs
    prompt_text: str = Field("", max_length=10_000, description="The prompt, when no prompt node is connected",
                             json_schema_extra={"x-widget": "prompt"})
    steps_: int = Field(20, ge=1, le=150, alias="steps",
                        description="Denoising steps: more take longer and add detail (20–30 suit most models)")
    guidance_scale: float = Field(7.0, ge=0.0, le=30.0,
                                  description="How closely to follow the prompt: higher is more literal (5–9 is usual)")
    seed_value: int = Field(0, ge=0, le=2**32 - 1, alias="seed", description="Used when no seed node is connected",
                            json_schema_extra={"x-widget": "seed"})

    model_config = {"populate_by_name": True, "extra": "ignore"}

    def steps(self) -> int:
        return self.steps_

    def _common(self, inputs: dict[str, Any], ctx: NodeContext, pipe_kind: str,
                facts_key: str | None = None) -> tuple[Any, dict[str, Any]]:
        """The pipeline and the call's common arguments. What made the picture goes into the node's facts (the
        asset's provenance) — under `facts_key` for a finishing step (an upscaler), so the generator's stay."""
        import torch

        name = ctx.models.resolve_name(inputs.get("model"))
        pipe = ctx.models.pipeline(name, pipe_kind)
        seed = int(inputs["seed"]) if "seed" in inputs else self.seed_value
        facts: dict[str, Any] = {"model": name, "seed": seed, "node_type": self.type_id,
                                 "params": self.model_dump(mode="json", by_alias=True),
                                 "prompt": inputs.get("prompt", self.prompt_text)}
        if inputs.get("negative_prompt"):
            facts["negative_prompt"] = inputs["negative_prompt"]
        if facts_key:
            ctx.facts[facts_key] = {"node": ctx.node_id, **facts}
        else:
            ctx.facts.update({**facts, "generator_node": ctx.node_id})
        total = self.steps_
        shown = [0.0]  # when the last live preview was made

        def on_step(_pipe: Any, step: int, _timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            ctx.check_cancelled()  # raises Cancelled: the pipeline stops here, cleanly
            preview = None
            if self.live_previews and step + 1 < total and time.monotonic() - shown[0] >= PREVIEW_SECONDS:
                preview = latent_preview(kwargs.get("latents"))
                shown[0] = time.monotonic()
            ctx.progress(step + 1, total, preview)
            return kwargs

        args: dict[str, Any] = {
            "prompt": inputs.get("prompt", self.prompt_text),
            "num_inference_steps": total,
            "guidance_scale": self.guidance_scale,
            "generator": torch.Generator(device="cpu").manual_seed(seed),
            "callback_on_step_end": on_step,
        }
        if inputs.get("negative_prompt"):
            args["negative_prompt"] = inputs["negative_prompt"]
        ctx.check_cancelled()
        return pipe, args


class Sized(Diffusion):
    width: int = Field(512, ge=64, le=2048, multiple_of=8,
                       description="Width in pixels, a multiple of 8 (larger needs more GPU memory)")
    height: int = Field(512, ge=64, le=2048, multiple_of=8,
                        description="Height in pixels, a multiple of 8 (larger needs more GPU memory)")


@node("text_to_image", title="Text to image", category="Generate", description="A picture from a prompt.")
class TextToImage(Sized):
    inputs = {"prompt": PROMPT, "negative_prompt": NEGATIVE, "model": MODEL, "seed": SEED}
    outputs = {"image": "image"}

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        pipe, args = self._common(inputs, ctx, "text-to-image")
        result = call_pipeline(pipe, {**args, "width": self.width, "height": self.height, "num_images_per_prompt": 1})
        return {"image": result.images[0]}


@node("image_to_image", title="Image to image", category="Generate",
      description="A picture re-imagined from another, guided by a prompt.")
class ImageToImage(Diffusion):
    inputs = {"image": Port("image", description="The starting picture"), "prompt": PROMPT,
              "negative_prompt": NEGATIVE, "model": MODEL, "seed": SEED}
    outputs = {"image": "image"}
    strength: float = Field(0.6, ge=0.0, le=1.0, description="How much to change (1 = ignore the picture)")

    def steps(self) -> int:
        return max(1, int(self.steps_ * self.strength))

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        pipe, args = self._common(inputs, ctx, "image-to-image")
        image = inputs["image"].convert("RGB")
        result = call_pipeline(pipe, {**args, "image": image, "strength": self.strength})
        return {"image": result.images[0]}


@node("inpaint", title="Inpaint", category="Generate",
      description="Repaint the white part of a mask, keep the rest.")
class Inpaint(Diffusion):
    inputs = {"image": Port("image", description="The picture"), "mask": Port("mask", description="White = repaint"),
              "prompt": PROMPT, "negative_prompt": NEGATIVE, "model": MODEL, "seed": SEED}
    outputs = {"image": "image"}
    strength: float = Field(1.0, ge=0.0, le=1.0, description="How much to change inside the mask")

    def steps(self) -> int:
        return max(1, int(self.steps_ * self.strength))

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        pipe, args = self._common(inputs, ctx, "inpaint")
        image = inputs["image"].convert("RGB")
        mask = inputs["mask"].convert("L").resize(image.size)
        result = call_pipeline(pipe, {**args, "image": image, "mask_image": mask, "strength": self.strength,
                                      "width": image.width, "height": image.height})
        return {"image": result.images[0]}


@node("upscale_model", title="Upscale with a model", category="Image",
      description="A larger, sharper picture from an installed upscaler model (Stable Diffusion x4 or latent ×2).")
class UpscaleWithModel(Diffusion):
    model_kinds = ("upscale",)
    live_previews = False  # its latents live in the upscaler's own space
    inputs = {"image": Port("image", description="The picture"), "model": Port("model", description="An upscaler"),
              "prompt": Port("text", required=False, description="What the picture shows (helps the details)"),
              "negative_prompt": NEGATIVE, "seed": SEED}
    outputs = {"image": "image"}
    guidance_scale: float = Field(7.5, ge=0.0, le=30.0,
                                  description="How closely to follow the prompt: higher is more literal (5–9 is usual)")
    noise_level: int = Field(20, ge=0, le=350, description="Noise added to the picture first (more: new details)")
    factor: float = Field(0.0, ge=0.0, le=8.0, description="Final size, times the input (0: as the model makes it)")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        from PIL import Image

        pipe, args = self._common(inputs, ctx, "upscale", facts_key="upscaled_with")
        image = inputs["image"].convert("RGB")
        result = call_pipeline(pipe, {**args, "image": image, "noise_level": self.noise_level}, ctx.facts)
        made = result.images[0]
        if self.factor:
            size = (max(1, round(image.width * self.factor)), max(1, round(image.height * self.factor)))
            if size != made.size:
                made = made.resize(size, Image.Resampling.LANCZOS)
        return {"image": made}


class VideoParams(Sized):
    frames: int = Field(16, ge=1, le=257, description="Frames to make (more frames: a longer clip and more GPU memory)")


def _frames(result: Any) -> list[Any]:
    from PIL import Image

    frames = result.frames[0] if hasattr(result, "frames") else result.images
    out = []
    for frame in frames:
        if isinstance(frame, Image.Image):
            out.append(frame.convert("RGB"))
        else:  # numpy array in 0..1
            import numpy as np

            array = np.asarray(frame)
            if array.dtype != np.uint8:
                array = (array.clip(0, 1) * 255).round().astype("uint8")
            out.append(Image.fromarray(array).convert("RGB"))
    return out


@node("text_to_video", title="Text to video", category="Generate",
      description="Frames from a prompt, with an installed text-to-video model.")
class TextToVideo(VideoParams):
    model_kinds = ("text-to-video",)
    inputs = {"prompt": PROMPT, "negative_prompt": NEGATIVE, "model": Port("model", description="A video model"),
              "seed": SEED}
    outputs = {"images": "images"}

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        pipe, args = self._common(inputs, ctx, "text-to-video")
        result = call_pipeline(pipe, {**args, "num_frames": self.frames, "width": self.width, "height": self.height},
                               ctx.facts)
        return {"images": _frames(result)}


@node("image_to_video", title="Image to video", category="Generate",
      description="Frames that set a picture in motion, with an installed image-to-video model.")
class ImageToVideo(VideoParams):
    model_kinds = ("image-to-video",)
    inputs = {"image": Port("image", description="The first frame"),
              "prompt": Port("text", required=False, description="The prompt (for models that take one)"),
              "model": Port("model", description="A video model"), "seed": SEED}
    outputs = {"images": "images"}
    motion: int = Field(127, ge=1, le=255, description="How much motion (Stable Video Diffusion's motion bucket)")
    frame_rate: int = Field(7, ge=1, le=60, description="The frame rate the model is told to aim for")
    noise: float = Field(0.02, ge=0.0, le=1.0, description="Noise added to the first frame (more: freer motion)")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        pipe, args = self._common(inputs, ctx, "image-to-video")
        if not args.get("prompt"):
            args.pop("prompt")
            ctx.facts.pop("prompt", None)
        image = inputs["image"].convert("RGB").resize((self.width, self.height))
        result = call_pipeline(pipe, {**args, "image": image, "num_frames": self.frames, "width": self.width,
                                      "height": self.height, "motion_bucket_id": self.motion, "fps": self.frame_rate,
                                      "noise_aug_strength": self.noise, "decode_chunk_size": 8}, ctx.facts)
        return {"images": _frames(result)}
