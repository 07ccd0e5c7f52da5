"""What the asset API takes and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar.params import Parameter
from pydantic import BaseModel, Field

from mediastudio.common import UtcDatetime
from mediastudio.projects.schemas import TAGS_MAX, Tag
from mediastudio.projects.tables import Asset


class AssetOut(BaseModel):
    id: str
    project_id: str
    name: str
    category: str = Field(description="image | video | audio | model | reference | generated")
    mime: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    duration: float | None = Field(description="Seconds, for video and audio.")
    tags: list[str]
    created_by: str
    created_by_name: str | None = Field(None, description="The uploader's display name (\"Former member\" once "
                                                          "their account is deleted).")
    created_at: UtcDatetime
    trashed_at: UtcDatetime | None
    content_url: str
    preview_url: str | None = Field(description="A WebP preview; null for kinds without a picture.")

    @classmethod
    def of(cls, asset: Asset, names: dict[str, str] | None = None) -> AssetOut:
        base = f"/api/v1/projects/{asset.project_id}/assets/{asset.id}"
        has_picture = asset.category in ("image", "video", "audio", "generated")
        return cls(id=asset.id, project_id=asset.project_id, name=asset.name, category=asset.category,
                   mime=asset.mime, size=asset.size, sha256=asset.sha256, width=asset.width, height=asset.height,
                   duration=asset.duration, tags=asset.tags.split(), created_by=asset.created_by,
                   created_by_name=(names or {}).get(asset.created_by),
                   created_at=asset.created_at, trashed_at=asset.trashed_at, content_url=f"{base}/content",
                   preview_url=f"{base}/preview" if has_picture else None)


class AssetDetail(AssetOut):
    provenance: dict | None = Field(
        None, description="For generated assets: scene, node, graph snapshot, seed, model, task.")
    fps: float | None = Field(None, description="A clip's frames per second, from its file as read when it was "
                                                "added (frame steps go by it); null for anything else, or a clip "
                                                "whose file says none")


Category = Literal["image", "video", "audio", "model", "reference", "generated"]  # media.assets.CATEGORIES


class AssetPatch(BaseModel):
    name: str | None = Field(None, max_length=1000, description="Cleaned of folders and control characters, "
                                                                "cut to 200 characters")
    tags: Annotated[list[Tag] | None, Parameter(max_items=TAGS_MAX)] = Field(None, max_length=TAGS_MAX)
    category: Category | None = None
    trashed: bool | None = Field(None, description="true moves it to the trash, false restores it")
