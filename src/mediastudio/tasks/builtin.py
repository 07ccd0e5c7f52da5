"""The task kinds that exist before generation: export, previews, blob verification (+ test kinds)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlmodel import col, select

from mediastudio.errors import TaskFailed
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.kinds import task_kind


class ExportParams(BaseModel):
    pass


@task_kind("project.export", lane="cpu", params=ExportParams, title=lambda _: "Export '{project}'", needs="view")
def export_project(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    from mediastudio.projects.portability import export_to_file
    from mediastudio.projects.tables import Project

    ctx.progress(0, 2, "Collecting the project's history and media")
    with ctx.db.session() as db:
        project = db.get(Project, ctx.project_id)
        if project is None:
            raise TaskFailed("The project is gone.", code="not_found")
        ctx.check_cancelled()
        path = export_to_file(db, ctx.settings, ctx.blobs, None, project.id, ctx.scratch)
    ctx.check_cancelled()
    ctx.progress(2, 2, "Ready to download")
    return {**ctx.publish_result_file(path), "name": path.name.split("-", 2)[-1], "bytes": path.stat().st_size}


class PreviewParams(BaseModel):
    asset_ids: list[str] | None = Field(None, max_length=10_000,
                                        description="Assets to draw previews for; all of the project's when empty")
    redraw: bool = Field(False, description="Draw again even where a preview exists")


def _preview_size(params: PreviewParams) -> float:
    return float(len(params.asset_ids)) if params.asset_ids else 10.0


@task_kind("media.previews", lane="cpu", params=PreviewParams, size=_preview_size, needs="edit",
           title=lambda p: f"Draw previews ({len(p.asset_ids)} file{'s' if len(p.asset_ids) != 1 else ''})"
           if p.asset_ids else "Draw previews")
def draw_previews(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    from mediastudio.media.previews import ensure_preview, ensure_strip, picture_kind, preview_path
    from mediastudio.media.probe import PREVIEW_SIZES
    from mediastudio.media.tables import Asset

    with ctx.db.session() as db:
        query = select(Asset).where(col(Asset.project_id) == ctx.project_id)
        if params["asset_ids"]:
            query = query.where(col(Asset.id).in_(params["asset_ids"]))
        items = [(a.sha256, picture_kind(a.category, a.mime)) for a in db.exec(query).all()]
    drawn, failed = 0, []
    data_dir = ctx.settings.data_dir
    for index, (sha256, category) in enumerate(items):
        ctx.check_cancelled()
        ctx.progress(index, len(items), f"Drawing previews {index + 1} of {len(items)}")
        try:
            for size in PREVIEW_SIZES:
                if params["redraw"]:
                    preview_path(data_dir, sha256, size).unlink(missing_ok=True)
                ensure_preview(data_dir, ctx.blobs, sha256, category, size,
                               max_pixels=ctx.settings.max_image_pixels)
                ctx.check_cancelled()
            if category == "video":
                ensure_strip(data_dir, ctx.blobs, sha256)
            drawn += 1
        except Exception as exc:  # one bad file does not stop the others
            failed.append({"sha256": sha256, "error": str(exc)[:200]})
    ctx.progress(len(items), len(items), "Previews drawn")
    return {"drawn": drawn, "failed": failed}


class VerifyParams(BaseModel):
    pass


@task_kind("blobs.verify", lane="cpu", params=VerifyParams, title=lambda _: "Verify stored media", needs="admin",
           project=False)
def verify_blobs(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    hashes = list(ctx.blobs.all_hashes())
    damaged = []
    for index, sha in enumerate(hashes):
        ctx.check_cancelled()
        ctx.progress(index, len(hashes), f"Checking {index + 1} of {len(hashes)}")
        if not ctx.blobs.verify(sha):
            damaged.append(sha)
    ctx.progress(len(hashes), len(hashes), "All checked")
    if damaged:
        raise TaskFailed(f"{len(damaged)} of {len(hashes)} stored files no longer match their checksum.",
                         code="damaged", hint="Restore them from a backup; `mediastudio blobs verify` lists them.")
    return {"checked": len(hashes), "damaged": []}


# -- test kinds: only with the test_tasks setting (tests and benchmarks) -----------------------------
class SleepParams(BaseModel):
    steps: int = Field(10, ge=0, le=100_000)
    step_seconds: float = Field(0.1, ge=0, le=60)
    fail_at: int | None = Field(None, ge=0, description="Fail with a message at this step")
    crash_at: int | None = Field(None, ge=0, description="Raise an unexpected error at this step")
    write_output: bool = Field(False, description="Write a partial output file at each step (scratch)")
    label: str = Field("", max_length=80)


def _sleep(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    steps = params["steps"]
    out = ctx.scratch / "output.txt"
    ctx.progress(0, steps, "Working")
    for step in range(steps):
        if params["fail_at"] == step:
            raise TaskFailed(f"Asked to fail at step {step}.", code="test_failure", hint="It is a test task.")
        if params["crash_at"] == step:
            raise RuntimeError(f"crash at step {step}")
        ctx.sleep(params["step_seconds"])
        if params["write_output"]:
            with out.open("a") as f:
                f.write(f"step {step}\n")
        ctx.progress(step + 1, steps)
    ctx.check_cancelled()
    return {"steps": steps, "label": params["label"]} | (ctx.publish_result_file(out) if params["write_output"] else {})


def _sleep_title(p: SleepParams) -> str:
    return p.label or f"Test task ({p.steps} steps)"


task_kind("test.sleep", lane="gpu", params=SleepParams, size=lambda p: float(p.steps), title=_sleep_title,
          needs="none", project=False, test_only=True)(_sleep)
task_kind("test.sleep_cpu", lane="cpu", params=SleepParams, size=lambda p: float(p.steps), title=_sleep_title,
          needs="none", project=False, test_only=True)(_sleep)


class ProjectSleepParams(SleepParams):
    kind: Literal["project"] = "project"


task_kind("test.project_sleep", lane="gpu", params=ProjectSleepParams, size=lambda p: float(p.steps),
          title=_sleep_title, needs="view", project=True, test_only=True)(_sleep)


class ImportParams(BaseModel):
    file: str = Field(pattern=r"^[\w.-]+\.msproj$", description="The uploaded file in data_dir/tmp/imports")
    workspace_id: str | None = None


@task_kind("project.import", lane="cpu", params=ImportParams, title=lambda _: "Import a project", needs="none",
           project=False)
def import_project(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    from mediastudio.auth.tables import User
    from mediastudio.projects.portability import import_from

    if not params["file"].startswith(f"{ctx.owner_id}-"):  # only the file its owner uploaded
        raise TaskFailed("There is no such uploaded file.", code="not_found",
                         hint="Upload the file with POST /api/v1/projects/import/background.")
    source = ctx.settings.data_dir / "tmp" / "imports" / params["file"]
    try:
        if not source.is_file() or source.is_symlink():
            raise TaskFailed("The uploaded file is gone.", code="not_found", hint="Upload it again.")
        ctx.progress(0, 1, "Checking and unpacking the project file")
        ctx.check_cancelled()
        with ctx.db.transaction() as db:
            owner = db.get(User, ctx.owner_id)
            project = import_from(db, ctx.settings, ctx.blobs, owner, source, params["workspace_id"])
            result = {"project_id": project.id, "name": project.name}
        ctx.progress(1, 1, f"Imported '{result['name']}'")
        return result
    finally:
        source.unlink(missing_ok=True)
