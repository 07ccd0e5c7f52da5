"""Tables owned by quotas/: one row of limits per role (user, guest)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow


class RoleQuota(SQLModel, table=True):
    """What one role may use. Seeded from the settings at the first start; administrators edit it afterwards."""

    __tablename__ = "role_quotas"

    role: str = Field(primary_key=True)  # user | guest
    runs_at_once: int  # tasks waiting or running at once (0: none)
    gpu_seconds_per_day: int | None = None  # time on the GPU lane per UTC day; None = no limit, 0 = none
    storage_bytes: int | None = None  # media added (uploads, imports, generated); None = no limit
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str | None = None  # the administrator who last changed it (None: seeded)
