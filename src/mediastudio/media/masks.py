"""Masks painted over a picture: checked against the picture, stored as a greyscale PNG asset (white = repaint).

A mask arrives as an upload (media/uploads.py), is checked (a PNG, the source picture's size), then re-encoded
as a one-channel PNG, so what the inpaint node reads is always the same kind of file whatever the browser sent.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from mediastudio.auth.tables import User
from mediastudio.errors import Unprocessable
from mediastudio.media.assets import get_asset
from mediastudio.media.probe import DamagedMedia, Probe, open_picture
from mediastudio.media.uploads import Received
from mediastudio.projects.access import require
from mediastudio.projects.tables import Asset
from mediastudio.storage.blobs import BlobStore
from mediastudio.storage.sniff import HEAD_BYTES, Sniffed, UnsupportedMedia, sniff

MASK_TAG = "mask"
PICTURE_CATEGORIES = ("image", "generated", "reference")


@dataclass
class MaskFile:
    """The re-encoded mask, stored: (sha256, the new blob's mtime or None when the store held it already)."""

    sha256: str
    created: int | None
    size: int
    sniffed: Sniffed
    probed: Probe


def mask_source(db: Session, actor: User, project_id: str, asset_id: str) -> Asset:
    """The picture a mask is painted over: an image asset of this project that `actor` may edit."""
    require(db, actor, project_id, "edit")
    _, source = get_asset(db, actor, project_id, asset_id)
    if source.category not in PICTURE_CATEGORIES or not source.mime.startswith("image/") \
            or not source.width or not source.height:
        raise Unprocessable(f"'{source.name}' is not a picture, so it takes no mask.", field="asset_id",
                            hint="Paint a mask over an image asset of the project.")
    if source.trashed_at is not None:
        raise Unprocessable(f"'{source.name}' is in the trash.", field="asset_id",
                            hint="Restore it from the trash first, then paint its mask.")
    return source


def mask_name(source: Asset) -> str:
    """'<picture> · mask', without the picture's file extension."""
    stem = source.name.rsplit(".", 1)[0] if "." in source.name[1:] else source.name
    return f"{stem} · mask"


def check_mask(received: list[Received], source: Asset) -> Received:
    """One PNG file of exactly the source picture's size."""
    if len(received) != 1:
        raise Unprocessable(f"Send one mask file, not {len(received)}.", field="file",
                            hint="A mask is one PNG in the multipart field 'file'.")
    mask = received[0]
    if mask.sniffed.mime != "image/png":
        raise UnsupportedMedia(f"A mask must be a PNG picture, not {mask.sniffed.mime}.", field="file",
                               hint="Save the mask as PNG (white = repaint, black = keep).")
    if (mask.probed.width, mask.probed.height) != (source.width, source.height):
        raise Unprocessable(
            f"The mask is {mask.probed.width}×{mask.probed.height} pixels but '{source.name}' is "
            f"{source.width}×{source.height}; a mask must be the size of its picture.", field="file",
            hint="Paint the mask again over the picture: the painter makes it at the picture's own size.")
    return mask


def store_greyscale(blobs: BlobStore, path: Path, max_pixels: int) -> MaskFile:
    """Re-encode the received PNG as a one-channel (L) PNG and store it (a picture with alpha is laid on
    black first, so a transparent pixel means keep)."""
    from PIL import Image

    with open_picture(path, max_pixels) as picture:
        try:
            if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
                rgba = picture.convert("RGBA")
                ground = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
                grey = Image.alpha_composite(ground, rgba).convert("L")
            elif picture.mode in ("I", "I;16", "I;16B", "I;16L"):
                grey = picture.convert("I").point(lambda v: v / 256).convert("L")  # 16-bit grey
            else:
                grey = picture.convert("L")
        except (OSError, ValueError) as exc:
            raise DamagedMedia(f"The mask could not be read as a picture ({exc}).", field="file",
                               hint="Save the mask again as a PNG.") from None
    buffer = io.BytesIO()
    grey.save(buffer, format="PNG", optimize=False, compress_level=6)
    data = buffer.getvalue()
    sha, created = blobs.store_bytes(data)
    return MaskFile(sha, created, len(data), sniff(data[:HEAD_BYTES]), Probe(width=grey.width, height=grey.height))
