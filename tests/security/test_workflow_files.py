"""A file dropped on the canvas is hostile: a PNG's graph chunk or a JSON file is bounded (bytes, inflated size,
JSON depth, node count) and checked like any graph a client sends; what fails is refused with a sentence a person
can act on, and nothing is added."""

from __future__ import annotations

import json
import secrets
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from mediastudio.graph.png import text_chunk, with_text
from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server

READ = "/api/v1/workflows/read"
KEY = "mediastudio-graph"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("workflow-files"))
    set_up_admin(server.url).close()
    yield server
    server.stop()


@pytest.fixture
def person(server: RunningServer) -> Iterator[ApiClient]:
    with ApiClient(server.url) as client:
        client.register(f"wf-{secrets.token_hex(4)}")
        yield client


def graph(**nodes: Any) -> str:
    return json.dumps({"format": "mediastudio/nodes", "version": 1, "edges": [],
                       "nodes": nodes or {"p": {"type": "prompt", "params": {"text": "a fox"}}}})


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def with_chunk(raw: bytes) -> bytes:
    """A real picture with `raw` (whole chunks) right after its header."""
    picture = png_bytes(size=(16, 16))
    return picture[:33] + raw + picture[33:]


def refused(person: ApiClient, body: bytes, said: str, status: int = 400) -> None:
    answer = person.post(READ, content=body)
    assert answer.status_code == status, answer.text
    assert said in answer.json()["detail"], answer.json()


def test_a_picture_with_a_good_graph_is_read(person: ApiClient) -> None:
    answer = person.post(READ, content=with_text(png_bytes(size=(16, 16)), {KEY: graph()}))
    assert answer.status_code == 200, answer.text
    assert answer.json()["nodes"]["p"]["params"] == {"text": "a fox"}


def test_an_unknown_node_type_in_a_picture_is_refused(person: ApiClient) -> None:
    body = with_text(png_bytes(size=(16, 16)), {KEY: graph(x={"type": "exec_python", "params": {"code": "1"}})})
    refused(person, body, "not a kind of node this studio has")


def test_an_oversized_chunk_is_refused_before_it_is_parsed(person: ApiClient) -> None:
    body = with_chunk(text_chunk(KEY, graph() + " " * (2 << 20)))
    refused(person, body, "larger than 1024 KB")


def test_a_compressed_chunk_that_inflates_past_the_limit_is_refused(person: ApiClient) -> None:
    bomb = zlib.compress(b" " * (64 << 20), 9)  # 64 MB of spaces in about 64 KB
    assert len(bomb) < 100_000
    refused(person, with_chunk(chunk(b"zTXt", KEY.encode() + b"\0\0" + bomb)), "larger than 1024 KB")
    itxt = KEY.encode() + b"\0\x01\x00\0\0" + bomb
    refused(person, with_chunk(chunk(b"iTXt", itxt)), "larger than 1024 KB")


def test_deep_json_is_refused(person: ApiClient) -> None:
    deep = '{"nodes": {"p": {"type": "prompt", "params": {"text": ' + "[" * 100 + "]" * 100 + "}}}}"
    refused(person, with_text(png_bytes(size=(16, 16)), {KEY: deep}), "nests deeper than")
    refused(person, deep.encode(), "nests deeper than")
    refused(person, ("[" * 100_000 + "]" * 100_000).encode(), "not JSON")


def test_too_many_nodes_are_refused(person: ApiClient) -> None:
    many = {f"n{i}": {"type": "generic"} for i in range(5000)}
    refused(person, with_text(png_bytes(size=(16, 16)), {KEY: graph(**many)}), "at most 200")


def test_damaged_and_truncated_pictures_are_refused(person: ApiClient) -> None:
    good = with_text(png_bytes(size=(16, 16)), {KEY: graph()})
    at = good.index(b"tEXt") + 4 + len(KEY) + 5  # inside the text, past its keyword
    damaged = good[:at] + bytes([good[at] ^ 0xFF]) + good[at + 1:]
    refused(person, damaged, "checksum does not match")
    lying = with_chunk(struct.pack(">I", 0x7FFFFFFF) + b"tEXt" + KEY.encode() + b"\0{}")
    refused(person, lying, "cut short")
    refused(person, b"GIF89a" + b"\0" * 100, "not JSON")


def test_a_file_over_the_limit_is_refused_from_its_length(person: ApiClient) -> None:
    refused(person, b" " * (5 << 20), "larger than 4 MB", status=413)


def _clip() -> bytes:
    """A small real MP4 (a few frames)."""
    from PIL import Image

    from mediastudio.engine.nodes.video import encode_mp4
    return encode_mp4([Image.new("RGB", (16, 16), (i * 40, 0, 0)) for i in range(3)], 3, "mpeg4", 23)


def test_a_clip_with_a_good_graph_is_read_whole_or_as_its_box(person: ApiClient) -> None:
    from mediastudio.graph.mp4 import graph_box, with_graph
    clip = _clip()
    whole = person.post(READ, content=with_graph(clip, graph()))
    assert whole.status_code == 200, whole.text
    assert set(whole.json()["nodes"]) == {"p"}
    alone = person.post(READ, content=graph_box(graph().encode()))
    assert alone.status_code == 200 and alone.json() == whole.json()


def test_hostile_clips_are_refused_with_a_sentence(person: ApiClient) -> None:
    from mediastudio.graph.mp4 import GRAPH_UUID, graph_box
    clip = _clip()
    refused(person, clip, "carries no graph")
    refused(person, clip + struct.pack(">I", 1 << 30) + b"uuid" + GRAPH_UUID, "larger than the file")
    refused(person, clip + struct.pack(">I4sQ", 1, b"uuid", 1 << 62), "larger than the file")
    refused(person, clip + graph_box(b" " * (1 << 20) + b"{}"), "larger than 1024 KB")
    refused(person, clip + graph_box(b"[" * 30 + b"]" * 30), "deeper than")
    refused(person, clip + graph_box(graph(x={"type": "no_such_node"}).encode()), "no_such_node")
    refused(person, clip + graph_box(b"\xff\xfe"), "not JSON")
    refused(person, b"\0\0\0\x10ftypisom\0\0\0\0" + struct.pack(">I4s", 8, b"free") * 10_001, "more than")
