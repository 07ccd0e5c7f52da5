"""ControlNet: a picture that steers a picture model's run (its edges, its depth, a pose), through a ControlNet
made for the model's base, and the Control image node that makes such pictures from a photo.

Like a LoRA, a ControlNet changes how the model runs rather than computing a value of its own, and several
stack, so the ControlNet node sits on the `model` port: it adds its folder, its control picture (by the blob that
holds it: the port's value is stored as JSON in the output cache) and its strength and span to what the port
carries, and the picture node switches its pipeline to the ControlNet variant of the same loaded weights.
"""

from __future__ import annotations

import io
from typing import Any, Literal

from pydantic import Field, model_validator

from mediastudio.engine.context import NodeContext
from mediastudio.engine.control_images import canny, depth_map
from mediastudio.engine.nodes.diffusion_base import model_controlnets, model_name
from mediastudio.engine.pose import pose_map
from mediastudio.engine.registry import NodeType, Port, node
from mediastudio.errors import TaskFailed
from mediastudio.models.controlnets import find_controlnet, mismatch, model_shape

MISMATCH_HINT = "Pick a ControlNet made for this model's base, or another model."


@node("controlnet", title="ControlNet", category="Models",
      description="Steers the picture by a control picture (edges, depth, a pose) through a ControlNet (a folder "
                  "in the data folder's models/) made for the model's base; chain several to stack them.")
class ControlNet(NodeType):
    inputs = {"model": Port("model", required=False, description="The model (default: the first installed one)"),
              "image": Port("image", description="The control picture: edges, a depth map, a pose (a Control "
                                                 "image node makes one from a photo)")}
    outputs = {"model": "model"}
    controlnet: str = Field("", max_length=100, json_schema_extra={"x-options": "controlnets"},
                            description="The ControlNet folder of the data folder's models/ (made for the model's "
                                        "base, and for this kind of control picture)")
    strength: float = Field(1.0, ge=0.0, le=2.0, description="How strongly the control picture steers: 1 as "
                                                             "trained, 0 not at all")
    start: float = Field(0.0, ge=0.0, le=1.0, description="When it starts steering, as a share of the steps "
                                                          "(0: from the first)")
    end: float = Field(1.0, ge=0.0, le=1.0, description="When it stops steering, as a share of the steps (1: to "
                                                        "the last; earlier leaves the details to the model)")

    @model_validator(mode="after")
    def _span(self) -> ControlNet:
        if self.start >= self.end:
            raise ValueError(f"start ({self.start}) must come before end ({self.end})")
        return self

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        if not self.controlnet:
            raise TaskFailed("No ControlNet chosen.", code="missing_input",
                             hint="Pick a ControlNet folder of the data folder's models/ in the inspector.")
        find_controlnet(ctx.models.registry.root, self.controlnet)  # refused here already when there is none
        value = inputs.get("model")
        control = {"controlnet": self.controlnet, "image": _stored(inputs["image"], ctx), "strength": self.strength,
                   "start": self.start, "end": self.end}
        carried = value if isinstance(value, dict) else {"loras": []}
        return {"model": {**carried, "name": model_name(value),
                          "controlnets": [*model_controlnets(value), control]}}


def _stored(image: Any, ctx: NodeContext) -> str:
    """The blob of `image` as PNG (the one the output cache wrote, when it did)."""
    known = ctx.encoded(image)
    if known:
        return known
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return ctx.blobs.put_bytes(buffer.getvalue())


def loaded_controlnets(inputs: dict[str, Any], ctx: NodeContext) -> tuple[list[dict[str, Any]], tuple[Any, ...]]:
    """The ControlNets on the model a picture node's `model` port carries and their loaded modules, each checked
    against the model's base (TaskFailed, in a sentence, when one was made for another)."""
    controls = model_controlnets(inputs.get("model"))
    if not controls:
        return [], ()
    name = ctx.models.resolve_name(model_name(inputs.get("model")))
    installed = ctx.models.registry.get(name, sized=False)
    shape = model_shape(installed.path)
    modules = []
    for control in controls:
        info, module = ctx.models.controlnet(str(control["controlnet"]))
        problem = mismatch(info, name, shape, installed.family)
        if problem:
            raise TaskFailed(problem, code="controlnet_mismatch", hint=MISMATCH_HINT)
        modules.append(module)
    return controls, tuple(modules)


