"""POST /api/v1/projects/{id}/assets/{asset id}/mask: a mask painted over a picture, saved as a new asset."""

from __future__ import annotations

from anyio import CancelScope, to_thread
from litestar import Controller, Request, post
from litestar.params import FromPath
from litestar.response import Response
from litestar.status_codes import HTTP_201_CREATED

from mediastudio.auth.identity import IdentityDep
from mediastudio.auth.tables import User
from mediastudio.db import Database, DatabaseDep
from mediastudio.media import assets, quota
from mediastudio.media.controller import MULTIPART_SLACK
from mediastudio.media.leftovers import discard_new_blobs
from mediastudio.media.masks import MASK_TAG, MaskFile, check_mask, mask_name, mask_source, store_greyscale
from mediastudio.media.schemas import AssetOut
from mediastudio.media.uploads import PayloadTooLarge, Upload, receive_upload
from mediastudio.projects.tables import Asset
from mediastudio.settings import Settings, SettingsDep
from mediastudio.storage.blobs import BlobsDep


def mask_limit(width: int, height: int) -> int:
    """The most bytes a mask of this picture may take: an RGBA PNG stored uncompressed, and some room."""
    return width * height * 4 + height + 64 * 1024


class MasksController(Controller):
    path = "/api/v1/projects/{project_id:str}/assets/{asset_id:str}/mask"
    tags = ("assets",)

    @post(summary="Save a mask painted over a picture (multipart 'file': a PNG of the picture's size; "
          "white = repaint) as a new asset tagged 'mask'", status_code=HTTP_201_CREATED,
          request_max_body_size=None, opt={"expensive": True})
    async def save_mask(self, project_id: FromPath[str], asset_id: FromPath[str], request: Request,
                        identity: IdentityDep, database: DatabaseDep, settings: SettingsDep,
                        blobs: BlobsDep) -> Response[AssetOut]:
        with database.session() as db:  # refused before a byte is read: rights, the source, the quota
            source = mask_source(db, identity.user, project_id, asset_id)
            room = quota.room(db, settings, identity.user)
        limit = min(settings.upload_max_bytes, mask_limit(source.width or 0, source.height or 0))
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) - MULTIPART_SLACK > limit:
            raise PayloadTooLarge(f"A mask of '{source.name}' takes at most {limit:,} bytes.",
                                  hint="Send the mask as a PNG of the picture's size.", limit=limit)
        upload, stored = Upload(), None
        try:
            await receive_upload(request.headers.get("content-type", ""), request.stream(), blobs, upload,
                                 limit=limit, max_pixels=settings.max_image_pixels, room=room)
            received = check_mask(upload.files, source)
            stored = await to_thread.run_sync(store_greyscale, blobs, blobs.path(received.sha256),
                                              settings.max_image_pixels)
            made = await to_thread.run_sync(self._record, database, settings, identity.user, project_id, source,
                                            stored)
        except BaseException:
            created = upload.created + ([(stored.sha256, stored.created)] if stored and stored.created else [])
            with CancelScope(shield=True):
                await to_thread.run_sync(discard_new_blobs, database, blobs, created)
            raise
        with CancelScope(shield=True):  # what the browser sent is kept only when it was the greyscale PNG itself
            await to_thread.run_sync(discard_new_blobs, database, blobs, upload.created)
        return Response(made.model_copy(update={"created_by_name": identity.user.display_name}),
                        status_code=HTTP_201_CREATED)

    @staticmethod
    def _record(database: Database, settings: Settings, actor: User, project_id: str, source: Asset,
                stored: MaskFile) -> AssetOut:
        """One asset, one commit; its previews are drawn when first asked for (a mask is rarely looked at
        apart from its picture)."""
        name = mask_name(source)
        with database.transaction() as db:
            (made,) = assets.add_assets(
                db, settings, actor, project_id, [(name, stored.sha256, stored.sniffed, stored.probed, stored.size)],
                category="image", tags=[MASK_TAG],
                provenance={"kind": "mask", "mask_of": source.id, "source_name": source.name},
                message=f"Painted a mask over '{source.name}'")
        return AssetOut.of(made)
