"""Frames into a clip: an MP4 written with PyAV."""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any, Literal

from pydantic import Field

from mediastudio.engine.context import NodeContext
from mediastudio.engine.registry import NodeType, Port, node
from mediastudio.tasks.context import TaskFailed

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


@node("image_sequence_to_video", title="Image sequence → clip", category="Video",
      description="An MP4 clip from frames, in order.")
class ImageSequenceToVideo(NodeType):
    inputs = {"images": Port("images", description="The frames")}
    outputs = {"video": "video"}
    fps: int = Field(24, ge=1, le=120, description="Frames per second")
    codec: Literal["h264", "mpeg4"] = Field("h264", description="Video codec")
    quality: int = Field(18, ge=0, le=51, description="h264 CRF: lower is better (18 ≈ visually lossless)")

    def run(self, inputs: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
        frames = inputs["images"]

        def check(index: int) -> None:
            ctx.check_cancelled()
            ctx.progress(index + 1, len(frames))

        data = encode_mp4(frames, self.fps, self.codec, self.quality, check)
        ctx.facts["clip"] = {"frames": len(frames), "fps": self.fps, "codec": self.codec}
        return {"video": data}
