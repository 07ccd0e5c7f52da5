"""Liveness, versions and the GPU summary."""

from __future__ import annotations

import platform
from typing import Literal

from litestar import Controller, get
from pydantic import BaseModel, Field

from mediastudio import __version__
from mediastudio.db import DatabaseDep
from mediastudio.system.gpu import GpuDep
from mediastudio.ui import UIDep


class GpuSummary(BaseModel):
    state: Literal["pending", "probing", "ready", "error"] = Field(
        description="The probe runs once at start in a subprocess; 'ready' once it answered."
    )
    available: bool = Field(description="True when a CUDA or MPS device is usable.")
    backend: str = Field(description="cuda, mps, cpu, none (torch missing) or unknown (not probed yet).")
    name: str | None = None
    memory_total_mb: int | None = None
    device_count: int | None = None
    torch: str | None = None
    cuda: str | None = None
    hint: str | None = Field(None, description="What to do when generation would be slow or impossible.")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    python: str
    database: Literal["ok"]
    ui: bool = Field(description="True when the built studio UI is present.")
    gpu: GpuSummary


class SystemController(Controller):
    path = "/api/v1"
    tags = ("system",)

    @get("/health", summary="Liveness, versions and GPU summary", sync_to_thread=False)
    def health(self, database: DatabaseDep, gpu: GpuDep, ui: UIDep) -> Health:
        database.check()  # raises (→ 500 problem) when the database is unusable; asks it at most once a second
        return Health(
            status="ok",
            version=__version__,
            python=platform.python_version(),
            database="ok",
            ui=ui.present,
            gpu=GpuSummary.model_validate(gpu.summary),
        )
