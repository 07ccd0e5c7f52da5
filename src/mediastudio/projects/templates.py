"""Project templates, shipped as JSON files in examples/templates/ (mediastudio/examples in the wheel)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

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
