"""Awareness (presence) messages: decoded so the server can stamp who sent them, re-encoded to relay."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pycrdt import Decoder, Encoder

Entry = tuple[int, int, dict[str, Any] | None]  # client id, clock, state (None = gone)


def decode(update: bytes) -> list[Entry]:
    decoder = Decoder(update)
    entries = []
    for _ in range(decoder.read_var_uint()):
        client_id = decoder.read_var_uint()
        clock = decoder.read_var_uint()
        text = decoder.read_var_string()
        entries.append((client_id, clock, json.loads(text) if text and text != "null" else None))
    return entries


def encode(entries: Sequence[Entry]) -> bytes:
    encoder = Encoder()
    encoder.write_var_uint(len(entries))
    for client_id, clock, state in entries:
        encoder.write_var_uint(client_id)
        encoder.write_var_uint(clock)
        encoder.write_var_string(json.dumps(state, separators=(",", ":")) if state is not None else "null")
    return encoder.to_bytes()
