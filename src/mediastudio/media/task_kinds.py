"""The media task kinds: draw previews of a project's assets; verify every stored blob (administrators)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import col, select

from mediastudio.errors import TaskFailed
from mediastudio.media.previews import ensure_preview, ensure_strip, picture_kind, preview_path
from mediastudio.media.probe import PREVIEW_SIZES
from mediastudio.projects.tables import Asset
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.kinds import KindRegistry


class PreviewParams(BaseModel):
    asset_ids: list[str] | None = Field(None, max_length=10_000,
                                        description="Assets to draw previews for; all of the project's when empty")
    redraw: bool = Field(False, description="Draw again even where a preview exists")


def _preview_size(params: PreviewParams) -> float:
    return float(len(params.asset_ids)) if params.asset_ids else 10.0


def draw_previews(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
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


def _preview_title(p: PreviewParams) -> str:
    if not p.asset_ids:
        return "Draw previews"
    return f"Draw previews ({len(p.asset_ids)} file{'s' if len(p.asset_ids) != 1 else ''})"


def register(kinds: KindRegistry) -> None:
    kinds.add("media.previews", draw_previews, lane="cpu", params=PreviewParams, size=_preview_size, needs="edit",
              title=_preview_title)
    kinds.add("blobs.verify", verify_blobs, lane="cpu", params=VerifyParams, needs="admin", project=False,
              title=lambda _: "Verify stored media")
