"""Look inside media: check it decodes, read its size and duration, draw its preview (WebP).

Decoding damaged or hostile files happens here, off the event loop, with Pillow and PyAV.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediastudio.errors import MediastudioError

if TYPE_CHECKING:
    from PIL import Image  # Pillow loads on the first picture

PREVIEW_SIZES = (256, 1024)


class DamagedMedia(MediastudioError):
    status = 422
    title = "Damaged media"


class PictureTooLarge(MediastudioError):
    status = 413
    title = "Picture too large"


class Undrawable(MediastudioError):
    """A stored picture over the limit (imported, or from before the limit was lowered): no preview."""

    status = 422
    title = "Picture too large to draw"


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:,.0f}" if pixels >= 10_000_000 else f"{pixels / 1_000_000:,.1f}"


def too_many_pixels(pixels: int, max_pixels: int, size: tuple[int, int] | None = None) -> PictureTooLarge:
    shown = f"{size[0]}×{size[1]} pixels ({_megapixels(pixels)} megapixels)" if size else \
        f"{_megapixels(pixels)} megapixels"
    return PictureTooLarge(
        f"The picture is {shown}; this server accepts pictures of at most {_megapixels(max_pixels)} megapixels.",
        hint="Scale it down before uploading, or ask the administrator to raise MEDIASTUDIO_MAX_IMAGE_PIXELS.",
        limit_pixels=max_pixels)


def open_picture(path: Path, max_pixels: int) -> Image.Image:
    """Open a picture reading its header only, and refuse it before a pixel is decoded when it has more than
    `max_pixels` (a 1.5 MB PNG can claim 40000×40000 and take gigabytes to decode). The caller closes it."""
    from PIL import Image

    try:
        image = Image.open(path)
    except Image.DecompressionBombError as exc:  # Pillow's own guard (~179 MP) stays as a second line
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise too_many_pixels(int(found.group(1)) if found else max_pixels + 1, max_pixels) from None
    if image.width * image.height > max_pixels:
        image.close()
        raise too_many_pixels(image.width * image.height, max_pixels, image.size)
    return image


@dataclass
class Probe:
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None  # a clip's frames per second, as its stream declares it


def probe(path: Path, category: str, mime: str, *, max_pixels: int) -> Probe:
    """Check the file decodes and read its dimensions / duration (pictures over `max_pixels` are refused
    from their header, before decoding)."""
    try:
        if category == "image":
            return _probe_image(path, max_pixels)
        if category in ("video", "audio"):
            return _probe_av(path, category)
    except MediastudioError:
        raise
    except Exception as exc:
        reason = str(exc).replace(str(path), "the file").replace(path.name, "the file")[:120]
        raise DamagedMedia(f"The {category} file is damaged or incomplete ({reason}).",
                           hint="Export it again from the program that made it, then upload that file.") from exc
    return Probe()


def _probe_image(path: Path, max_pixels: int) -> Probe:
    with open_picture(path, max_pixels) as image:
        width, height = image.size
        # A JPEG is decoded at 1/8 scale: every byte is still read (truncation fails), in 1/64 of the memory.
        image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
        image.load()  # a truncated file fails here
        return Probe(width=width, height=height)


def frame_rate(rate: Any) -> float | None:
    """A stream's frame rate as a number of frames per second (None: none declared, or not a sensible one)."""
    try:
        fps = round(float(rate), 3)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return fps if 1 <= fps <= 1000 else None


def _probe_av(path: Path, category: str) -> Probe:
    import av

    with av.open(str(path)) as container:
        streams = container.streams.video if category == "video" else container.streams.audio
        if not streams:
            raise DamagedMedia(f"The file holds no {category} stream.")
        stream = streams[0]
        duration = float(container.duration / 1_000_000) if container.duration else None
        next(container.decode(stream))  # at least one frame must decode
        if isinstance(stream, av.VideoStream):  # category "video"
            return Probe(width=stream.codec_context.width, height=stream.codec_context.height, duration=duration,
                         fps=frame_rate(stream.average_rate or stream.guessed_rate))
        return Probe(duration=duration)


def render_preview(path: Path, category: str, size: int, *, max_pixels: int) -> bytes | None:
    """A WebP preview at most `size` px on its long side, or None when the kind has no picture."""
    if category == "image":
        picture = _picture_preview(path, size, max_pixels)
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


def _picture_preview(path: Path, size: int, max_pixels: int) -> Image.Image:
    """Shrink first, convert after: a JPEG is decoded at 1/2..1/8 scale (draft), other kinds are reduced by
    whole factors right after decoding, so memory stays near one decoded copy within the pixel limit."""
    with open_picture(path, max_pixels) as image:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):  # palette, 1-bit, 16-bit, CMYK: resample in colour
            image = image.convert("RGBA" if image.mode in ("P", "PA") else "RGB")
        image.thumbnail((size, size), reducing_gap=3.0)  # draft (JPEG) + reduce, then a fair resample
        return image.convert("RGBA") if image.mode in ("LA", "RGBA") else image.convert("RGB")


def _poster_frame(path: Path) -> Image.Image:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if container.duration and container.duration > 2_000_000:
            container.seek(container.duration // 10)  # a tenth in: past black leaders and fades
        return next(container.decode(stream)).to_image()


def _waveform(path: Path, size: int) -> Image.Image:
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
