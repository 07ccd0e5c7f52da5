"""Look inside media: check it decodes, read its size and duration, draw its preview (WebP).

Decoding damaged or hostile files happens here, off the event loop, with Pillow and PyAV.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from mediastudio.errors import MediastudioError

PREVIEW_SIZES = (256, 1024)


class DamagedMedia(MediastudioError):
    status = 422
    title = "Damaged media"


@dataclass
class Probe:
    width: int | None = None
    height: int | None = None
    duration: float | None = None


def probe(path: Path, category: str, mime: str) -> Probe:
    """Check the file decodes and read its dimensions / duration."""
    try:
        if category == "image":
            return _probe_image(path)
        if category in ("video", "audio"):
            return _probe_av(path, category)
    except MediastudioError:
        raise
    except Exception as exc:
        reason = str(exc).replace(str(path), "the file").replace(path.name, "the file")[:120]
        raise DamagedMedia(f"The {category} file is damaged or incomplete ({reason}).",
                           hint="Export it again from the program that made it, then upload that file.") from exc
    return Probe()


def _probe_image(path: Path) -> Probe:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = 40_000 * 40_000  # refuse decompression bombs beyond 1.6 gigapixels
    with Image.open(path) as image:
        image.load()  # a truncated file fails here
        return Probe(width=image.width, height=image.height)


def _probe_av(path: Path, category: str) -> Probe:
    import av

    with av.open(str(path)) as container:
        streams = container.streams.video if category == "video" else container.streams.audio
        if not streams:
            raise DamagedMedia(f"The file holds no {category} stream.")
        stream = streams[0]
        duration = float(container.duration / 1_000_000) if container.duration else None
        next(container.decode(stream))  # at least one frame must decode
        if category == "video":
            return Probe(width=stream.codec_context.width, height=stream.codec_context.height, duration=duration)
        return Probe(duration=duration)


def render_preview(path: Path, category: str, size: int) -> bytes | None:
    """A WebP preview at most `size` px on its long side, or None when the kind has no picture."""
    from PIL import Image

    if category == "image":
        with Image.open(path) as image:
            picture = image.convert("RGBA") if image.mode in ("P", "LA", "RGBA") else image.convert("RGB")
    elif category == "video":
        picture = _poster_frame(path)
    elif category == "audio":
        picture = _waveform(path, size)
    else:
        return None
    picture.thumbnail((size, size))
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=82, method=4)
    return out.getvalue()


def _poster_frame(path: Path):  # type: ignore[no-untyped-def]
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if container.duration and container.duration > 2_000_000:
            container.seek(container.duration // 10)  # a tenth in: past black leaders and fades
        return next(container.decode(stream)).to_image()


def _waveform(path: Path, size: int):  # type: ignore[no-untyped-def]
    import av
    import numpy as np
    from PIL import Image, ImageDraw

    peaks: list[float] = []
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            samples = frame.to_ndarray()
            peaks.append(float(np.abs(samples).max()) if samples.size else 0.0)
            if len(peaks) > 20_000:
                break
    width, height = size, max(64, size // 4)
    image = Image.new("RGB", (width, height), (24, 26, 32))
    draw = ImageDraw.Draw(image)
    if peaks:
        top = max(peaks) or 1.0
        for x in range(width):
            chunk = peaks[x * len(peaks) // width:(x + 1) * len(peaks) // width + 1]
            level = (max(chunk) / top) * (height / 2 - 2)
            draw.line([(x, height / 2 - level), (x, height / 2 + level)], fill=(110, 160, 255))
    return image


STRIP_FRAMES = 10
STRIP_FRAME_WIDTH = 160


def render_strip(path: Path) -> bytes:
    """A scrub strip: STRIP_FRAMES frames spread over a video, side by side (WebP)."""
    import av
    from PIL import Image

    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        duration = container.duration or 0
        for i in range(STRIP_FRAMES):
            if duration:
                container.seek(int(duration * i / STRIP_FRAMES), any_frame=False)
            try:
                frame = next(container.decode(stream)).to_image()
            except (StopIteration, av.error.EOFError):
                break
            frame.thumbnail((STRIP_FRAME_WIDTH, STRIP_FRAME_WIDTH))
            frames.append(frame)
    if not frames:
        raise DamagedMedia("No frame of the video could be read.")
    strip = Image.new("RGB", (sum(f.width for f in frames), max(f.height for f in frames)))
    x = 0
    for frame in frames:
        strip.paste(frame.convert("RGB"), (x, 0))
        x += frame.width
    out = io.BytesIO()
    strip.save(out, "WEBP", quality=75)
    return out.getvalue()
