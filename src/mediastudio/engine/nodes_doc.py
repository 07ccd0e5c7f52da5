"""docs/nodes.md, written from the node classes themselves (`mediastudio nodes-doc --out docs/nodes.md`): every
built-in node type with its ports and parameters (type, default, range, description). A test fails when the
committed file differs from what this writes."""

from __future__ import annotations

from typing import Any

from mediastudio.engine.registry import NodeType, describe, node_types_in

INTRO = """# Node types

Every built-in node type of the canvas, with its ports and parameters, as the code declares them (the inspector
builds its fields from the same schema). Written by `mediastudio nodes-doc --out docs/nodes.md`; a test fails
when this file is out of date, so change the node classes and run that command.

A parameter's range is what the server accepts; a choice lists its values. LoRA files are `.safetensors` files
in the data folder's `loras/`; a VAE is a diffusers VAE folder in the data folder's `models/`, and so is a
ControlNet (a diffusers `ControlNetModel` folder) (see [generation.md](generation.md)).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "choice"
    kind = schema.get("type")
    if kind == "array":
        return f"list of {schema.get('items', {}).get('type', 'values')}"
    return {"integer": "integer", "number": "number", "string": "text", "boolean": "yes/no"}.get(str(kind), "value")


def _range(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        labels = schema.get("x-labels") or {}
        return ", ".join(f"`{v}`" + (f" — {labels[v]}" if v in labels and labels[v] != v else "")
                         for v in schema["enum"])
    low, high = schema.get("minimum"), schema.get("maximum")
    parts = []
    if low is not None or high is not None:
        parts.append(f"{low if low is not None else '…'} to {high if high is not None else '…'}")
    if schema.get("multipleOf"):
        parts.append(f"multiple of {schema['multipleOf']}")
    if schema.get("maxLength"):
        parts.append(f"at most {schema['maxLength']} characters")
    if schema.get("maxItems"):
        parts.append(f"at most {schema['maxItems']} items")
    return "; ".join(parts)


def _default(schema: dict[str, Any]) -> str:
    if "default" not in schema:
        return ""
    value = schema["default"]
    return "empty" if value in ("", []) else f"`{value}`"


def _params(schema: dict[str, Any]) -> list[str]:
    properties: dict[str, Any] = schema.get("properties", {})
    defs = schema.get("$defs", {})
    if not properties:
        return ["No parameters."]
    lines = ["| parameter | type | default | range | description |", "|---|---|---|---|---|"]
    for key, raw in properties.items():
        ref = raw.get("$ref", "").rsplit("/", 1)[-1]
        field = {**defs.get(ref, {}), **raw} if ref else raw
        lines.append(f"| `{key}` | {_type(field)} | {_cell(_default(field))} | {_cell(_range(field))} | "
                     f"{_cell(field.get('description', ''))} |")
    return lines


def node_section(cls: type[NodeType]) -> list[str]:
    info = describe(cls)
    lines = [f"## {info['title']} (`{info['id']}`, version {info['version']})", "",
             f"{info['category']}. {info['description']}", ""]
    if info["inputs"]:
        lines.append("Inputs: " + "; ".join(
            f"`{p['name']}` ({p['type']}{'' if p['required'] else ', optional'})"
            + (f": {p['description']}" if p["description"] else "") for p in info["inputs"]) + ".")
        lines.append("")
    if info["outputs"]:
        lines += ["Outputs: " + ", ".join(f"`{p['name']}` ({p['type']})" for p in info["outputs"]) + ".", ""]
    return [*lines, *_params(info["params_schema"]), ""]


def nodes_markdown() -> str:
    """The text of docs/nodes.md: the built-in node types (node packs are left out), by category and title."""
    from mediastudio.engine.nodes import BUILT_IN

    classes = [cls for module in BUILT_IN for cls in node_types_in(module)]
    classes.sort(key=lambda c: (c.category, c.title))
    lines = [INTRO, "| node | id | category |", "|---|---|---|"]
    lines += [f"| {c.title} | `{c.type_id}` | {c.category} |" for c in classes]
    lines.append("")
    for cls in classes:
        lines += node_section(cls)
    return "\n".join(lines).rstrip("\n") + "\n"
