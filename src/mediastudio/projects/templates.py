"""Project templates, shipped as JSON files in examples/templates/ (mediastudio/examples in the wheel)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from litestar.di import NamedDependency

from mediastudio.errors import BadRequest


def examples_dir() -> Path:
    packaged = Path(__file__).resolve().parents[1] / "examples"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[3] / "examples"


@cache
def all_templates() -> dict[str, dict[str, Any]]:
    found = [json.loads(p.read_text(encoding="utf-8")) for p in (examples_dir() / "templates").glob("*.json")]
    return {t["id"]: t for t in sorted(found, key=lambda t: (t.get("order", 99), t["id"]))}


def get_template(template_id: str) -> dict[str, Any]:
    templates = all_templates()
    if template_id not in templates:
        raise BadRequest(f"There is no template '{template_id}'.", field="template",
                         hint=f"Use one of: {', '.join(templates)}.")
    return templates[template_id]


@runtime_checkable  # Litestar checks a dependency against its type
class ModelFit(Protocol):
    """What a template needs of the installed models (models/registry.py's `ModelRegistry`, handed over by the
    app as the `models` dependency)."""

    def fit(self, name: str) -> dict[str, Any]:
        """width, height, steps and guidance_scale that suit installed model `name` (NotFound if none)."""
        ...


ModelFitDep = NamedDependency[ModelFit]
# The nodes whose settings follow the model: a text-to-image node all four, an image-to-image one (its size is
# its input picture's) steps and guidance.
FITTED = {"text_to_image": ("width", "height", "steps", "guidance_scale"),
          "image_to_image": ("steps", "guidance_scale")}


def with_model(spec: dict[str, Any], model: str, fit: dict[str, Any]) -> dict[str, Any]:
    """The template with `model` picked in its model nodes and its generators set to what suits that model."""
    spec = copy.deepcopy(spec)
    for scene in spec.get("scenes", []):
        for node in ((scene.get("graph") or {}).get("nodes") or {}).values():
            params = node.setdefault("params", {})
            if node.get("type") == "model_loader":
                params["model"] = model
            for key in FITTED.get(node.get("type"), ()):
                if key in fit:
                    params[key] = fit[key]
    return spec
