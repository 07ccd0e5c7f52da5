"""PNG text chunks (graph/png.py) and the nodes a picture carries (graph/fragment.py, engine/embed.py)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from mediastudio.engine.embed import embedded, parameters_text
from mediastudio.graph import Graph
from mediastudio.graph.fragment import fragment_of, upstream
from mediastudio.graph.png import PngTextError, read_text, text_chunk, with_text
from support import png_bytes


def test_text_is_written_after_the_header_and_read_back_by_us_and_by_pillow() -> None:
    texts = {"parameters": "a fox\nSteps: 4", "mediastudio-graph": "{\"é\": \"雪\"}"}
    picture = with_text(png_bytes(size=(8, 8)), texts)
    assert picture[12:16] == b"IHDR" and picture[37:41] == b"tEXt"
    assert read_text(picture, {"parameters", "mediastudio-graph"}, 1000) == {
        "parameters": "a fox\nSteps: 4", "mediastudio-graph": "{\"é\": \"雪\"}"}
    with Image.open(io.BytesIO(picture)) as opened:
        opened.load()
        assert opened.text["parameters"] == "a fox\nSteps: 4" and opened.text["mediastudio-graph"] == "{\"é\": \"雪\"}"


def test_writing_again_replaces_the_chunks_of_the_same_keywords() -> None:
    once = with_text(png_bytes(size=(8, 8)), {"parameters": "first"})
    twice = with_text(once, {"parameters": "second"})
    assert twice.count(b"parameters") == 1 and read_text(twice, {"parameters"}, 100) == {"parameters": "second"}
    assert with_text(b"GIF89a", {"parameters": "x"}) == b"GIF89a"


def test_reading_is_bounded() -> None:
    picture = png_bytes(size=(8, 8))
    big = picture[:33] + text_chunk("mediastudio-graph", "x" * 5000) + picture[33:]
    with pytest.raises(PngTextError, match="larger than"):
        read_text(big, {"mediastudio-graph"}, 1024)
    assert read_text(big, {"other"}, 1024) == {}  # a chunk not asked for is skipped, whatever its size
    with pytest.raises(PngTextError, match="not a PNG"):
        read_text(b"<svg/>", {"parameters"}, 1024)
    bomb = zlib.compress(b"a" * 10_000_000)
    body = b"mediastudio-graph\0\0" + bomb
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", zlib.crc32(b"zTXt" + body))
    with pytest.raises(PngTextError, match="larger than"):
        read_text(picture[:33] + chunk + picture[33:], {"mediastudio-graph"}, 1 << 20)


def _graph() -> Graph:
    def node(type_: str, **params: object) -> dict[str, object]:
        return {"type": type_, "title": type_, "position": {"x": 0, "y": 0}, "params": params, "bypass": False}

    def edge(a: str, out: str, b: str, into: str) -> tuple[str, dict[str, str]]:
        return f"{a}:{out}->{b}:{into}", {"source": a, "source_handle": out, "target": b, "target_handle": into}

    return Graph.model_validate({
        "nodes": {"p": node("prompt", text="fog"), "g": node("text_to_image"), "s": node("shot"),
                  "other": node("prompt"), "s2": node("shot")},
        "edges": dict([edge("p", "text", "g", "prompt"), edge("g", "image", "s", "images"),
                       edge("other", "text", "s2", "images")])})


def test_a_shot_carries_only_the_nodes_it_depends_on() -> None:
    graph = _graph()
    assert upstream(graph, "s") == {"p", "g", "s"}
    fragment = fragment_of(graph, upstream(graph, "s"))
    assert sorted(fragment.nodes) == ["g", "p", "s"] and len(fragment.edges) == 2
    picture = embedded(png_bytes(size=(8, 8)), graph.model_dump(mode="json"), "s",
                       {"prompt": "fog", "seed": 3, "model": "tiny", "params": {"steps": 4, "width": 64, "height": 64}})
    texts = read_text(picture, {"parameters", "mediastudio-graph"}, 1 << 20)
    assert texts["parameters"] == "fog\nSteps: 4, Seed: 3, Size: 64x64, Model: tiny"
    assert '"other"' not in texts["mediastudio-graph"]
    assert embedded(b"\x00\x00\x00\x18ftypmp42", graph.model_dump(mode="json"), "s", {}) == b"\x00\x00\x00\x18ftypmp42"


def test_the_parameters_line_names_the_negative_prompt() -> None:
    assert parameters_text({"prompt": "a", "negative_prompt": "blur", "params": {"guidance_scale": 7}}) == \
        "a\nNegative prompt: blur\nCFG scale: 7"
