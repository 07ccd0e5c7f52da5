"""Shots laid end to end at a frame rate: which frames each shot holds, the pictures of those frames (a still held,
a clip re-timed to its shot's length, a slate where a shot has no take) and the MP4 animatic made of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from mediastudio.handoff.pictures import frames_at, letterbox, slate, still, take_path
from mediastudio.handoff.shots import BoardShot

if TYPE_CHECKING:
    from PIL import Image

    from mediastudio.storage.blobs import BlobStore


@dataclass(frozen=True)
class Segment:
    shot: BoardShot
    first: int  # the frame it starts on
    frames: int


def timeline(shots: list[BoardShot], fps: int) -> list[Segment]:
    """Each shot's frames: its start and end rounded to frames from the running time (so rounding never adds
    up), at least one frame each."""
    segments, elapsed, first = [], 0.0, 0
    for shot in shots:
        elapsed += shot.seconds
        end = max(first + 1, round(elapsed * fps))
        segments.append(Segment(shot, first, end - first))
        first = end
    return segments


def segment_frames(blobs: BlobStore, segment: Segment, fps: int, size: tuple[int, int],
                   max_pixels: int) -> Iterator[Image.Image]:
    """The pictures of a segment's frames, each `size`. A still (or a slate) is the same object each frame."""
    shot, take = segment.shot, segment.shot.take
    if take is None or take.kind == "image":
        picture = slate(size, shot.title) if take is None else letterbox(
            still(take_path(blobs, take), take.name, max_pixels, size), size)
        for _ in range(segment.frames):
            yield picture
        return
    # A clip is re-timed to its shot: frame i shows the clip at i/fps scaled by (clip length / shot length).
    length = take.duration or shot.seconds
    times = [index / fps * length / shot.seconds for index in range(segment.frames)]
    last: tuple[Image.Image, Image.Image] | None = None
    for frame in frames_at(take_path(blobs, take), take.name, times, size):
        if last is None or last[0] is not frame:
            last = (frame, letterbox(frame, size))
        yield last[1]


def write_mp4(path: Path, segments: list[Segment], fps: int, size: tuple[int, int],
              frames_of: Callable[[Segment], Iterator[Image.Image]], each: Callable[[int], None]) -> int:
    """Encode the segments' frames as H.264 (yuv420p, MP4 with its index at the start); `each(frames so far)` is
    called after each frame (progress, cancel). Answers the frames written."""
    import av

    written = 0
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=fps, options={"crf": "20", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.time_base = Fraction(1, fps)
        shown: tuple[Image.Image, av.VideoFrame] | None = None
        for segment in segments:
            for picture in frames_of(segment):
                if shown is None or shown[0] is not picture:
                    shown = (picture, av.VideoFrame.from_image(picture).reformat(format="yuv420p"))
                frame = shown[1]
                frame.pts, frame.time_base = written, Fraction(1, fps)
                out.mux(stream.encode(frame))
                written += 1
                each(written)
        out.mux(stream.encode(None))
    return written
