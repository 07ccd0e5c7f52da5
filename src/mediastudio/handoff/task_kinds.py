"""The hand-off task kinds: `handoff.sheet` (a contact sheet as PDF or PNG), `handoff.sequence` (a scene's takes as
a zip of numbered PNGs) and `handoff.animatic` (a scene's takes as an H.264 MP4). Each reads the project as it is
when it runs, reports progress per card or frame, looks for a cancel at each, and leaves one file to download.

Exports change nothing: anyone who may view the project may start them (`needs="view"`), like a project export.
"""

from __future__ import annotations

import json
import zipfile
from typing import Annotated, Any, Literal

from litestar.params import Parameter
from pydantic import BaseModel, Field

from mediastudio.api_types import text
from mediastudio.common import utcnow
from mediastudio.errors import TaskFailed
from mediastudio.handoff.pdf import PdfWriter
from mediastudio.handoff.pictures import take_path, take_picture
from mediastudio.handoff.sequence import write_sequence
from mediastudio.handoff.sheet import layout, render_pages
from mediastudio.handoff.shots import SHOT_SECONDS_MAX, SHOT_SECONDS_MIN, BoardShot, SceneShots, board_shots
from mediastudio.handoff.timeline import segment_frames, timeline, write_mp4
from mediastudio.projects.tables import Project
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.kinds import KindRegistry

SHEET_SHOTS_MAX = 600  # cards on one contact sheet
SHEET_PAGES_MAX = 60
SCENES_MAX = 200  # named in one sheet's request
SCENES_TOLD = "The scenes, in the project's order whatever order they are named in (all when left out)"
SCENE_SHOTS_MAX = 300  # shots in one sequence or animatic
ANIMATIC_SECONDS_MAX = 20 * 60
SEQUENCE_FRAMES_MAX = 3_000  # PNG files in a sequence of frames
SIZES = {"640x360": (640, 360), "1280x720": (1280, 720), "1920x1080": (1920, 1080),
         "1080x1920": (1080, 1920), "1024x1024": (1024, 1024)}

SceneId = Annotated[str, *text(pattern=r"^[A-Za-z0-9_-]{1,64}$",
                               message="A scene id has 1 to 64 letters, digits, '_' or '-'.")]
StillSeconds = Annotated[float, Field(ge=SHOT_SECONDS_MIN, le=SHOT_SECONDS_MAX, description=(
    "How long a picture is held when its shot has no duration of its own (seconds)"))]
Size = Literal["640x360", "1280x720", "1920x1080", "1080x1920", "1024x1024"]


class SheetParams(BaseModel):
    format: Literal["pdf", "png"] = Field("pdf", description="pdf: one file of pages; png: one picture per page "
                                                             "(a zip of them when there are several)")
    scene_ids: Annotated[list[SceneId] | None, Parameter(max_items=SCENES_MAX, description=SCENES_TOLD)] = Field(
        None, max_length=SCENES_MAX, description=SCENES_TOLD)
    columns: int = Field(4, ge=1, le=6, description="Cards across a page")
    rows: int = Field(3, ge=1, le=5, description="Rows of cards down a page")
    still_seconds: StillSeconds = 2.0


class SequenceParams(BaseModel):
    scene_id: SceneId
    frames: Literal["shot", "timed"] = Field("shot", description=(
        "shot: one PNG per shot, the take at its own size (a clip's middle frame); timed: every frame at `fps`, "
        "each shot held for its duration, all at `size`"))
    fps: int = Field(24, ge=1, le=60)
    size: Size = "1280x720"
    still_seconds: StillSeconds = 2.0


class AnimaticParams(BaseModel):
    scene_id: SceneId
    fps: int = Field(24, ge=1, le=60)
    size: Size = "1280x720"
    still_seconds: StillSeconds = 2.0


def _read(ctx: TaskContext, scene_ids: list[str] | None, still_seconds: float) -> tuple[Project, list[SceneShots]]:
    with ctx.db.session() as db:
        project = db.get(Project, ctx.project_id)
        if project is None:
            raise TaskFailed("The project is gone.", code="not_found")
        db.expunge(project)
        return project, board_shots(db, ctx.settings, project, scene_ids, still_seconds=still_seconds)


def too_large(what: str, limit: int | float, hint: str) -> TaskFailed:
    return TaskFailed(f"{what} is over this studio's limit of {limit:,}.", code="too_large", hint=hint)


def _file_name(project: Project, what: str, suffix: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in project.name).strip() or "project"
    return f"{safe[:80]} {what}{suffix}"


