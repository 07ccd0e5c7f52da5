"""/api/v1/projects/{id}/assets: upload (streaming), list, metadata, content (Range), previews."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Annotated, Any, Literal

from anyio import CancelScope, to_thread
from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Response, Stream
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import Session

from mediastudio.auth.former import FORMER_MEMBER, former_members
from mediastudio.auth.identity import IdentityDep
from mediastudio.common import Page
from mediastudio.db import Database, DatabaseDep
from mediastudio.errors import NotFound
from mediastudio.media import assets, quota
from mediastudio.media.leftovers import discard_new_blobs
from mediastudio.media.previews import ensure_own_previews, ensure_preview, ensure_strip, is_own_preview, picture_kind
from mediastudio.media.probe import PictureTooLarge, Undrawable
from mediastudio.media.schemas import AssetDetail, AssetOut, AssetPatch
from mediastudio.media.uploads import Upload, receive_upload
from mediastudio.paging import OffsetCursor
from mediastudio.projects.access import require
from mediastudio.projects.schemas import TagCount, users_by_id
from mediastudio.settings import Settings, SettingsDep
from mediastudio.storage.blobs import BlobsDep, BlobStore
from mediastudio.storage.serving import serve_blob
from mediastudio.tasks.system import TasksDep, TaskSystem

log = logging.getLogger("mediastudio")
MULTIPART_SLACK = 16 * 1024  # room for a multipart body's boundaries, part headers and small fields


def _names(db: Session, ids: set[str]) -> dict[str, str]:
    names = {user_id: user.display_name for user_id, user in users_by_id(db, ids).items()}
    return {**dict.fromkeys(former_members(db, ids - names.keys()), FORMER_MEMBER), **names}


def _refuse_declared(room: quota.Budget, content_length: str | None) -> None:
    """A body declared larger than the quota has room for is refused before a byte of it is read."""
    remaining = room.remaining
    declared = int(content_length) if content_length and content_length.isdigit() else 0
    if remaining is not None and declared - MULTIPART_SLACK > remaining:
        raise room.refusal(declared, "about ")


class AssetsController(Controller):
    path = "/api/v1/projects/{project_id:str}/assets"
    tags = ("assets",)

    @post(summary="Upload files (multipart field 'file', repeatable; optional 'category', 'tags')",
          status_code=HTTP_201_CREATED, request_max_body_size=None, opt={"expensive": True})
    async def upload(self, project_id: FromPath[str], request: Request, identity: IdentityDep, database: DatabaseDep,
                     settings: SettingsDep, blobs: BlobsDep, tasks: TasksDep) -> Response[list[AssetOut]]:
        with database.session() as db:
            require(db, identity.user, project_id, "edit")  # refuse before reading a byte
            room = quota.room(db, settings, identity.user)
        _refuse_declared(room, request.headers.get("content-length"))
        upload = Upload()
        try:
            return await self._store(project_id, request, identity, database, settings, blobs, tasks, upload, room)
        except BaseException:  # nothing of a failed upload stays: the blobs it created that no asset names go
            with CancelScope(shield=True):
                await to_thread.run_sync(discard_new_blobs, database, blobs, upload.created)
            raise

    @staticmethod
    async def _store(project_id: str, request: Request, identity: Any, database: Database, settings: Settings,
                     blobs: BlobStore, tasks: TaskSystem, upload: Upload,
                     room: quota.Budget) -> Response[list[AssetOut]]:
        # The size limit holds per file, the quota for the whole request, both while the bytes stream in.
        await receive_upload(request.headers.get("content-type", ""), request.stream(), blobs, upload,
                             limit=settings.upload_max_bytes, max_pixels=settings.max_image_pixels,
                             room=room)
        category = upload.fields.get("category") or None
        tags = [t for t in upload.fields.get("tags", "").replace(",", " ").split() if t]
        files = [(assets.clean_filename(f.filename, f"upload.{f.sniffed.extension}"), f.sha256, f.sniffed, f.probed,
                  f.size) for f in upload.files]

        # A picture no larger than the smallest preview is its own preview: drawn here, before the answer. The
        # others' previews are drawn on the CPU lane, so they never wait behind a render on the GPU lane.
        own = [is_own_preview(picture_kind(category or f.sniffed.category, f.sniffed.mime), f.probed.width,
                              f.probed.height) for f in upload.files]

        def record() -> tuple[list[AssetOut], Any]:
            with database.transaction() as db:
                made = assets.add_assets(db, settings, identity.user, project_id, files, category=category,
                                         tags=tags)
                rest = [a.id for a, drawn_here in zip(made, own, strict=True) if not drawn_here]
                previews = tasks.new(db, identity.user, "media.previews", {"asset_ids": rest}, project_id,
                                     system=True) if rest else None
            for asset in (a for a, drawn_here in zip(made, own, strict=True) if drawn_here):
                try:
                    ensure_own_previews(settings.data_dir, blobs, asset.sha256, max_pixels=settings.max_image_pixels)
                except Exception:  # stored and answered all the same: its preview is drawn when first asked for
                    log.exception("Could not draw the previews of asset %s", asset.id)
            return [AssetOut.of(a) for a in made], previews

        made, previews = await to_thread.run_sync(record)
        if previews is not None:
            tasks.submit(previews)
        made = [a.model_copy(update={"created_by_name": identity.user.display_name}) for a in made]
        return Response(made, status_code=HTTP_201_CREATED)

    @get(summary="The project's assets, newest first: search, category, tag, trash", sync_to_thread=True)
    def list_assets(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                    q: FromQuery[str | None] = None, category: FromQuery[str | None] = None,
                    tag: FromQuery[str | None] = None, trashed: FromQuery[bool] = False,
                    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
                    cursor: OffsetCursor = None) -> Page[AssetOut]:
        with database.session() as db:
            rows, next_cursor = assets.list_assets(db, identity.user, project_id, q=q, category=category, tag=tag,
                                                   trashed=trashed, limit=limit, cursor=cursor)
            names = _names(db, {a.created_by for a in rows})
        return Page(items=[AssetOut.of(a, names) for a in rows], next_cursor=next_cursor)

    @get("/tags", summary="Tags in use on the project's assets, with counts", sync_to_thread=True)
    def asset_tags(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep) -> list[TagCount]:
        with database.session() as db:
            rows, _ = assets.list_assets(db, identity.user, project_id, q=None, category=None, tag=None,
                                         trashed=False, limit=100_000, cursor=None)
        counts = Counter(tag for a in rows for tag in a.tags.split())
        return [TagCount(tag=t, count=c) for t, c in sorted(counts.items())]

    @get("/{asset_id:str}", summary="An asset's metadata and provenance", sync_to_thread=True)
    def get_asset(self, project_id: FromPath[str], asset_id: FromPath[str], identity: IdentityDep,
                  database: DatabaseDep, settings: SettingsDep) -> AssetDetail:
        with database.session() as db:
            project, asset = assets.get_asset(db, identity.user, project_id, asset_id)
            names = _names(db, {asset.created_by})
        meta = assets.read_meta(settings, project, asset_id)
        return AssetDetail(**AssetOut.of(asset, names).model_dump(), provenance=meta.get("provenance"),
                           fps=assets.clip_fps(meta))

    @patch("/{asset_id:str}", summary="Rename, tag, recategorise, trash or restore an asset", sync_to_thread=True)
    def update_asset(self, project_id: FromPath[str], asset_id: FromPath[str], data: JSONBody[AssetPatch],
                     identity: IdentityDep, database: DatabaseDep, settings: SettingsDep) -> AssetOut:
        with database.transaction() as db:
            asset = assets.update_asset(db, settings, identity.user, project_id, asset_id,
                                        data.model_dump(exclude_unset=True))
        return AssetOut.of(asset)

    @get("/{asset_id:str}/content", summary="The asset's bytes (Range, ETag)", sync_to_thread=True)
    def content(self, project_id: FromPath[str], asset_id: FromPath[str], request: Request, identity: IdentityDep,
                database: DatabaseDep, blobs: BlobsDep, download: FromQuery[bool] = False) -> Response | Stream:
        with database.session() as db:
            _, asset = assets.get_asset(db, identity.user, project_id, asset_id)
        return serve_blob(request, blobs.path(asset.sha256), asset.sha256, asset.mime, asset.name,
                          download=download)

    @get("/{asset_id:str}/preview", summary="A WebP preview (256 px, or 1024 with size=1024; a video's "
         "scrub strip with kind=strip)", sync_to_thread=True)
    def preview(self, project_id: FromPath[str], asset_id: FromPath[str], request: Request,
                  identity: IdentityDep, database: DatabaseDep, settings: SettingsDep, blobs: BlobsDep,
                  size: Annotated[int, QueryParameter(description="256 or 1024")] = 256,
                  kind: Annotated[Literal["preview", "strip"], QueryParameter()] = "preview") -> Response | Stream:
        with database.session() as db:
            _, asset = assets.get_asset(db, identity.user, project_id, asset_id)
        media = picture_kind(asset.category, asset.mime)
        if kind == "strip":
            if media != "video":
                raise NotFound("Only videos have a scrub strip.")
            strip = ensure_strip(settings.data_dir, blobs, asset.sha256)
            return serve_blob(request, strip, f"{asset.sha256}-strip", "image/webp", f"{asset.name}-strip.webp",
                              cache="private, max-age=86400")
        size = 1024 if size > 256 else 256
        try:
            path = ensure_preview(settings.data_dir, blobs, asset.sha256, media, size,
                                  max_pixels=settings.max_image_pixels)
        except PictureTooLarge as exc:  # an imported picture, or one from before the limit was lowered
            raise Undrawable(exc.detail, hint="Download it to see it; a smaller copy of it gets a preview.",
                             limit_pixels=exc.extra.get("limit_pixels")) from None
        if path is None:
            raise NotFound(f"A {asset.category} asset has no preview picture.")
        return serve_blob(request, path, f"{asset.sha256}-{size}", "image/webp", f"{asset.name}.webp",
                          cache="private, max-age=86400")
