"""/api/v1/admin/quotas: each role's limits, as administrators read and change them."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, patch
from litestar.params import JSONBody
from pydantic import BaseModel, ConfigDict, Field

from mediastudio.audit.actions import Action
from mediastudio.audit.record import ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep, admins_only
from mediastudio.common import UtcDatetime
from mediastudio.db import DatabaseDep
from mediastudio.errors import BadRequest
from mediastudio.quotas import service
from mediastudio.quotas.tables import RoleQuota
from mediastudio.settings import SettingsDep

MAX_RUNS = 10_000
MAX_GPU_MINUTES = 1_000_000.0
MAX_STORAGE = 1024**5  # 1 PiB


class RoleQuotaOut(BaseModel):
    runs_at_once: int = Field(description="Tasks (runs, exports…) one person may have waiting or running at once; "
                                          "0 = none.")
    gpu_minutes_per_day: float | None = Field(
        description="Minutes one person's tasks may run on the GPU lane per day (the day starts at 00:00 UTC); "
                    "null = no limit, 0 = no GPU runs. A run that is running when they are used up finishes.")
    storage_bytes: int | None = Field(description="Media one person may add (uploads, imports, generated results); "
                                                  "null = no limit.")
    updated_at: UtcDatetime

    @classmethod
    def of(cls, row: RoleQuota) -> RoleQuotaOut:
        seconds = row.gpu_seconds_per_day
        return cls(runs_at_once=row.runs_at_once, storage_bytes=row.storage_bytes, updated_at=row.updated_at,
                   gpu_minutes_per_day=None if seconds is None else round(seconds / 60, 2))


class QuotasOut(BaseModel):
    user: RoleQuotaOut = Field(description="Registered people (administrators have no GPU-minute or storage "
                                           "limit; their runs at once stay at the server's task_quota setting)")
    guest: RoleQuotaOut = Field(description="Guests trying the studio without an account")
    resets: str = Field(service.RESETS, description="When the day's GPU minutes start again")


class RoleQuotaPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runs_at_once: int | None = Field(None, ge=0, le=MAX_RUNS, description="0 = no tasks at all.")
    gpu_minutes_per_day: float | None = Field(None, ge=0, le=MAX_GPU_MINUTES,
                                              description="null = no limit, 0 = no GPU runs; kept to the second.")
    storage_bytes: int | None = Field(None, ge=0, le=MAX_STORAGE, description="null = no limit.")


class QuotasPatch(BaseModel):
    """Only the fields given change; a field given as null means no limit (not allowed for runs_at_once)."""

    model_config = ConfigDict(extra="forbid")

    user: RoleQuotaPatch | None = None
    guest: RoleQuotaPatch | None = None


def _changes(role: str, patch: RoleQuotaPatch) -> dict[str, Any]:
    given = patch.model_fields_set
    changes: dict[str, Any] = {}
    if "runs_at_once" in given:
        if patch.runs_at_once is None:
            raise BadRequest("Runs waiting or running at once needs a number; it cannot be unlimited.",
                             hint=f"Give a whole number from 0 (no tasks) to {MAX_RUNS}.", field=f"{role}.runs_at_once")
        changes["runs_at_once"] = patch.runs_at_once
    if "gpu_minutes_per_day" in given:
        minutes = patch.gpu_minutes_per_day
        changes["gpu_seconds_per_day"] = None if minutes is None else max(1, round(minutes * 60)) if minutes else 0
    if "storage_bytes" in given:
        changes["storage_bytes"] = patch.storage_bytes
    return changes


def _answer(rows: dict[service.Role, RoleQuota]) -> QuotasOut:
    return QuotasOut(user=RoleQuotaOut.of(rows["user"]), guest=RoleQuotaOut.of(rows["guest"]))


class QuotasController(Controller):
    path = "/api/v1/admin/quotas"
    tags = ("admin",)
    guards = [admins_only]  # noqa: RUF012  (Litestar's way)

    @get(summary="Each role's quotas", sync_to_thread=True)
    def get_quotas(self, database: DatabaseDep, settings: SettingsDep) -> QuotasOut:
        with database.session() as db:
            return _answer(service.rows(db, settings))

    @patch(summary="Change the quotas of users or guests (only the fields given)", sync_to_thread=True)
    def update_quotas(self, data: JSONBody[QuotasPatch], identity: IdentityDep, database: DatabaseDep,
                      settings: SettingsDep, actor: ActorDep) -> QuotasOut:
        wanted = {role: _changes(role, part) for role, part in (("user", data.user), ("guest", data.guest))
                  if part is not None}
        with database.transaction() as db:
            for role, changes in wanted.items():
                service.update(db, settings, identity.user, "guest" if role == "guest" else "user", changes)
            if wanted:
                record(db, actor, Action.SETTINGS_QUOTAS, Target("settings", "quotas", "Quotas"), wanted)
        with database.session() as db:
            return _answer(service.rows(db, settings))
