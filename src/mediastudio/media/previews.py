"""Previews (WebP), cached by blob hash: data_dir/previews/<sha>-<size>.webp. Same bytes, same preview."""

from __future__ import annotations

import logging
from pathlib import Path

from mediastudio.media.probe import PREVIEW_SIZES, render_preview, render_strip
from mediastudio.projects.files import write_atomic
from mediastudio.storage.blobs import BlobStore

log = logging.getLogger("mediastudio")


def preview_path(data_dir: Path, sha256: str, size: int) -> Path:
    return data_dir / "previews" / sha256[:2] / f"{sha256}-{size}.webp"


def picture_kind(category: str, mime: str) -> str:
    """What a preview is drawn as: the media itself (a generated asset is a picture or a clip)."""
    return category if category in ("image", "video", "audio") else mime.split("/")[0]


def ensure_preview(data_dir: Path, blobs: BlobStore, sha256: str, category: str, size: int, *,
                   max_pixels: int) -> Path | None:
    """The cached preview, drawn first if needed; None when this kind of media has no picture.

    `max_pixels` holds for every picture, also those that never passed an upload's probe (imported projects)."""
    path = preview_path(data_dir, sha256, size)
    if path.is_file():
        return path
    picture = render_preview(blobs.path(sha256), category, size, max_pixels=max_pixels)
    if picture is None:
        return None
    write_atomic(path, picture)
    return path


def is_own_preview(kind: str, width: int | None, height: int | None) -> bool:
    """A picture no larger than the smallest preview is its own preview at every size (a preview is never
    enlarged): one small drawing serves them all, cheap enough to make in the upload itself."""
    return kind == "image" and bool(width and height) and max(width or 0, height or 0) <= PREVIEW_SIZES[0]


def ensure_own_previews(data_dir: Path, blobs: BlobStore, sha256: str, *, max_pixels: int) -> None:
    """Every preview size of a picture `is_own_preview` accepts, drawn once and written for each size."""
    missing = [path for path in (preview_path(data_dir, sha256, size) for size in PREVIEW_SIZES)
               if not path.is_file()]
    if not missing:
        return
    picture = render_preview(blobs.path(sha256), "image", PREVIEW_SIZES[0], max_pixels=max_pixels)
    assert picture is not None  # an image always has a picture
    for path in missing:
        write_atomic(path, picture)


def ensure_strip(data_dir: Path, blobs: BlobStore, sha256: str) -> Path:
    """A video's scrub strip (frames side by side), cached like the previews."""
    path = data_dir / "previews" / sha256[:2] / f"{sha256}-strip.webp"
    if not path.is_file():
        write_atomic(path, render_strip(blobs.path(sha256)))
    return path
