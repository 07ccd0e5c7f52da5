"""The pictures of a hand-off: a take's picture (a clip's middle frame), a clip's frames at given times, pictures
fitted to one size, and the slate of a shot without a take.

Takes are stored files a client may have made (uploads, imports): a picture's size is checked from its header
before a pixel is decoded (`open_picture`), a clip's from its stream before a frame is.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from mediastudio.errors import TaskFailed
from mediastudio.handoff.shots import Take
from mediastudio.media.probe import PictureTooLarge, open_picture

if TYPE_CHECKING:
    import av
    import av.container
    from PIL import Image, ImageFont

    from mediastudio.storage.blobs import BlobStore

CLIP_SIDE_MAX = 4096  # a clip wider or taller than this is not decoded
BACKGROUND = (0, 0, 0)
SLATE = (32, 34, 40)


def unreadable(name: str, why: str) -> TaskFailed:
    return TaskFailed(f"The take '{name[:80]}' could not be read: {why}"[:300], code="unreadable_take",
                      hint="Pick another take for that shot on the board, or remove the damaged asset.")


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def fit(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """`image` scaled to lie within `box`, its proportions kept (RGB)."""
    from PIL import Image as PILImage

    scale = min(box[0] / image.width, box[1] / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    return rgb.resize(size, PILImage.Resampling.LANCZOS) if size != rgb.size else rgb


def letterbox(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` fitted into a `size` frame, centred on black."""
    from PIL import Image as PILImage

    fitted = fit(image, size)
    if fitted.size == size:
        return fitted
    frame = PILImage.new("RGB", size, BACKGROUND)
    frame.paste(fitted, ((size[0] - fitted.width) // 2, (size[1] - fitted.height) // 2))
    return frame


def slate(size: tuple[int, int], title: str, line: str = "No take yet") -> Image.Image:
    """A plain card naming a shot that has no take (held in its place in a sequence or an animatic)."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    card = PILImage.new("RGB", size, SLATE)
    draw = ImageDraw.Draw(card)
    big, small = font(max(12, size[1] // 14)), font(max(10, size[1] // 24))
    draw.text((size[0] / 2, size[1] / 2), title[:80], font=big, fill=(235, 235, 240), anchor="md")
    draw.text((size[0] / 2, size[1] / 2 + size[1] // 40), line, font=small, fill=(150, 152, 160), anchor="ma")
    return card


def still(path: Path, name: str, max_pixels: int, box: tuple[int, int]) -> Image.Image:
    """A stored picture, refused before decoding when it has more than `max_pixels`, scaled down into `box`."""
    try:
        image = open_picture(path, max_pixels)
    except PictureTooLarge as exc:
        raise unreadable(name, exc.detail) from None
    except OSError as exc:
        raise unreadable(name, str(exc) or "not a picture") from None
    try:
        image.draft("RGB", box)  # JPEG: decode at a smaller scale at once
        image.load()
        fitted = fit(image, box)
        return fitted.copy() if fitted is image else fitted  # `image` is closed below
    except (OSError, ValueError) as exc:
        raise unreadable(name, str(exc) or "damaged") from None
    finally:
        image.close()


def _checked_stream(container: av.container.InputContainer, name: str) -> av.VideoStream:
    streams = container.streams.video
    if not streams:
        raise unreadable(name, "it holds no video")
    stream = streams[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if not width or not height or width > CLIP_SIDE_MAX or height > CLIP_SIDE_MAX:
        raise unreadable(name, f"its frames are {width}×{height}; at most {CLIP_SIDE_MAX} pixels a side are read")
    return stream


def frames_at(path: Path, name: str, times: list[float], box: tuple[int, int]) -> Iterator[Image.Image]:
    """For each time (seconds, ascending) the clip's frame shown then, fitted into `box`. The clip is decoded
    once, from the start; a time past its end gets its last frame."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = _checked_stream(container, name)
            decoded = container.decode(stream)
            current, upcoming = None, next(decoded, None)
            shown: tuple[object, Image.Image] | None = None
            for moment in times:
                while upcoming is not None and (current is None or (upcoming.time or 0.0) <= moment + 1e-6):
                    current, upcoming = upcoming, next(decoded, None)
                if current is None:
                    raise unreadable(name, "no frame could be decoded")
                if shown is None or shown[0] is not current:
                    shown = (current, fit(current.to_image(), box))
                yield shown[1]
    except av.error.FFmpegError as exc:
        raise unreadable(name, str(exc)) from None


def middle_frame(path: Path, name: str, duration: float | None, box: tuple[int, int] | None) -> Image.Image:
    """The frame halfway through a clip (the first one when its length is unknown), fitted into `box` (None: at
    the clip's own size)."""
    import av

    middle = (duration or 0.0) / 2
    try:
        with av.open(str(path)) as container:
            stream = _checked_stream(container, name)
            if middle > 0 and stream.time_base:
                container.seek(int(middle / stream.time_base), stream=stream, backward=True)
            best = None
            for frame in container.decode(stream):
                if best is not None and (frame.time or 0.0) > middle + 1e-6:
                    break
                best = frame
            if best is None:
                raise unreadable(name, "no frame could be decoded")
            frame = best.to_image()
            return fit(frame, box) if box is not None else frame.convert("RGB")
    except av.error.FFmpegError as exc:
        raise unreadable(name, str(exc)) from None


def take_path(blobs: BlobStore, take: Take) -> Path:
    path = blobs.path(take.sha256)
    if not path.is_file():
        raise unreadable(take.name, "its stored file is missing")
    return path


def take_picture(blobs: BlobStore, take: Take, max_pixels: int, box: tuple[int, int]) -> Image.Image:
    """The picture that stands for a take: the picture itself, or a clip's middle frame."""
    path = take_path(blobs, take)
    if take.kind == "video":
        return middle_frame(path, take.name, take.duration, box)
    return still(path, take.name, max_pixels, box)
