"""GET /api/v1/auth/me/usage (the caller's storage) and /api/v1/auth/me/quotas (every limit of theirs and what they
use of it), so nobody learns of a quota only from a refusal."""

from __future__ import annotations

from typing import Literal

from litestar import get
from pydantic import BaseModel, Field

from mediastudio.auth.identity import IdentityDep
from mediastudio.common import UtcDatetime, utcnow
from mediastudio.db import DatabaseDep
from mediastudio.media import quota
from mediastudio.quotas import service as quotas
from mediastudio.settings import SettingsDep
from mediastudio.tasks import service as tasks


class StorageUsage(BaseModel):
    used_bytes: int = Field(description="Bytes of distinct media you added (uploads, imports, generated) that "
                                        "projects still hold, their trash included.")
    quota_bytes: int | None = Field(description="Your limit; null when there is none.")
    remaining_bytes: int | None = Field(description="Room left; null when there is no limit.")


@get("/api/v1/auth/me/usage", summary="Your storage use and quota", tags=["auth"], sync_to_thread=True)
def my_usage(identity: IdentityDep, database: DatabaseDep, settings: SettingsDep) -> StorageUsage:
    with database.session() as db:
        room = quota.budget(db, settings, identity.user)
    return StorageUsage(used_bytes=room.used, quota_bytes=room.quota, remaining_bytes=room.remaining)


class RunsUse(BaseModel):
    used: int = Field(description="Your tasks waiting or running now.")
    limit: int = Field(description="How many may wait or run at once.")


class GpuUse(BaseModel):
    used: float = Field(description="Minutes your tasks ran on the GPU lane today (since 00:00 UTC), a running one "
                                    "up to now.")
    limit: float | None = Field(description="Your minutes a day; null = no limit, 0 = no GPU runs.")


class StorageUse(BaseModel):
    used_bytes: int
    limit_bytes: int | None = Field(description="null = no limit.")


class MyQuotas(BaseModel):
    role: Literal["user", "guest", "admin"] = Field(description="Whose limits apply: administrators have no GPU-minute "
                                                                "or storage limit.")
    runs: RunsUse
    gpu_minutes: GpuUse
    storage: StorageUse
    resets_at: UtcDatetime = Field(description="When the day's GPU minutes start again (00:00 UTC).")


@get("/api/v1/auth/me/quotas", summary="Your quotas and what you use of them", tags=["auth"], sync_to_thread=True)
def my_quotas(identity: IdentityDep, database: DatabaseDep, settings: SettingsDep) -> MyQuotas:
    user, now = identity.user, utcnow()
    with database.session() as db:
        limits = quotas.limits(db, settings, user)
        active, _ = tasks.active_counts(db, user.id, "gpu")
        gpu = tasks.gpu_seconds_today(db, user.id, now)
        room = quota.budget(db, settings, user)
    allowed = limits.gpu_seconds_per_day
    gpu_limit = None if allowed is None else round(allowed / 60, 2)
    return MyQuotas(role=limits.role, runs=RunsUse(used=active, limit=limits.runs_at_once),
                    gpu_minutes=GpuUse(used=round(gpu / 60, 2), limit=gpu_limit),
                    storage=StorageUse(used_bytes=room.used, limit_bytes=room.quota),
                    resets_at=quotas.next_reset(now))
