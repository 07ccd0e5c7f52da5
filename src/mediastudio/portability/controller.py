"""Projects in and out of the studio over HTTP: .msproj export (one, or many as a zip), import (at once or as a
task), and bulk actions on many projects (export among them)."""

from __future__ import annotations

import secrets
import tempfile
import zipfile
from functools import partial
from pathlib import Path
from typing import BinaryIO

from anyio import to_thread
from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import File, Response
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED
from multipart import MultipartError

from mediastudio import bodies
from mediastudio.audit.actions import Action
from mediastudio.audit.record import Actor, ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep
from mediastudio.auth.tables import User
from mediastudio.db import Database, DatabaseDep
from mediastudio.errors import BadRequest, MediastudioError
from mediastudio.media.quota import refuse_guest_import
from mediastudio.portability import service as portability
from mediastudio.projects import service
from mediastudio.projects.schemas import BulkAction, BulkOut, BulkResult, ProjectOut, project_out_for
from mediastudio.projects.tables import Project
from mediastudio.settings import Settings, SettingsDep
from mediastudio.storage.blobs import BlobsDep, BlobStore
from mediastudio.tasks.schemas import TaskOut
from mediastudio.tasks.system import TasksDep
from mediastudio.tasks.tables import Task

ZIP = "application/zip"
MULTIPART_SLACK = 64 * 1024  # a form's boundaries and headers around the file


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _record_exports(database: Database, actor: Actor, project_ids: list[str], **details: object) -> None:
    """The exports made (a read changes nothing: the entries have a transaction of their own)."""
    with database.transaction() as db:
        for project_id in project_ids:
            project = db.get(Project, project_id)
            record(db, actor, Action.PROJECT_EXPORT, Target("project", project_id, project.name if project else ""),
                   details or None)


