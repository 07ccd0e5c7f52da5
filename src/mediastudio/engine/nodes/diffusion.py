"""Diffusion nodes on diffusers pipelines: text-to-image, image-to-image, inpaint, an upscaler model,
text/image-to-video (what they share: diffusion_base.py; sampler, CLIP skip, VAE and LoRAs: steering.py)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mediastudio.engine.context import NodeContext
from mediastudio.engine.nodes.diffusion_base import MODEL, NEGATIVE, PROMPT, SEED, Diffusion, Sized, call_pipeline
from mediastudio.engine.nodes.steering import Guided
from mediastudio.engine.registry import Port, node

WIDTH = "Width in pixels, a multiple of 8 (larger needs more GPU memory)"
HEIGHT = "Height in pixels, a multiple of 8 (larger needs more GPU memory)"


@node("text_to_image", title="Text to image", category="Generate", description="A picture from a prompt.")
class TextToImage(Guided):
    inputs = {"prompt": PROMPT, "negative_prompt": NEGATIVE, "model": MODEL, "seed": SEED}
    outputs = {"image": "image"}
    width: int = Field(512, ge=64, le=2048, multiple_of=8, description=WIDTH)
    height: int = Field(512, ge=64, le=2048, multiple_of=8, description=HEIGHT)

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        with self.prepared(inputs, ctx, "text-to-image", size=(self.width, self.height)) as (pipe, args, _):
            result = call_pipeline(pipe, {**args, "width": self.width, "height": self.height,
                                          "num_images_per_prompt": 1})
        return {"image": result.images[0]}


@node("image_to_image", title="Image to image", category="Generate",
      description="A picture re-imagined from another, guided by a prompt.")
class ImageToImage(Guided):
    inputs = {"image": Port("image", description="The starting picture"), "prompt": PROMPT,
              "negative_prompt": NEGATIVE, "model": MODEL, "seed": SEED}
    outputs = {"image": "image"}
    strength: float = Field(0.6, ge=0.0, le=1.0, description="How much to change (1 = ignore the picture)")

    def steps(self) -> int:
        return max(1, int(self.steps_ * self.strength))

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        image = inputs["image"].convert("RGB")
        with self.prepared(inputs, ctx, "image-to-image", size=image.size) as (pipe, args, _):
            result = call_pipeline(pipe, {**args, "image": image, "strength": self.strength})
        return {"image": result.images[0]}


@node("inpaint", title="Inpaint", category="Generate",
      description="Repaint the white part of a mask, keep the rest.")
class Inpaint(Guided):
    inputs = {"image": Port("image", description="The picture"), "mask": Port("mask", description="White = repaint"),
              "prompt": PROMPT, "negative_prompt": NEGATIVE, "model": MODEL, "seed": SEED}
    outputs = {"image": "image"}
    strength: float = Field(1.0, ge=0.0, le=1.0, description="How much to change inside the mask")

    def steps(self) -> int:
        return max(1, int(self.steps_ * self.strength))

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        image = inputs["image"].convert("RGB")
        mask = inputs["mask"].convert("L").resize(image.size)
        with self.prepared(inputs, ctx, "inpaint", size=image.size) as (pipe, args, _):
            result = call_pipeline(pipe, {**args, "image": image, "mask_image": mask, "strength": self.strength,
                                          "width": image.width, "height": image.height})
        return {"image": keep_unmasked(image, result.images[0], mask)}


def keep_unmasked(image: Any, repainted: Any, mask: Any) -> Any:
    """The picture where the mask is black, the repainted one where it is white, blended where it is grey (a
    feathered edge): the pipeline's own result passes the whole picture through the VAE, which shifts every
    pixel a little, and the part a person chose to keep must stay exactly as it was."""
    from PIL import Image

    repainted = repainted.convert("RGB")
    if repainted.size != image.size:
        repainted = repainted.resize(image.size, Image.Resampling.LANCZOS)
    return Image.composite(repainted, image, mask)


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