def control_arguments(controls: list[dict[str, Any]], ctx: NodeContext, pipe_kind: str,
                      size: tuple[int, int] | None) -> dict[str, Any]:
    """The pipeline call's ControlNet arguments (one value each, or a list for several), the control pictures
    at `size` (the picture's own); recorded in the node's facts."""
    if not controls:
        return {}
    images = [_picture(ctx, str(control["image"]), size) for control in controls]
    ctx.facts["controlnets"] = [{k: control[k] for k in ("controlnet", "strength", "start", "end", "image")}
                                for control in controls]

    def each(key: str) -> Any:
        values = [float(control[key]) for control in controls]
        return values[0] if len(values) == 1 else values

    # the text-to-image variant takes the control picture as `image`; the others keep that for the picture itself
    return {"image" if pipe_kind == "text-to-image" else "control_image": images[0] if len(images) == 1 else images,
            "controlnet_conditioning_scale": each("strength"), "control_guidance_start": each("start"),
            "control_guidance_end": each("end")}


def _picture(ctx: NodeContext, sha256: str, size: tuple[int, int] | None) -> Any:
    from PIL import Image

    if not ctx.blobs.has(sha256):
        raise TaskFailed("A control picture is no longer stored (the media store was cleaned).",
                         code="cache", hint="Run the scene again with 'Run everything again' (force).")
    with Image.open(ctx.blobs.path(sha256)) as stored:
        image = stored.convert("RGB")
    return image.resize(size, Image.Resampling.BICUBIC) if size and image.size != size else image


@node("control_image", title="Control image", category="Image",
      description="A control picture for a ControlNet, made from a picture: its edges (canny), the picture as it "
                  "is, its depth (with a depth model installed) or its pose (an OpenPose skeleton, with a pose "
                  "model installed).")
class ControlImage(NodeType):
    inputs = {"image": Port("image", description="The picture")}
    outputs = {"image": "image"}
    # planning says so on the node when the helper model a choice needs is not installed (engine/fit.py)
    needs_installed = {"preprocessor": {"depth": "depth_models", "pose": "pose_models"}}
    preprocessor: Literal["canny", "none", "depth", "pose"] = Field(
        "canny", description="What to make: canny (edges, for a canny ControlNet), none (the picture as it is: a "
                             "sketch, a pose or a map made elsewhere), depth (needs a depth model in the data "
                             "folder's models/), pose (OpenPose skeletons; needs a ViTPose model "
                             "in models/, and a person detector there to pose more than one person)",
        json_schema_extra={"x-labels": {"canny": "Canny edges", "none": "As it is", "depth": "Depth",
                                        "pose": "Pose"}})
    low_threshold: int = Field(100, ge=0, le=1000, description="Canny: an edge is kept where its gradient is above "
                                                               "this and it touches a strong edge")
    high_threshold: int = Field(200, ge=0, le=1000, description="Canny: a gradient above this is a strong edge "
                                                                "(lower both for more edges)")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        image = inputs["image"]
        ctx.facts["preprocessor"] = self.preprocessor
        if self.preprocessor == "none":
            return {"image": image.convert("RGB")}
        if self.preprocessor == "canny":
            return {"image": canny(image, self.low_threshold, self.high_threshold)}
        if self.preprocessor == "depth":
            made, model = depth_map(image, ctx.models)
            ctx.facts["depth_model"] = model
            return {"image": made}
        made, facts = pose_map(image, ctx.models)
        ctx.facts.update(facts)
        return {"image": made}