def make_sheet(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    options = SheetParams.model_validate(params)
    project, scenes = _read(ctx, options.scene_ids, options.still_seconds)
    shots = sum(len(scene.shots) for scene in scenes)
    if shots > SHEET_SHOTS_MAX:
        raise too_large(f"The sheet's {shots:,} shots", SHEET_SHOTS_MAX, "Choose fewer scenes.")
    pages = layout(scenes, options.columns, options.rows)
    if len(pages) > SHEET_PAGES_MAX:
        raise too_large(f"The sheet's {len(pages)} pages", SHEET_PAGES_MAX,
                        "Choose fewer scenes, or more cards a page.")
    if not pages:
        raise TaskFailed("There is no shot to put on a sheet.", code="no_shots",
                         hint="Add a Shot output node to a scene and run it.")
    done = 0

    def each() -> None:
        nonlocal done
        done += 1
        ctx.check_cancelled()
        ctx.progress(done, shots, f"Card {done} of {shots}")

    def picture(shot: BoardShot, box: tuple[int, int]) -> Any:
        ctx.check_cancelled()
        return None if shot.take is None else take_picture(ctx.blobs, shot.take, ctx.settings.max_image_pixels, box)

    made = f"{utcnow():%d %b %Y}"
    drawn = render_pages(pages, options.columns, options.rows, project.name, made, picture, each)
    ctx.progress(0, shots, "Drawing the sheet")
    if options.format == "pdf":
        target = ctx.scratch / _file_name(project, "contact sheet", ".pdf")
        writer = PdfWriter(target, f"{project.name} — contact sheet")
        try:
            for page in drawn:
                writer.page(page)
        finally:
            writer.close()
        return _result(ctx, target, "application/pdf", pages=len(pages), shots=shots)
    files = []
    for number, page in enumerate(drawn, start=1):
        files.append(ctx.scratch / f"sheet-{number:02d}.png")
        page.save(files[-1], "PNG", optimize=False, compress_level=6)
    if len(files) == 1:
        target = files[0].rename(ctx.scratch / _file_name(project, "contact sheet", ".png"))
        return _result(ctx, target, "image/png", pages=1, shots=shots)
    target = ctx.scratch / _file_name(project, "contact sheet", ".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for path in files:
            archive.write(path, f"contact-sheet-{path.stem.split('-')[1]}.png")
            path.unlink()
    return _result(ctx, target, "application/zip", pages=len(files), shots=shots)


def _result(ctx: TaskContext, path: Any, media_type: str, **facts: Any) -> dict[str, Any]:
    ctx.progress(1, 1, "Ready to download", force=True)
    return {**ctx.publish_result_file(path), "name": path.name, "media_type": media_type,
            "bytes": path.stat().st_size, **facts}


def _scene(ctx: TaskContext, scene_id: str, still_seconds: float) -> tuple[Project, SceneShots]:
    project, (scene,) = _read(ctx, [scene_id], still_seconds)
    if not scene.shots:
        raise TaskFailed(f"The scene '{scene.name}' has no shots.", code="no_shots",
                         hint="Add a Shot output node to the scene and run it.")
    if len(scene.shots) > SCENE_SHOTS_MAX:
        raise too_large(f"The scene's {len(scene.shots):,} shots", SCENE_SHOTS_MAX, "Split the scene.")
    seconds = sum(shot.seconds for shot in scene.shots)
    if seconds > ANIMATIC_SECONDS_MAX:
        raise too_large(f"The scene's {seconds:,.0f} seconds", ANIMATIC_SECONDS_MAX,
                        "Hold pictures for less time, or split the scene.")
    return project, scene


def make_animatic(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    options = AnimaticParams.model_validate(params)
    project, scene = _scene(ctx, options.scene_id, options.still_seconds)
    segments = timeline(scene.shots, options.fps)
    total, size = sum(s.frames for s in segments), SIZES[options.size]
    target = ctx.scratch / _file_name(project, f"{scene.name} animatic", ".mp4")

    def each(written: int) -> None:
        ctx.check_cancelled()
        ctx.progress(written, total, f"Frame {written} of {total}")

    for segment in segments:  # a missing file fails before any frame is encoded
        if segment.shot.take is not None:
            take_path(ctx.blobs, segment.shot.take)
    ctx.progress(0, total, f"Encoding {total} frames of {len(segments)} shots")
    frames = write_mp4(target, segments, options.fps, size,
                       lambda s: segment_frames(ctx.blobs, s, options.fps, size, ctx.settings.max_image_pixels), each)
    return _result(ctx, target, "video/mp4", frames=frames, fps=options.fps, seconds=round(frames / options.fps, 3),
                   shots=len(segments))


def make_sequence(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    options = SequenceParams.model_validate(params)
    project, scene = _scene(ctx, options.scene_id, options.still_seconds)
    if options.frames == "timed":
        frames = sum(s.frames for s in timeline(scene.shots, options.fps))
        if frames > SEQUENCE_FRAMES_MAX:
            raise too_large(f"The sequence's {frames:,} frames", SEQUENCE_FRAMES_MAX,
                            "Lower the frame rate, or make an MP4 animatic instead.")
    target = ctx.scratch / _file_name(project, f"{scene.name} frames", ".zip")
    ctx.progress(0, len(scene.shots), f"Writing the pictures of {len(scene.shots)} shots")
    listing = write_sequence(ctx, target, scene, options.frames, options.fps, SIZES[options.size])
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr("shots.json", json.dumps({"project": project.name, "scene": scene.name,
                                                   "frames": options.frames, "fps": options.fps,
                                                   "shots": listing}, indent=2, ensure_ascii=False))
    return _result(ctx, target, "application/zip", shots=len(listing),
                   files=sum(len(item["files"]) for item in listing))


def register(kinds: KindRegistry) -> None:
    kinds.add("handoff.sheet", make_sheet, lane="cpu", params=SheetParams, needs="view",
              title=lambda p: f"Contact sheet ({p.format.upper()}) of '{{project}}'")
    kinds.add("handoff.sequence", make_sequence, lane="cpu", params=SequenceParams, needs="view",
              title=lambda _: "Image sequence of a scene of '{project}'")
    kinds.add("handoff.animatic", make_animatic, lane="cpu", params=AnimaticParams, needs="view",
              title=lambda _: "Animatic of a scene of '{project}'")
