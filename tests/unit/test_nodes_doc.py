"""docs/nodes.md is written from the node classes (`mediastudio nodes-doc --out docs/nodes.md`): this fails when the
committed file is out of date, so a change of a node's ports or parameters changes the reference with it."""

from __future__ import annotations

from pathlib import Path

from mediastudio.engine.nodes import BUILT_IN
from mediastudio.engine.nodes_doc import nodes_markdown
from mediastudio.engine.registry import node_types_in

DOC = Path(__file__).resolve().parents[2] / "docs" / "nodes.md"


def test_the_committed_nodes_doc_is_what_the_node_classes_say() -> None:
    assert DOC.read_text(encoding="utf-8") == nodes_markdown(), (
        "docs/nodes.md is out of date: run `mediastudio nodes-doc --out docs/nodes.md` and commit it")


def test_every_node_and_parameter_is_in_it() -> None:
    text = nodes_markdown()
    for module in BUILT_IN:
        for cls in node_types_in(module):
            assert f"(`{cls.type_id}`, version {cls.version})" in text
            for key in cls.model_json_schema().get("properties", {}):
                assert f"| `{key}` |" in text, f"{cls.type_id}.{key}"
    assert ("| `sampler` | choice | `default` | `default` — Default (the model's own), `euler` — Euler, "
            "`euler_a` — Euler a") in text
    assert "| `clip_skip` | integer | `1` | 1 to 4 |" in text
