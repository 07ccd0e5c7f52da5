"""Node types: pydantic models registered by id and version, with typed input and output ports.

A node type's fields are its parameters (their `Field(ge=, le=, description=)` is the single source for
validation, the API's JSON schema and the Properties Inspector's controls); `inputs` and `outputs`
declare its ports; `run(inputs, ctx)` does the work. Node packs register through the
`mediastudio.nodes` entry-point group (each entry point is a module that uses `@node`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from mediastudio.engine.context import NodeContext

log = logging.getLogger("mediastudio")

PORT_TYPES = ("text", "int", "float", "seed", "model", "image", "images", "mask", "video", "latent")
# output type → input types it may feed besides its own
CONVERTS: dict[str, set[str]] = {
    "int": {"float", "seed"},
    "seed": {"int"},
    "image": {"images", "mask"},
    "mask": {"image"},
}


def connects(output_type: str, input_type: str) -> bool:
    return output_type == input_type or input_type in CONVERTS.get(output_type, set())


@dataclass(frozen=True)
class Port:
    type: str
    required: bool = True
    description: str = ""
    fallback: str | None = None  # a parameter used when nothing is connected (e.g. a prompt typed on the node)


class NodeType(BaseModel):
    """Base of every node type. Subclasses are registered with `@node(id, version=…)`."""

    model_config = ConfigDict(extra="ignore")

    type_id: ClassVar[str] = ""
    version: ClassVar[int] = 1
    title: ClassVar[str] = ""
    category: ClassVar[str] = "other"
    description: ClassVar[str] = ""
    inputs: ClassVar[dict[str, Port]] = {}
    outputs: ClassVar[dict[str, str]] = {}
    output_node: ClassVar[bool] = False  # a "whole scene" run runs these (shots)
    model_kinds: ClassVar[tuple[str, ...]] = ()  # kinds of model its `model` input accepts (empty: any)
    # parameter → what it picks ("loras", "vaes", "ipadapters"): planning checks it fits the model's base (fit.py)
    fits_base: ClassVar[dict[str, str]] = {}
    # the helper models a choice needs, checked when planning (engine/fit.py): parameter → {value → the list of
    # `Installed` that must not be empty, "depth_models" or "pose_models"}
    needs_installed: ClassVar[dict[str, dict[str, str]]] = {}

    @property
    def deterministic(self) -> bool:
        """False: never served from the cache (a random seed)."""
        return True

    def steps(self) -> int:
        """Progress steps this node reports (diffusion steps; 1 for quick nodes)."""
        return 1

    def cache_salt(self, run_index: int) -> str:
        """What, beyond its parameters and inputs, its output depends on (an incrementing seed: the run)."""
        return ""

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        raise NotImplementedError


class NodeRegistry:
    def __init__(self) -> None:
        self.types: dict[str, dict[int, type[NodeType]]] = {}

    def add(self, cls: type[NodeType]) -> None:
        self.types.setdefault(cls.type_id, {})[cls.version] = cls

    def get(self, type_id: str, version: int | None = None) -> type[NodeType] | None:
        versions = self.types.get(type_id)
        if not versions:
            return None
        return versions.get(version) if version is not None else versions[max(versions)]

    def latest(self) -> list[type[NodeType]]:
        return [versions[max(versions)] for _, versions in sorted(self.types.items())]


def node(type_id: str, *, version: int = 1, title: str, category: str, description: str = ""
         ) -> Callable[[type[NodeType]], type[NodeType]]:
    """Mark a NodeType subclass as the node type `type_id` (version `version`); registries collect marked
    classes from their modules (`build_node_registry`)."""
    def mark(cls: type[NodeType]) -> type[NodeType]:
        cls.type_id, cls.version, cls.title, cls.category = type_id, version, title, category
        cls.description = description or (cls.__doc__ or "").strip()
        return cls

    return mark


def node_types_in(module: ModuleType) -> list[type[NodeType]]:
    """The node types a module defines (classes marked with `@node`), in the order they appear."""
    return [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, NodeType)
            and "type_id" in vars(v) and v.__module__ == module.__name__]


def build_node_registry() -> NodeRegistry:
    """The built-in nodes and every installed node pack (entry-point group `mediastudio.nodes`: each entry point
    names a module whose `@node` classes join)."""
    from mediastudio.engine.nodes import BUILT_IN

    registry = NodeRegistry()
    modules = list(BUILT_IN)
    for entry in entry_points(group="mediastudio.nodes"):
        try:
            loaded = entry.load()
        except Exception:
            log.exception("The node pack '%s' could not be loaded", entry.name)
            continue
        if isinstance(loaded, ModuleType):
            modules.append(loaded)
        else:
            log.error("The node pack '%s' does not name a module", entry.name)
    for module in modules:
        for cls in node_types_in(module):
            registry.add(cls)
    return registry


def describe(cls: type[NodeType]) -> dict[str, Any]:
    """A node type as GET /api/v1/node-types shows it."""
    return {
        "id": cls.type_id, "version": cls.version, "title": cls.title, "category": cls.category,
        "description": cls.description, "output_node": cls.output_node,
        "inputs": [{"name": n, "type": p.type, "required": p.required, "description": p.description,
                    "fallback_param": p.fallback} for n, p in cls.inputs.items()],
        "outputs": [{"name": n, "type": t} for n, t in cls.outputs.items()],
        "params_schema": cls.model_json_schema(),
    }
