"""How a take's parameters are read from its provenance (a file of the project: read as untrusted)."""

from __future__ import annotations

from typing import Any

from mediastudio.media.compare import MAX_PATHS, VALUE_CHARS, _parameters


def test_a_malformed_provenance_gives_what_it_can_and_never_fails() -> None:
    for provenance in ({}, {"graph": "nodes"}, {"graph": {"nodes": [], "edges": "x"}, "node_id": 3},
                       {"graph": {"nodes": {"a": "b"}, "edges": {"e": {"source": 1}}}, "node_id": "a"},
                       {"seed": {"a": {"b": {"c": {"d": {"e": 1}}}}}}):
        found, _ = _parameters(provenance)
        assert isinstance(found, dict)


def test_long_values_are_cut_and_the_number_of_parameters_is_bounded() -> None:
    provenance: dict[str, Any] = {"prompt": "x" * 10_000, **{f"k{i}": i for i in range(2 * MAX_PATHS)}}
    found, _ = _parameters(provenance)
    assert len(found["prompt"]) == VALUE_CHARS + 1 and found["prompt"].endswith("…")
    assert len(found) == MAX_PATHS


def test_nodes_sharing_a_title_are_told_apart_by_their_ids() -> None:
    node = {"title": "Prompt", "type": "prompt"}
    graph = {"nodes": {"shot": {"title": "Shot"}, "p1": {**node, "params": {"text": "a"}},
                       "p2": {**node, "params": {"text": "b"}}},
             "edges": {"1": {"source": "p1", "target": "shot"}, "2": {"source": "p2", "target": "shot"},
                       "3": {"source": "loop", "target": "p1"}, "4": {"source": "p1", "target": "loop"}}}
    found, from_graph = _parameters({"graph": graph, "node_id": "shot"})
    assert found["Prompt (p1).text"] == "a" and found["Prompt (p2).text"] == "b"
    assert from_graph == {"Prompt (p1).text", "Prompt (p2).text"}
