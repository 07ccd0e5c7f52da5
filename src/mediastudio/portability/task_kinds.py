"""The portability task kinds: export a project to a .msproj file, import one from an uploaded file."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mediastudio.auth.tables import User
from mediastudio.errors import TaskFailed
from mediastudio.portability.service import export_to_file, import_from
from mediastudio.projects.tables import Project
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.kinds import KindRegistry


class ExportParams(BaseModel):
    pass


def export_project(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
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


class ImportParams(BaseModel):
    file: str = Field(pattern=r"^[\w.-]+\.msproj$", description="The uploaded file in data_dir/tmp/imports")
    workspace_id: str | None = None


def import_project(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
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


def register(kinds: KindRegistry) -> None:
    kinds.add("project.export", export_project, lane="cpu", params=ExportParams, needs="view",
              title=lambda _: "Export '{project}'")
    kinds.add("project.import", import_project, lane="cpu", params=ImportParams, needs="none", project=False,
              title=lambda _: "Import a project")
