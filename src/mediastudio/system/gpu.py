"""The server's view of the GPU: probed once at start in a subprocess, so the API never imports torch."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
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
