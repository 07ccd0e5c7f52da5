from __future__ import annotations

from pydantic import BaseModel, Field


class SampleOut(BaseModel):
    id: str = Field(description="Name it in POST /api/v1/samples/{id}/copy.")
    name: str
    description: str = Field(description="One line: what the sample shows.")
    cover_url: str = Field(description="A small picture of it (WebP).")


class SampleCopy(BaseModel):
    workspace_id: str | None = Field(None, max_length=64, description="Default: your personal workspace.")
