"""The server's view of the GPU: probed once at start in a subprocess, so the API never imports torch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sys
import time
from typing import Any

from litestar.di import NamedDependency

log = logging.getLogger("mediastudio")

PROBE_TIMEOUT_S = 120.0


class GpuProbe:
    """Holds the latest GPU summary; `run()` fills it from a `gpu_probe` subprocess."""

    def __init__(self) -> None:
        self.summary: dict[str, Any] = {"state": "pending", "available": False, "backend": "unknown"}

    async def run(self) -> None:
        self.summary = {**self.summary, "state": "probing"}
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "mediastudio.system.gpu_probe",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            try:
                out, err = await asyncio.wait_for(proc.communicate(), PROBE_TIMEOUT_S)
            except (TimeoutError, asyncio.CancelledError):
                proc.kill()
                await proc.wait()
                raise
            if proc.returncode != 0:
                raise RuntimeError(err.decode(errors="replace").strip()[-500:])
            self.summary = {"state": "ready", **json.loads(out)}
        except asyncio.CancelledError:
            self.summary = {**self.summary, "state": "pending"}
            raise
        except Exception as exc:
            log.warning("GPU probe failed: %s", exc)
            self.summary = {"state": "error", "available": False, "backend": "unknown",
                            "hint": f"The GPU probe failed: {exc}. Run `mediastudio doctor`."}
        else:
            if not self.summary.get("available"):
                log.warning("%s", self.summary.get("hint"))


GpuDep = NamedDependency[GpuProbe]


NVIDIA_SMI_QUERY = "index,name,memory.used,memory.total,utilization.gpu"
NVIDIA_SMI_TIMEOUT_S = 3.0
USAGE_KEPT_S = 5.0  # a scrape every few seconds asks nvidia-smi at most this often
MB = 1024 * 1024


def nvidia_smi_command() -> list[str] | None:
    """The command that reads every NVIDIA GPU's memory and load now, or None where nvidia-smi is missing."""
    found = shutil.which("nvidia-smi")
    return [found, f"--query-gpu={NVIDIA_SMI_QUERY}", "--format=csv,noheader,nounits"] if found else None


def parse_nvidia_smi(text: str) -> list[dict[str, Any]]:
    """nvidia-smi's CSV → [{index, name, memory_used_bytes, memory_total_bytes, utilization}] (a field it cannot
    tell, "[N/A]", is left out)."""
    devices = []
    for line in text.strip().splitlines():
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) != 5:
            continue
        device: dict[str, Any] = {"index": cells[0], "name": cells[1]}
        for key, cell, scale in (("memory_used_bytes", cells[2], MB), ("memory_total_bytes", cells[3], MB),
                                 ("utilization", cells[4], 0.01)):
            with contextlib.suppress(ValueError):
                device[key] = float(cell) * scale
        devices.append(device)
    return devices


def torch_memory() -> dict[str, float] | None:
    """What this process's torch holds on its CUDA device, without importing torch (only if a run did)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return {"allocated": float(torch.cuda.memory_allocated()), "reserved": float(torch.cuda.memory_reserved())}


class GpuUsage:
    """The GPUs' memory and load now, for `GET /metrics`: nvidia-smi, asked at most every USAGE_KEPT_S, only
    where the probe found a CUDA device ([] elsewhere: the series are left out)."""

    def __init__(self, probe: GpuProbe) -> None:
        self.probe = probe
        self.devices: list[dict[str, Any]] = []
        self._asked = -USAGE_KEPT_S

    async def refresh(self) -> list[dict[str, Any]]:
        command = nvidia_smi_command() if self.probe.summary.get("backend") == "cuda" else None
        if command is None:
            self.devices = []
            return self.devices
        if time.monotonic() - self._asked < USAGE_KEPT_S:
            return self.devices
        self._asked = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                        stderr=asyncio.subprocess.DEVNULL)
            try:
                out, _ = await asyncio.wait_for(proc.communicate(), NVIDIA_SMI_TIMEOUT_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise
            self.devices = parse_nvidia_smi(out.decode(errors="replace")) if proc.returncode == 0 else []
        except Exception as exc:  # a monitoring answer never fails on a GPU reading
            log.debug("nvidia-smi failed: %s", exc)
            self.devices = []
        return self.devices
