"""Hires fix: a picture made at the size the model knows, enlarged (its latents, or the picture), then refined by
image-to-image at a denoise strength — more detail at a size the model would otherwise fill with repeats."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mediastudio.engine.context import NodeContext
from mediastudio.engine.nodes.diffusion import HEIGHT, WIDTH
from mediastudio.engine.nodes.diffusion_base import MODEL, NEGATIVE, PROMPT, SEED, call_pipeline
from mediastudio.engine.nodes.steering import Guided
from mediastudio.engine.registry import node
from mediastudio.errors import TaskFailed

MAX_PIXELS = 4096 * 4096


@node("hires_fix", title="Hires fix", category="Generate",
      description="A picture from a prompt at the base size, enlarged and refined by image-to-image: a large "
                  "picture with more detail than the model makes at that size directly.")
class HiresFix(Guided):
    takes_ip_adapter = False  # its refining pass would need the reference too
    inputs = {"prompt": PROMPT, "negative_prompt": NEGATIVE, "model": MODEL, "seed": SEED}
    outputs = {"image": "image", "base": "image"}
    width: int = Field(512, ge=64, le=2048, multiple_of=8, description=f"Base pass: {WIDTH[0].lower()}{WIDTH[1:]}")
    height: int = Field(512, ge=64, le=2048, multiple_of=8,
                        description=f"Base pass: {HEIGHT[0].lower()}{HEIGHT[1:]}")
    scale: float = Field(2.0, ge=1.0, le=4.0, description="How many times larger the final picture is than the "
                                                          "base (rounded to a multiple of 8 pixels)")
    upscaler: Literal["latent", "latent_nearest", "lanczos", "bicubic"] = Field(
        "latent", description="How the base is enlarged: its latents (bilinear, or nearest: sharper, needs a "
                              "denoise of 0.5 or more) or the decoded picture (lanczos, bicubic: keeps its look)")
    denoise: float = Field(0.5, ge=0.0, le=1.0, description="How much the refining pass changes the enlarged "
                                                            "picture (0.3–0.6 is usual; more invents new detail)")
    hires_steps: int = Field(0, ge=0, le=150, description="Denoising steps of the refining pass before the denoise "
                                                          "cuts them (0: the same as the base pass)")

    def _refine_steps(self) -> int:
        return int((self.hires_steps or self.steps_) * self.denoise)

    def steps(self) -> int:
        return self.steps_ + self._refine_steps()

    def _size(self) -> tuple[int, int]:
        width = max(64, round(self.width * self.scale / 8) * 8)
        height = max(64, round(self.height * self.scale / 8) * 8)
        if width * height > MAX_PIXELS:
            raise TaskFailed(f"{width}×{height} is larger than the hires fix makes (16 megapixels).",
                             code="too_large", hint="Use a smaller scale or base size.")
        return width, height

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        import torch

        width, height = self._size()
        latent = self.upscaler.startswith("latent")
        refine = self._refine_steps()
        with self.prepared(inputs, ctx, "text-to-image", then="image-to-image",
                           size=(self.width, self.height)) as (pipe, args, refiner):
            args["callback_on_step_end"] = self.stepper(ctx, 0, self.steps_, "base pass")
            first = call_pipeline(pipe, {**args, "width": self.width, "height": self.height,
                                         "num_images_per_prompt": 1, "output_type": "latent" if latent else "pil"})
            base = self._decode(pipe, first.images) if latent else first.images[0]
            if latent:
                mode = "nearest-exact" if self.upscaler == "latent_nearest" else "bilinear"
                factor = getattr(pipe, "vae_scale_factor", 8)
                start = torch.nn.functional.interpolate(first.images, size=(height // factor, width // factor),
                                                        mode=mode)
            else:
                from PIL import Image

                filters = {"lanczos": Image.Resampling.LANCZOS, "bicubic": Image.Resampling.BICUBIC}
                start = base.resize((width, height), filters[self.upscaler])
            ctx.facts["hires"] = {"size": [width, height], "base_size": [self.width, self.height],
                                  "upscaler": self.upscaler, "denoise": self.denoise, "steps": refine}
            if refine == 0:  # nothing to refine: the enlarged picture as it is
                image = self._decode(pipe, start) if latent else start
                ctx.progress(self.steps(), self.steps(), None, "refining")
                return {"image": image, "base": base}
            seed = ctx.facts["seed"]
            second = {**args, "num_inference_steps": self.hires_steps or self.steps_, "strength": self.denoise,
                      "image": start, "generator": torch.Generator(device="cpu").manual_seed(seed),
                      "callback_on_step_end": self.stepper(ctx, self.steps_, refine, "refining")}
            result = call_pipeline(refiner, second)
        return {"image": result.images[0], "base": base}

    @staticmethod
    def _decode(pipe: Any, latents: Any) -> Any:
        """The picture of `latents` (the pipeline's own VAE, as its `output_type="pil"` would make it)."""
        import torch

        with torch.no_grad():
            vae = pipe.vae
            decoded = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor, return_dict=False)[0]
        return pipe.image_processor.postprocess(decoded, output_type="pil")[0]
