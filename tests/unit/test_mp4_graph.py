"""The graph inside a generated MP4 (graph/mp4.py): written as a box at the end that players and ffmpeg skip (the
clip still decodes, frame for frame), read back from the whole file or the box alone, bounded against hostile
files."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from mediastudio.engine.embed import embedded
from mediastudio.engine.nodes.video import encode_mp4
from mediastudio.graph.mp4 import GRAPH_UUID, MAX_BOXES, Mp4GraphError, graph_box, read_graph, with_graph

GRAPH = {"nodes": {"p": {"type": "prompt", "params": {"text": "a fox"}, "position": {"x": 0, "y": 0}},
                   "v": {"type": "frames_to_video", "params": {}, "position": {"x": 300, "y": 0}}},
         "edges": {}}


@pytest.fixture(scope="module")
def clip() -> bytes:
    frames = [Image.new("RGB", (32, 32), (i * 20, 80, 160)) for i in range(6)]
    return encode_mp4(frames, 6, "mpeg4", 23)


def _frames(data: bytes) -> int:
    import av

    with av.open(io.BytesIO(data)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_clip_carries_its_graph_and_still_plays(clip: bytes) -> None:
    made = embedded(clip, GRAPH, "v", {})
    assert made.startswith(clip) and made != clip
    text = read_graph(made, 1 << 20)
    assert text is not None and b'"format":"mediastudio/nodes"' in text and b'"v"' in text
    assert _frames(made) == _frames(clip) == 6
    assert read_graph(made[len(clip):], 1 << 20) == text  # the box alone, as the canvas sends a large clip's
    assert with_graph(made, "{}") == made  # written once
    assert read_graph(clip, 1 << 20) is None
    assert embedded(clip, {"nodes": {}}, "v", {}) == clip  # no graph to write: unchanged


def test_hostile_boxes_are_refused(clip: bytes) -> None:
    with pytest.raises(Mp4GraphError, match="larger than the file"):
        read_graph(clip + struct.pack(">I", 1 << 30) + b"uuid" + GRAPH_UUID, 1 << 20)
    with pytest.raises(Mp4GraphError, match="middle of a box"):
        read_graph(clip + b"\0\0\0", 1 << 20)
    with pytest.raises(Mp4GraphError, match="larger than the file"):
        read_graph(clip + struct.pack(">I4sQ", 1, b"uuid", 1 << 62), 1 << 20)
    with pytest.raises(Mp4GraphError, match="larger than 1 KB"):
        read_graph(clip + graph_box(b"x" * 2000), 1024)
    with pytest.raises(Mp4GraphError, match="more than"):
        read_graph(b"\0\0\0\x10ftypisom\0\0\0\0" + struct.pack(">I4s", 8, b"free") * (MAX_BOXES + 1), 1 << 20)
    with pytest.raises(Mp4GraphError, match="not an MP4"):
        read_graph(b"GIF89a" + b"\0" * 40, 1 << 20)
    with pytest.raises(Mp4GraphError, match="smaller"):
        read_graph(b"\0\0\0\x10ftypisom\0\0\0\0" + struct.pack(">I4s", 4, b"moov"), 1 << 20)
