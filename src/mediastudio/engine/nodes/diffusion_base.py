"""What the diffusion nodes share: the pipeline call, the seed, progress per step, the model a `model` port brings.

Every run is seeded explicitly (a CPU generator, so a seed gives the same picture on any device), reports
each denoising step, and is cancelled within one step by raising from `callback_on_step_end`.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar

from pydantic import Field

from mediastudio.engine.context import NodeContext
from mediastudio.engine.previews import PREVIEW_SECONDS, latent_preview
from mediastudio.engine.registry import NodeType, Port
from mediastudio.errors import TaskFailed

PROMPT = Port("text", description="The prompt", fallback="prompt_text")
NEGATIVE = Port("text", required=False, description="What to avoid")
MODEL = Port("model", required=False, description="The model (default: the first installed one)")
SEED = Port("seed", required=False, description="The seed (default: the node's own)")


IMAGE_MODELS: tuple[str, ...] = ("text-to-image", "inpaint")


def model_name(value: Any) -> str | None:
    """The model's name in what a `model` port carries: a name (a Model node) or a LoRA node's
    {"name", "loras"} (`None`: the default model)."""
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) and value else None


def model_loras(value: Any) -> list[tuple[str, float]]:
    """The (file, weight) of each LoRA that LoRA nodes put on the model a `model` port carries, in order."""
    loras = value.get("loras") if isinstance(value, dict) else None
    return [(str(item["file"]), float(item["weight"])) for item in loras or []
            if isinstance(item, dict) and "file" in item and "weight" in item]


def model_ip_adapter(value: Any) -> dict[str, Any] | None:
    """The IP-Adapter an IP-Adapter node put on the model a `model` port carries ({"name", "scale", "image": the
    reference picture's blob}), if one did."""
    adapter = value.get("ip_adapter") if isinstance(value, dict) else None
    return adapter if isinstance(adapter, dict) and {"name", "scale", "image"} <= adapter.keys() else None


def model_value(value: Any) -> dict[str, Any]:
    """What a `model` port carries, as the dict a LoRA or IP-Adapter node adds to ({"name", "loras", …})."""
    return {**(value if isinstance(value, dict) else {}), "name": model_name(value),
            "loras": [{"file": f, "weight": w} for f, w in model_loras(value)]}
def model_controlnets(value: Any) -> list[dict[str, Any]]:
    """What each ControlNet node put on the model a `model` port carries, in order: its `controlnet` (a folder
    of models/), `image` (the control picture's blob), `strength`, `start` and `end`."""
    controls = value.get("controlnets") if isinstance(value, dict) else None
    keys = ("controlnet", "image", "strength", "start", "end")
    return [item for item in controls or [] if isinstance(item, dict) and all(k in item for k in keys)]


def call_pipeline(pipe: Any, args: dict[str, Any], facts: dict[str, Any] | None = None) -> Any:
    """Call a diffusers pipeline with the arguments it takes (video pipelines differ: Stable Video Diffusion has no
    prompt and guides with min/max_guidance_scale). What was left out is noted in `facts["unused"]`."""
    accepted = _parameters(pipe.__class__)
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


@cache
def _parameters(pipeline: Any) -> Mapping[str, inspect.Parameter]:
    """What a pipeline class's `__call__` takes, read once per class (reading a signature costs ~40 µs, on every
    run's path)."""
    return inspect.signature(pipeline.__call__).parameters


class Diffusion(NodeType):
    model_kinds = IMAGE_MODELS
    live_previews: ClassVar[bool] = True  # latents in Stable Diffusion's space: shown while it runs
    takes_loras: ClassVar[bool] = False
    takes_ip_adapter: ClassVar[bool] = False
    takes_controlnets: ClassVar[bool] = False
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

    def stepper(self, ctx: NodeContext, offset: int, span: int, phase: str | None = None) -> Any:
        """`callback_on_step_end` for a pass worth `span` of this node's steps, starting at `offset`: it checks for a
        cancel, reports progress (scaled to the pipeline's own count of steps, which a second-order sampler doubles,
        or strength cuts) and a live preview now and then."""
        shown = [0.0]  # when the last live preview was made
        total = max(1, self.steps())

        def on_step(pipe: Any, step: int, _timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            ctx.check_cancelled()  # raises Cancelled: the pipeline stops here, cleanly
            count = getattr(pipe, "_num_timesteps", None) or span
            done = offset + min(span, round((step + 1) * span / max(1, count)))
            preview = None
            if self.live_previews and done < total and time.monotonic() - shown[0] >= PREVIEW_SECONDS:
                preview = latent_preview(kwargs.get("latents"))
                shown[0] = time.monotonic()
            ctx.progress(done, total, preview, phase)
            return kwargs

        return on_step

    def _common(self, inputs: dict[str, Any], ctx: NodeContext, pipe_kind: str,
                facts_key: str | None = None, controlnets: tuple[Any, ...] = ()) -> tuple[Any, dict[str, Any]]:
        """The pipeline and the call's common arguments. What made the picture goes into the node's facts (the
        asset's provenance) — under `facts_key` for a finishing step (an upscaler), so the generator's stay."""
        import torch

        if model_loras(inputs.get("model")) and not self.takes_loras:
            raise TaskFailed(f"'{self.title}' takes no LoRA.", code="lora_mismatch",
                             hint="Connect the Model node to it directly, without the LoRA node.")
        if model_ip_adapter(inputs.get("model")) and not self.takes_ip_adapter:
            raise TaskFailed(f"'{self.title}' takes no IP-Adapter.", code="ip_adapter_mismatch",
                             hint="Connect the model to it without the IP-Adapter node.")
        if model_controlnets(inputs.get("model")) and not self.takes_controlnets:
            raise TaskFailed(f"'{self.title}' takes no ControlNet.", code="controlnet_mismatch",
                             hint="Connect the Model node to it without the ControlNet node.")
        name = ctx.models.resolve_name(model_name(inputs.get("model")))
        pipe = ctx.models.pipeline(name, pipe_kind, controlnets)
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
        args: dict[str, Any] = {
            "prompt": inputs.get("prompt", self.prompt_text),
            "num_inference_steps": self.steps_,
            "guidance_scale": self.guidance_scale,
            "generator": torch.Generator(device="cpu").manual_seed(seed),
            "callback_on_step_end": self.stepper(ctx, 0, self.steps()),
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


