"""A scene's takes as a zip of numbered PNG files, in either of two ways:

- `shot`: one file per shot, `001 <shot>.png`: a picture take as it is (a PNG copied byte for byte, another
  picture converted), a clip's middle frame at the clip's own size, a slate where the shot has no take;
- `timed`: every frame of the animatic at its frame rate and size, `frames/000001.png` …, each shot held for
  its duration (as the MP4 animatic shows them).

`shots.json` beside them says which files each shot became (task_kinds.py adds it).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediastudio.handoff.pictures import middle_frame, slate, still, take_path
from mediastudio.handoff.shots import BoardShot, SceneShots
from mediastudio.handoff.timeline import segment_frames, timeline

if TYPE_CHECKING:
    from PIL import Image

    from mediastudio.tasks.context import TaskContext

FRAME_PNG_LEVEL = 1  # frames are many and alike: fast compression, the zip stores them as they are


def _png(image: Image.Image, level: int = 6) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=level)
    return out.getvalue()


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in " -_·" else "_" for ch in name).strip()[:80] or "shot"


def _entry(number: int, shot: BoardShot) -> dict[str, Any]:
    take = shot.take
    return {"number": number, "shot": shot.title, "node_id": shot.node_id, "take": take.name if take else None,
            "take_id": take.asset_id if take else None, "picked": shot.picked, "status": shot.status,
            "seconds": shot.seconds, "files": []}


def _shot_png(ctx: TaskContext, shot: BoardShot, size: tuple[int, int]) -> bytes:
    take = shot.take
    if take is None:
        return _png(slate(size, shot.title))
    path = take_path(ctx.blobs, take)
    if take.kind == "video":
        return _png(middle_frame(path, take.name, take.duration, None))
    if take.mime == "image/png":
        still(path, take.name, ctx.settings.max_image_pixels, (64, 64))  # it decodes, within the size limit
        return path.read_bytes()
    from mediastudio.media.probe import open_picture

    with open_picture(path, ctx.settings.max_image_pixels) as image:
        return _png(image.convert("RGB"))


def write_sequence(ctx: TaskContext, target: Path, scene: SceneShots, frames: str, fps: int,
                   size: tuple[int, int]) -> list[dict[str, Any]]:
    listing = [_entry(number, shot) for number, shot in enumerate(scene.shots, start=1)]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        if frames == "shot":
            for step, (entry, shot) in enumerate(zip(listing, scene.shots, strict=True), start=1):
                ctx.check_cancelled()
                name = f"{entry['number']:03d} {_safe(shot.title)}.png"
                archive.writestr(name, _shot_png(ctx, shot, size))
                entry["files"] = [name]
                ctx.progress(step, len(listing), f"Shot {step} of {len(listing)}")
            return listing
        segments = timeline(scene.shots, fps)
        total = sum(s.frames for s in segments)
        for entry, segment in zip(listing, segments, strict=True):
            previous: tuple[Image.Image, bytes] | None = None
            for offset, picture in enumerate(segment_frames(ctx.blobs, segment, fps, size,
                                                            ctx.settings.max_image_pixels)):
                ctx.check_cancelled()
                if previous is None or previous[0] is not picture:  # a held still is encoded once
                    previous = (picture, _png(picture, FRAME_PNG_LEVEL))
                name = f"frames/{segment.first + offset + 1:06d}.png"
                archive.writestr(name, previous[1])
                entry["files"].append(name)
                ctx.progress(segment.first + offset + 1, total, f"Frame {segment.first + offset + 1} of {total}")
            entry.update(first_frame=segment.first + 1, frames=segment.frames)
    return listing
