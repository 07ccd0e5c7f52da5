"""The graph inside a generated MP4: one top-level `uuid` box of the studio's own at the end of the file (ISO
BMFF's place for a vendor's data; players and ffmpeg skip a uuid box they do not know), holding the nodes that
made the clip as the clipboard's JSON. Written into every generated clip, read back from a clip dropped on the
canvas. Only the box layer of the format, in plain bytes: no demuxer sees the file.

Reading is bounded (a dropped file is hostile): top-level boxes are walked by their declared sizes without
reading past the end, at most `MAX_BOXES` of them, and the graph's box may hold at most `limit` bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

# The studio's box: a fixed UUID (uuid5 of "mediastudio-graph" under the URL namespace), never changed.
GRAPH_UUID = bytes.fromhex("15efc68f73cd59ff8ba2fb9cf30c49f8")
MAX_BOXES = 10_000


class Mp4GraphError(ValueError):
    """The file's boxes are broken, or the graph's box is larger than allowed (a sentence for people)."""


def is_mp4(data: bytes) -> bool:
    """An ISO BMFF file (MP4, MOV): its first box is `ftyp`."""
    return len(data) >= 8 and data[4:8] == b"ftyp"


def graph_box(payload: bytes) -> bytes:
    """The studio's uuid box holding `payload`."""
    return struct.pack(">I", 8 + 16 + len(payload)) + b"uuid" + GRAPH_UUID + payload


def with_graph(mp4: bytes, text: str) -> bytes:
    """`mp4` with the graph's box at its end (earlier boxes, and the offsets into them, stay as they were). A file
    that is not an MP4, or that already holds a graph box, is answered unchanged."""
    if not is_mp4(mp4):
        return mp4
    try:
        if read_graph(mp4, len(mp4)) is not None:
            return mp4
    except Mp4GraphError:
        return mp4
    return mp4 + graph_box(text.encode("utf-8"))


def _boxes(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start of the body, end) of each top-level box, checked against the file's length."""
    at = 0
    for _ in range(MAX_BOXES):
        if at == len(data):
            return
        if at + 8 > len(data):
            raise Mp4GraphError("The clip ends in the middle of a box: it is damaged.")
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        header = 8
        if size == 1:
            if at + 16 > len(data):
                raise Mp4GraphError("The clip ends in the middle of a box: it is damaged.")
            (size,) = struct.unpack(">Q", data[at + 8:at + 16])
            header = 16
        elif size == 0:
            size = len(data) - at  # the last box runs to the end of the file
        if size < header:
            raise Mp4GraphError("A box of the clip is smaller than its own header: it is damaged.")
        if at + size > len(data):
            raise Mp4GraphError("A box of the clip is larger than the file: it is damaged.")
        yield kind, at + header, at + size
        at += size
    raise Mp4GraphError(f"The clip holds more than {MAX_BOXES} boxes: it is not one the studio made.")


def read_graph(data: bytes, limit: int) -> bytes | None:
    """The graph's JSON bytes of a clip (a whole MP4, or the graph's box alone, as the canvas sends it); None when
    it holds none. Raises Mp4GraphError for broken boxes or a graph box over `limit` bytes."""
    if not is_mp4(data) and not (len(data) >= 24 and data[4:8] == b"uuid"):
        raise Mp4GraphError("This is not an MP4 file.")
    for kind, start, end in _boxes(data):
        if kind == b"uuid" and data[start:start + 16] == GRAPH_UUID:
            if end - start - 16 > limit:
                raise Mp4GraphError(f"The clip's graph is larger than {limit >> 10} KB.")
            return data[start + 16:end]
    return None
