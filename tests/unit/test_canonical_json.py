"""The project's JSON files are written as `json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)` writes
them, byte for byte, by the faster path too (a change of format would show as a change of every file in git)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mediastudio.projects.files import canonical_json


def _standard(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner,
                                                                                             max_size=5), max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(values)
def test_the_text_is_the_standard_librarys(value: Any) -> None:
    assert canonical_json(value) == _standard(value)


def test_numbers_keep_their_written_form_and_what_the_fast_path_refuses_is_written_as_before() -> None:
    value = {"b": [1e16, 1e-07, -0.0, 5e-324, 10**30, 2.5], "a": {}, "c": [], "é": "\u2028 \x00 \"\\/"}
    assert canonical_json(value) == _standard(value)
    assert '"b": [\n    1e+16,\n    1e-07,' in canonical_json(value)
    odd = {"nan": float("nan"), "inf": float("inf")}
    assert canonical_json(odd) == _standard(odd)  # not JSON, but written as it always was
    lone = {"s": "\ud83d"}
    assert canonical_json(lone) == _standard(lone)
