"""Every node type and every one of its parameters says what it is for: the palette shows the type's
description and the inspector shows each parameter's as its hint and tooltip, so none may be missing or a bare
restatement of the parameter's name."""

from __future__ import annotations

from mediastudio.engine.registry import build_node_registry, describe


def test_every_node_type_and_parameter_has_a_description() -> None:
    missing: list[str] = []
    for cls in build_node_registry().latest():
        described = describe(cls)
        if len(described["description"].strip()) < 10:
            missing.append(described["id"])
        for key, schema in described["params_schema"].get("properties", {}).items():
            text = (schema.get("description") or "").strip()
            title = (schema.get("title") or key).strip().lower()
            if len(text) < 10 or text.lower() == title:
                missing.append(f"{described['id']}.{key}: {text!r}")
    assert not missing, f"node types or parameters without a useful description: {missing}"
