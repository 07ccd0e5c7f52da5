"""GET /api/v1/auth/me/usage: the caller's storage, so nobody learns of their quota only from a refusal."""

from __future__ import annotations

from litestar import get
from pydantic import BaseModel, Field

from mediastudio.auth.identity import IdentityDep
from mediastudio.db import DatabaseDep
from mediastudio.media import quota
from mediastudio.settings import SettingsDep


class StorageUsage(BaseModel):
    used_bytes: int = Field(description="Bytes of distinct media you added (uploads, imports, generated) that "
                                        "projects still hold, their trash included.")
    quota_bytes: int | None = Field(description="Your limit; null when there is none.")
    remaining_bytes: int | None = Field(description="Room left; null when there is no limit.")


@get("/api/v1/auth/me/usage", summary="Your storage use and quota", tags=["auth"], sync_to_thread=True)
def my_usage(identity: IdentityDep, database: DatabaseDep, settings: SettingsDep) -> StorageUsage:
    with database.session() as db:
        room = quota.budget(db, settings, identity.user)
    return StorageUsage(used_bytes=room.used, quota_bytes=room.quota or None, remaining_bytes=room.remaining)
