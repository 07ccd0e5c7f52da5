"""Frames into a clip: an MP4 written with PyAV."""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any, Literal

from pydantic import Field

from mediastudio.engine.context import NodeContext
from mediastudio.engine.registry import NodeType, Port, node
from mediastudio.errors import TaskFailed

CODECS = {"h264": "libx264", "mpeg4": "mpeg4"}


def encode_mp4(frames: list[Any], fps: int, codec: str, quality: int, check: Any = None) -> bytes:
    import av

    if not frames:
        raise TaskFailed("There are no frames to make a clip of.", code="missing_input")
    width, height = frames[0].size
    width, height = width - width % 2, height - height % 2  # yuv420p wants even sizes
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        try:
            stream = container.add_stream(CODECS[codec], rate=Fraction(fps))
        except Exception:  # this PyAV build lacks the encoder
            stream = container.add_stream("mpeg4", rate=Fraction(fps))
        assert isinstance(stream, av.VideoStream)  # both are video encoders
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if stream.codec_context.name == "libx264":
            stream.options = {"crf": str(quality), "preset": "medium"}
        else:
            stream.codec_context.bit_rate = max(200_000, width * height * fps // 4)
        for index, frame in enumerate(frames):
            if check is not None:
                check(index)
            picture = frame.convert("RGB")
            if picture.size != (width, height):
                picture = picture.resize((width, height))
            for packet in stream.encode(av.VideoFrame.from_image(picture)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


MAX_FRAME_PIXELS = 2_000_000_000  # what a Load video node may hold in memory, in pixels over all its frames


def decode_frames(path: Any, start: float, every: int, limit: int, check: Any = None) -> tuple[list[Any], float]:
    """Frames of a clip from `start` seconds on, every `every`-th, at most `limit`; and the clip's frame rate."""
    import av

    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise TaskFailed("The clip cannot be read.", code="bad_media", hint="Pick another video asset.") from exc
    with container:
        if not container.streams.video:
            raise TaskFailed("The asset has no video track.", code="bad_media", hint="Pick a video clip.")
        stream = container.streams.video[0]
        rate = float(stream.average_rate or stream.guessed_rate or 24)
        if start > 0 and stream.time_base:
            container.seek(int(start / stream.time_base), stream=stream, backward=True)
        frames: list[Any] = []
        index = pixels = 0
        for frame in container.decode(stream):
            if frame.time is not None and frame.time + 1e-6 < start:
                continue
            if index % every == 0:
                picture = frame.to_image().convert("RGB")
                pixels += picture.width * picture.height
                if pixels > MAX_FRAME_PIXELS:
                    raise TaskFailed(f"More than {len(frames)} frames of this size do not fit in memory.",
                                     code="too_large", hint="Take fewer frames (or every 2nd, 3rd…).")
                frames.append(picture)
                if check is not None:
                    check(len(frames))
                if len(frames) >= limit:
                    break
            index += 1
    if not frames:
        raise TaskFailed(f"The clip has no frames after {start:g} s.", code="missing_input",
                         hint="Start earlier in the clip.")
    return frames, rate


@node("load_video", title="Load video", category="Input",
      description="Frames of a video clip from the project's assets (drag one onto the canvas).")
class LoadVideo(NodeType):
    outputs = {"images": "images", "image": "image"}
    asset_id: str = Field("", max_length=64, json_schema_extra={"x-options": "video-assets"},
                          description="The project video clip to take frames from")
    start: float = Field(0.0, ge=0.0, le=86_400.0, description="Start at this second of the clip")
    every: int = Field(1, ge=1, le=100, description="Take every n-th frame (2 = half the frames)")
    max_frames: int = Field(48, ge=1, le=1000, description="At most this many frames")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        if not self.asset_id:
            raise TaskFailed("No clip chosen.", code="missing_input",
                             hint="Drag a video from the Asset Browser onto the canvas, or pick one in the inspector.")
        path = ctx.load_video(self.asset_id)

        def check(count: int) -> None:
            ctx.check_cancelled()
            ctx.progress(count, self.max_frames)

        frames, rate = decode_frames(path, self.start, self.every, self.max_frames, check)
        ctx.facts.setdefault("source_assets", [self.asset_id])
        ctx.facts["source_clip"] = {"asset_id": self.asset_id, "frames": len(frames), "fps": rate / self.every,
                                    "start": self.start}
        return {"images": frames, "image": frames[0]}


@node("image_sequence_to_video", title="Image sequence → clip", category="Video",
      description="An MP4 clip from frames, in order.")
class ImageSequenceToVideo(NodeType):
    inputs = {"images": Port("images", description="The frames")}
    outputs = {"video": "video"}
    fps: int = Field(24, ge=1, le=120, description="Frames per second of the clip (24 for film, 30 for video)")
    codec: Literal["h264", "mpeg4"] = Field(
        "h264", description="Video codec: h264 plays almost everywhere, mpeg4 for older tools")
    quality: int = Field(18, ge=0, le=51, description="h264 CRF: lower is better (18 ≈ visually lossless)")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        frames = inputs["images"]

        def check(index: int) -> None:
            ctx.check_cancelled()
            ctx.progress(index + 1, len(frames))

        data = encode_mp4(frames, self.fps, self.codec, self.quality, check)
        ctx.facts["clip"] = {"frames": len(frames), "fps": self.fps, "codec": self.codec}
        return {"video": data}
