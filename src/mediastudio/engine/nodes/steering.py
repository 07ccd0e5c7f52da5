"""Steering a picture model: the sampler and its sigmas, CLIP skip and a VAE override (parameters of the picture
nodes), and LoRAs (the LoRA node, chained on the model between the Model node and a picture node).

The sampler is a parameter, not a node of its own: a port carries a value a node computes, while a sampler is a
choice about how the picture node runs its own pipeline (as its steps and guidance are); as a parameter it is a
select in the inspector and part of the node's parameters in each take's provenance. A LoRA, though, changes
the model itself, and several stack, so it is a node on the `model` port: chain one per LoRA.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from mediastudio.engine.context import NodeContext
from mediastudio.engine.nodes.control import control_arguments, loaded_controlnets
from mediastudio.engine.nodes.diffusion_base import Diffusion, model_ip_adapter, model_loras, model_value
from mediastudio.engine.nodes.reference import reference_image
from mediastudio.engine.registry import NodeType, Port, node
from mediastudio.engine.sampling import (
    SAMPLER_HELP,
    SAMPLER_LABELS,
    SIGMAS_HELP,
    SIGMAS_LABELS,
    SamplerName,
    SigmasName,
    describe_scheduler,
    make_scheduler,
    use_scheduler,
)
from mediastudio.errors import TaskFailed
from mediastudio.models.ipadapters import applied as ip_adapter_applied
from mediastudio.models.loras import applied
from mediastudio.models.vaes import check_fits


class Guided(Diffusion):
    """A picture node whose sampler, CLIP skip and VAE can be chosen, and which takes LoRAs and ControlNets."""

    takes_loras = True
    takes_ip_adapter = True
    fits_base = {"vae": "vaes"}  # planning checks the VAE's base against the model's (engine/fit.py)
    takes_controlnets = True
    # x-labels: what the inspector shows for each value (the names other studios use)
    sampler: SamplerName = Field("default", description=SAMPLER_HELP, json_schema_extra={"x-labels": SAMPLER_LABELS})
    sigmas: SigmasName = Field("default", description=SIGMAS_HELP, json_schema_extra={"x-labels": SIGMAS_LABELS})
    clip_skip: int = Field(1, ge=1, le=4, description="Use the text encoder's output this many layers from the end: "
                           "1 uses the last layer (no skip); 2 suits models trained that way (many anime ones)")
    vae: str = Field("", max_length=100, json_schema_extra={"x-options": "vaes"},
                     description="A VAE folder of the data folder's models/ to use instead of the model's own "
                                 "(empty: the model's own); it must be made for the same base")

    @contextlib.contextmanager
    def prepared(self, inputs: dict[str, Any], ctx: NodeContext, pipe_kind: str, then: str | None = None,
                 size: tuple[int, int] | None = None) -> Iterator[tuple[Any, dict[str, Any], Any]]:
        """The pipeline for `pipe_kind` (and, for a second pass, the same model's pipeline for `then`) set up with
        this node's sampler, CLIP skip, VAE and the LoRAs on its model, and the call's arguments; with ControlNets
        on the model, the first is their variant of the pipeline and the arguments hold their control pictures (at
        `size`, the picture's). Afterwards the LoRAs are unloaded and the model's own VAE is back, so the cached
        pipelines stay clean."""
        controls, controlnets = loaded_controlnets(inputs, ctx)
        pipe, args = self._common(inputs, ctx, pipe_kind, controlnets=controlnets)
        args.update(control_arguments(controls, ctx, pipe_kind, size))
        name = ctx.facts["model"]
        second = ctx.models.pipeline(name, then) if then else None
        pipes = [p for p in (pipe, second) if p is not None]
        own = ctx.models.base(name)
        for each in pipes:
            use_scheduler(each, make_scheduler(own.scheduler, self.sampler, self.sigmas))
        ctx.facts["sampler"] = describe_scheduler(pipe.scheduler, self.sampler, self.sigmas)
        self._clip_skip(pipe, args, ctx)
        loras = [(file, ctx.models.loras.resolve(file), weight) for file, weight in model_loras(inputs.get("model"))]
        own_vaes = [each.vae for each in pipes]
        try:
            if self.vae:
                info, module = ctx.models.vae(self.vae)
                check_fits(info, pipe, name)
                for each in pipes:
                    each.vae = module
                ctx.facts["vae"] = self.vae
            adapter = model_ip_adapter(inputs.get("model"))
            with applied(pipe, loras, name) as used, self._reference(pipe, adapter, args, ctx, name):
                if used:
                    ctx.facts["loras"] = used
                yield pipe, args, second
        finally:
            for each, vae in zip(pipes, own_vaes, strict=True):
                if each.vae is not vae:
                    each.vae = vae

    @contextlib.contextmanager
    def _reference(self, pipe: Any, adapter: dict[str, Any] | None, args: dict[str, Any], ctx: NodeContext,
                   model: str) -> Iterator[None]:
        """The IP-Adapter an IP-Adapter node put on the model loaded for the run, with its reference picture in
        the call's arguments (unloaded afterwards: ipadapters.applied)."""
        if adapter is None:
            yield
            return
        info = ctx.models.ipadapters.find(str(adapter["name"]))
        scale = float(adapter["scale"])
        with ip_adapter_applied(pipe, info, scale, model):
            args["ip_adapter_image"] = reference_image(ctx, str(adapter["image"]))
            ctx.facts["ip_adapter"] = {"name": info.name, "scale": scale, "image": adapter["image"]}
            yield

    def _clip_skip(self, pipe: Any, args: dict[str, Any], ctx: NodeContext) -> None:
        if self.clip_skip == 1:
            return
        encoder = getattr(pipe, "text_encoder", None)
        layers = getattr(getattr(encoder, "config", None), "num_hidden_layers", None)
        if encoder is None or not isinstance(layers, int):
            raise TaskFailed(f"The model ({type(pipe).__name__}) has no CLIP text encoder to skip layers of.",
                             code="bad_clip_skip", hint="Set CLIP skip to 1 for this model.")
        if self.clip_skip > layers:
            raise TaskFailed(f"CLIP skip {self.clip_skip} is more than this model's text encoder has layers "
                             f"({layers}).", code="bad_clip_skip", hint=f"Use 1 to {layers}.")
        ctx.facts["clip_skip"] = self.clip_skip
        if hasattr(pipe, "text_encoder_2"):  # two encoders (XL): diffusers' own skip (it counts from 0)
            args["clip_skip"] = self.clip_skip - 1
            return
        # Encoded here rather than with diffusers' `clip_skip`, which reaches for a layout of the CLIP text model
        # that newer transformers no longer have (`text_model.final_layer_norm`).
        args["prompt_embeds"] = _skipped(pipe, args.pop("prompt"), self.clip_skip)
        args["negative_prompt_embeds"] = _skipped(pipe, args.pop("negative_prompt", ""), self.clip_skip)


def _skipped(pipe: Any, text: str, skip: int) -> Any:
    """The prompt's embeddings from the text encoder's layer `skip` from the end (1: the last), normalised as
    its last layer's are (what other studios call CLIP skip)."""
    import torch

    encoder, tokenizer = pipe.text_encoder, pipe.tokenizer
    tokens = tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                       return_tensors="pt")
    with torch.no_grad():
        hidden = encoder(tokens.input_ids.to(encoder.device), output_hidden_states=True).hidden_states[-skip]
        norm = getattr(encoder, "text_model", encoder).final_layer_norm
        return norm(hidden).to(dtype=encoder.dtype)


@node("lora", title="LoRA", category="Models",
      description="Puts a LoRA (a .safetensors file in the data folder's loras/) on the model, at a weight; chain "
                  "several for several LoRAs.")
class Lora(NodeType):
    inputs = {"model": Port("model", required=False, description="The model (default: the first installed one)")}
    outputs = {"model": "model"}
    lora: str = Field("", max_length=200, json_schema_extra={"x-options": "loras"},
                      description="The LoRA file: its path inside the data folder's loras/ (e.g. 'style.safetensors')")
    fits_base = {"lora": "loras"}  # planning checks its base against the model's (engine/fit.py)
    weight: float = Field(1.0, ge=-4.0, le=4.0,
                          description="How strongly it applies: 1 as trained, 0 not at all, below 0 against it")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        if not self.lora:
            raise TaskFailed("No LoRA file chosen.", code="missing_input",
                             hint="Pick a file of the data folder's loras/ in the inspector.")
        ctx.models.loras.resolve(self.lora)  # refused here already when it names no file inside loras/
        value = model_value(inputs.get("model"))  # with what other nodes put on it (an IP-Adapter)
        return {"model": {**value, "loras": [*value["loras"], {"file": self.lora, "weight": self.weight}]}}
