"""The machine's and the process's series for `GET /metrics`: the data folder's disk, the process's memory
and start, the version, and the GPUs' memory and load where there are any."""

from __future__ import annotations

import os
import resource
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from mediastudio import __version__
from mediastudio.metrics.registry import Registry
from mediastudio.system.gpu import GpuUsage, torch_memory


def resident_bytes() -> float:
    """The process's resident memory now (Linux: /proc), else its peak (getrusage)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return float(pages * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return float(peak if sys.platform == "darwin" else peak * 1024)


def machine_collector(registry: Registry, data_dir: Path) -> Callable[[], None]:
    """Disk free where the data lives, the process's memory and start, the version."""
    free = registry.gauge("mediastudio_data_disk_free_bytes", "Free bytes on the disk of the data folder")
    total = registry.gauge("mediastudio_data_disk_total_bytes", "Size of the disk of the data folder")
    rss = registry.gauge("process_resident_memory_bytes", "Resident memory of the server process")
    start = registry.gauge("process_start_time_seconds", "When the server started (Unix time)")
    info = registry.gauge("mediastudio_info", "The running version", ("version",))
    start.set(time.time())
    info.set(1, __version__)

    def collect() -> None:
        usage = shutil.disk_usage(data_dir)
        free.set(usage.free)
        total.set(usage.total)
        rss.set(resident_bytes())

    return collect


def gpu_refresher(registry: Registry, gpus: GpuUsage) -> Callable[[], Awaitable[None]]:
    """Each GPU's memory and load (nvidia-smi), and what this process's torch holds; nothing without a GPU."""
    used = registry.gauge("mediastudio_gpu_memory_used_bytes", "GPU memory in use (all processes)",
                          ("gpu", "name"))
    size = registry.gauge("mediastudio_gpu_memory_total_bytes", "GPU memory in all", ("gpu", "name"))
    load = registry.gauge("mediastudio_gpu_utilization_ratio", "Share of the last sample the GPU was busy (0–1)",
                          ("gpu", "name"))
    held = registry.gauge("mediastudio_gpu_torch_memory_bytes", "GPU memory this process's torch holds",
                          ("state",))

    async def refresh() -> None:
        devices = await gpus.refresh()
        for gauge in (used, size, load, held):
            gauge.clear()
        for device in devices:
            labels = (str(device["index"]), str(device["name"]))
            for gauge, key in ((used, "memory_used_bytes"), (size, "memory_total_bytes"), (load, "utilization")):
                if key in device:
                    gauge.set(device[key], *labels)
        mine = torch_memory()
        for state, value in (mine or {}).items():
            held.set(value, state)

    return refresh
