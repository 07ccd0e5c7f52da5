"""Values: prompts, seeds, the model to use, and the free-form note (generic) node."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from pydantic import Field
from pydantic.json_schema import JsonDict

from mediastudio.engine.context import NodeContext
from mediastudio.engine.registry import NodeType, Port, node

PROMPT_WIDGET: JsonDict = {"x-widget": "prompt"}


@node("prompt", title="Prompt", category="Text", description="What the picture or clip should show.")
class Prompt(NodeType):
    outputs = {"text": "text"}
    text: str = Field("", max_length=10_000, description="Describe the shot", json_schema_extra=PROMPT_WIDGET)

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        return {"text": self.text}


@node("negative_prompt", title="Negative prompt", category="Text", description="What to keep out of the result.")
class NegativePrompt(NodeType):
    outputs = {"text": "text"}
    text: str = Field("", max_length=10_000, description="What to avoid", json_schema_extra=PROMPT_WIDGET)

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        return {"text": self.text}


@node("seed", title="Seed", category="Values",
      description="Fixed: the same result every run. Random: new each run. Increment: value + the run's number.")
class Seed(NodeType):
    outputs = {"seed": "seed"}
    mode: Literal["fixed", "random", "increment"] = Field("fixed", description="How the seed changes between runs")
    value: int = Field(0, ge=0, le=2**32 - 1, description="The seed (the start, for increment)",
                       json_schema_extra={"x-widget": "seed"})

    @property
    def deterministic(self) -> bool:
        return self.mode != "random"

    def cache_salt(self, run_index: int) -> str:
        return f"run:{run_index}" if self.mode == "increment" else ""

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        if self.mode == "random":
            seed = secrets.randbelow(2**32)
        elif self.mode == "increment":
            seed = (self.value + ctx.run_index) % 2**32
        else:
            seed = self.value
        ctx.facts["seed"] = seed
        return {"seed": seed}


@node("model_loader", title="Model", category="Models", description="Pick an installed model.")
class ModelLoader(NodeType):
    outputs = {"model": "model"}
    model: str = Field("", max_length=200, description="An installed model (empty: the default one)",
                       json_schema_extra={"x-options": "models"})

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        # No facts of its own: the node that uses the model records it (a loader feeding an upscaler must not
        # pass for the picture's model in the provenance).
        return {"model": ctx.models.resolve_name(self.model or None)}


@node("generic", title="Note", category="Other",
      description="A free-form node: a title and any key/value parameters. It does not run.")
class Generic(NodeType):
    inputs = {"in": Port("text", required=False)}

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        return {}