class PortabilityController(Controller):
    path = "/api/v1/projects"
    tags = ("projects",)

    @get("/export", summary="Download many projects as one zip of .msproj files (ids comma-separated)",
         sync_to_thread=True, opt={"expensive": True}, media_type=ZIP)
    def export_many(self, ids: FromQuery[str], identity: IdentityDep, database: DatabaseDep, settings: SettingsDep,
                    blobs: BlobsDep, actor: ActorDep) -> File:
        wanted = [i for i in ids.split(",") if i.strip()][:500]
        if not wanted:
            raise BadRequest("Name the projects to export: ?ids=p_1,p_2", field="ids")
        return self._bulk_export(wanted, identity.user, database, settings, blobs, actor)

    @post(
        "/bulk",
        summary="Archive, unarchive, delete, restore or export many projects",
        sync_to_thread=True,
        status_code=200,
        opt={"expensive": True},
    )
    def bulk(self, data: JSONBody[BulkAction], identity: IdentityDep, database: DatabaseDep, settings: SettingsDep,
             blobs: BlobsDep, actor: ActorDep) -> Response[BulkOut]:
        """For `export` the answer is the zip file (GET /projects/export?ids= lets a browser save it as it streams)."""
        if data.action == "export":
            return self._bulk_export(data.ids, identity.user, database, settings, blobs, actor)
        results = []
        for project_id in dict.fromkeys(data.ids):
            try:
                with database.transaction() as db:
                    if data.action in ("archive", "unarchive"):
                        service.update_project(
                            db, settings, identity.user, project_id, {"archived": data.action == "archive"}
                        )
                    elif data.action == "delete":
                        project = service.trash_project(db, settings, identity.user, project_id)
                        record(db, actor, Action.PROJECT_TRASH, Target("project", project.id, project.name))
                    else:
                        project = service.restore_project(db, settings, identity.user, project_id)
                        record(db, actor, Action.PROJECT_RESTORE, Target("project", project.id, project.name))
                results.append(BulkResult(id=project_id, ok=True))
            except MediastudioError as exc:
                results.append(BulkResult(id=project_id, ok=False, detail=exc.detail))
        return Response(BulkOut(results=results))

    @staticmethod
    def _bulk_export(ids: list[str], user: User, database: Database, settings: Settings,
                     blobs: BlobStore, actor: Actor) -> File:
        exports = settings.data_dir / "tmp" / "exports"
        exports.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=exports, suffix=".zip")
        target = Path(name)
        try:  # a refused project (or a full disk) leaves no half zip behind
            with open(fd, "wb") as handle, \
                    zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for project_id in dict.fromkeys(ids):
                    with database.session() as db:
                        single = portability.export_to_file(db, settings, blobs, user, project_id,
                                                            exports)
                    try:
                        archive.write(single, single.name.split("-", 2)[-1] if single.name.count("-") >= 2
                                      else single.name)
                    finally:
                        single.unlink(missing_ok=True)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        _record_exports(database, actor, list(dict.fromkeys(ids)), zip=True)
        return File(
            target, filename="mediastudio-projects.zip", media_type=ZIP, background=BackgroundTask(_remove, target)
        )

    @get(
        "/{project_id:str}/export",
        summary="Download the project as one .msproj file",
        sync_to_thread=True,
        opt={"expensive": True},
        media_type=ZIP,
    )
    def export_project(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                       settings: SettingsDep, blobs: BlobsDep, actor: ActorDep) -> File:
        with database.session() as db:
            path = portability.export_to_file(
                db,
                settings,
                blobs,
                identity.user,
                project_id,
                settings.data_dir / "tmp" / "exports",
            )
        _record_exports(database, actor, [project_id])
        return File(
            path,
            filename=path.name.split("-", 2)[-1],
            media_type="application/zip",
            background=BackgroundTask(_remove, path),
        )

    @post(
        "/import",
        summary="Recreate a project from a .msproj file (raw body, or multipart field 'file')",
        status_code=HTTP_201_CREATED,
        opt={"expensive": True},
        request_max_body_size=None,
    )
    async def import_project(
        self,
        request: Request,
        identity: IdentityDep,
        database: DatabaseDep,
        settings: SettingsDep,
        blobs: BlobsDep,
        actor: ActorDep,
        workspace_id: FromQuery[str | None] = None,
    ) -> ProjectOut:
        refuse_guest_import(settings, identity.user)  # before a byte is read
        staging = settings.data_dir / "tmp"
        staging.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=staging) as spool:
            await self._receive(request, spool, settings.import_max_bytes)
            spool.seek(0)
            def run() -> ProjectOut:
                with database.transaction() as db:
                    project = portability.import_from(db, settings, blobs, identity.user, spool, workspace_id)
                    record(db, actor, Action.PROJECT_IMPORT, Target("project", project.id, project.name),
                           {"workspace_id": project.workspace_id})
                with database.session() as db:
                    return project_out_for(db, identity.user, project.id)

            return await to_thread.run_sync(run)

    @post(
        "/import/background",
        summary="Upload a .msproj and import it as a task (progress, cancel, a notification when done)",
        status_code=HTTP_202_ACCEPTED,
        opt={"expensive": True},
        request_max_body_size=None,
    )
    async def import_in_background(
        self,
        request: Request,
        identity: IdentityDep,
        database: DatabaseDep,
        settings: SettingsDep,
        tasks: TasksDep,
        actor: ActorDep,
        workspace_id: FromQuery[str | None] = None,
    ) -> TaskOut:
        refuse_guest_import(settings, identity.user)  # before a byte is read
        folder = settings.data_dir / "tmp" / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        # The name says whose upload it is (the task imports only its owner's) and cannot be guessed.
        path = folder / f"{identity.user.id}-{secrets.token_hex(16)}.msproj"
        try:
            with path.open("xb") as spool:
                await self._receive(request, spool, settings.import_max_bytes)

            def start() -> Task:
                with database.transaction() as db:
                    task = tasks.new(db, identity.user, "project.import",
                                     {"file": path.name, "workspace_id": workspace_id}, None)
                    record(db, actor, Action.PROJECT_IMPORT, Target("project"),
                           {"task_id": task.id, "workspace_id": workspace_id})
                    return task

            task = await to_thread.run_sync(start)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        tasks.submit(task)
        return tasks.describe([task])[0]

    @staticmethod
    async def _receive(request: Request, spool: BinaryIO, limit: int) -> None:
        """Stream the upload to disk (bodies.py): a raw zip body, or the 'file' field of a multipart form. The
        limit holds either way, counted as the bytes arrive (a form is parsed as it streams, never buffered)."""
        kind = request.headers.get("content-type", "")
        form = kind.startswith(bodies.MULTIPART)
        too_large = partial(_too_large, limit)
        bodies.refuse_declared(request.headers, limit + (MULTIPART_SLACK if form else 0), too_large)
        if form:
            size = await _receive_form(request, kind, spool, limit)
        else:
            size = 0
            async for chunk in bodies.counted(request.stream(), limit, too_large):
                size += len(chunk)
                spool.write(chunk)
        if size == 0:
            raise BadRequest(
                "The request has no file in it.",
                hint="Send the .msproj as the body (Content-Type: application/zip) or as 'file'.",
            )


def _too_large(limit: int) -> BadRequest:
    return BadRequest(f"The file is larger than {limit // (1 << 20)} MiB.",
                      hint="Raise MEDIASTUDIO_IMPORT_MAX_BYTES if this project really is that large.")


async def _receive_form(request: Request, kind: str, spool: BinaryIO, limit: int) -> int:
    """Write the form's first 'file' field to `spool` as it arrives; other fields are skipped. Returns its size."""
    boundary = bodies.boundary(kind)
    if boundary is None:
        raise BadRequest("The form has no boundary.", field="file")
    too_large = partial(_too_large, limit)
    size, found, into_file = 0, False, False
    try:
        stream = bodies.counted(request.stream(), limit + MULTIPART_SLACK, too_large)
        async for event in bodies.parts(boundary, stream, max_parts=20):
            if isinstance(event, bodies.Part):
                into_file = event.name == "file" and not found
                found = found or into_file
            elif event is bodies.PART_END:
                into_file = False
            elif into_file:
                size += len(event)
                if size > limit:
                    raise too_large()
                spool.write(event)
    except MultipartError:
        raise BadRequest("The form is malformed.", field="file",
                         hint="Send the .msproj as the multipart field 'file', or as the raw body.") from None
    if not found:
        raise BadRequest("Send the project file in the multipart field 'file'.", field="file")
    return size
