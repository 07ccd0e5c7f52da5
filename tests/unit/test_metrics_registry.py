"""The metrics registry writes the Prometheus text format (read back by a strict parser), the GPU reading is
parsed from nvidia-smi's CSV, and the task listener counts what the task events tell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mediastudio.metrics.registry import Registry
from mediastudio.system.gpu import GpuProbe, GpuUsage, parse_nvidia_smi
from mediastudio.system.metrics import gpu_refresher
from mediastudio.tasks.metrics import TaskMetrics
from metrics_text import parse
from support import run_async


def test_counters_gauges_and_histograms_render_as_the_text_format() -> None:
    registry = Registry()
    hits = registry.counter("demo_hits_total", "Hits\nwith a line break and a \\", ("route", "status"))
    hits.inc("/a/{id}", "2xx")
    hits.inc("/a/{id}", "2xx", by=2)
    hits.inc('/odd "quoted"\nroute\\', "5xx")
    level = registry.gauge("demo_level", "A level")
    level.set(0.25)
    wait = registry.histogram("demo_wait_seconds", "Waits", ("lane",), buckets=(1.0, 5.0))
    for seconds in (0.5, 1.0, 3.0, 9.0):
        wait.observe(seconds, "gpu")
    registry.gauge("demo_empty", "Nothing yet")  # no series: left out
    families = parse(registry.render())
    assert set(families) == {"demo_hits_total", "demo_level", "demo_wait_seconds"}
    assert families["demo_hits_total"].value(route="/a/{id}") == 3
    assert families["demo_hits_total"].value(route='/odd "quoted"\nroute\\') == 1
    assert families["demo_level"].value() == 0.25
    histogram = families["demo_wait_seconds"]
    assert histogram.type == "histogram"
    assert [histogram.value("_bucket", le=le) for le in ("1", "5", "+Inf")] == [2, 3, 4]  # le is inclusive
    assert histogram.value("_sum") == 13.5 and histogram.value("_count") == 4


def test_a_name_is_one_metric() -> None:
    registry = Registry()
    assert registry.counter("x_total", "X", ("a",)) is registry.counter("x_total", "X", ("a",))
    with pytest.raises(ValueError):
        registry.gauge("x_total", "X", ("a",))


def test_nvidia_smi_readings() -> None:
    devices = parse_nvidia_smi("0, NVIDIA H100 80GB HBM3, 1024, 81559, 37\n1, Tesla T4, [N/A], 15360, [N/A]\n")
    assert devices[0] == {"index": "0", "name": "NVIDIA H100 80GB HBM3", "memory_used_bytes": 1024 * 2**20,
                          "memory_total_bytes": 81559 * 2**20, "utilization": 0.37}
    assert devices[1] == {"index": "1", "name": "Tesla T4", "memory_total_bytes": 15360 * 2**20}
    assert parse_nvidia_smi("") == []


def _task(status: str, **times: str) -> dict:
    return {"id": "t1", "kind": "scene.run", "lane": "gpu", "status": status, "created_at": "2026-01-01T00:00:00Z",
            **times}


def test_task_events_become_waits_outcomes_and_queue_lengths() -> None:
    registry = Registry()
    listener = TaskMetrics(registry)
    listener.on_event({"type": "task.started", "task": _task("running", started_at="2026-01-01T00:00:07Z")})
    ended = {"type": "task.cancelled", "task": _task("cancelled", started_at="2026-01-01T00:00:07Z",
                                                    finished_at="2026-01-01T00:01:07Z")}
    listener.on_event(ended)
    listener.on_event(ended)  # a force-stop announces the end twice: counted once
    listener.on_event({"type": "queue.changed", "lanes": [
        {"name": "gpu", "workers": 1, "paused": True, "running": 1, "queued": 4}], "tasks": []})
    listener.on_event({"type": "project.changed"})  # not the listener's business
    families = parse(registry.render())
    assert families["mediastudio_task_queue_wait_seconds"].value("_sum", lane="gpu") == 7
    assert families["mediastudio_tasks_finished_total"].value(kind="scene.run", outcome="cancelled") == 1
    assert families["mediastudio_task_duration_seconds"].value("_sum", kind="scene.run") == 60
    assert families["mediastudio_queue_tasks"].value(lane="gpu", state="queued") == 4
    assert families["mediastudio_queue_tasks"].value(lane="gpu", state="running") == 1
    assert families["mediastudio_queue_paused"].value(lane="gpu") == 1


def test_gpu_series_come_from_nvidia_smi_only_where_the_probe_found_cuda(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in nvidia-smi on PATH (the driver's tool, not the studio's): its readings become the series."""
    tool = tmp_path / "nvidia-smi"
    tool.write_text("#!/bin/sh\necho '0, NVIDIA H100 80GB HBM3, 2048, 81559, 12'\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    probe = GpuProbe()
    registry = Registry()
    registry.refreshers.append(gpu_refresher(registry, GpuUsage(probe)))
    probe.summary = {"state": "ready", "available": False, "backend": "cpu"}
    assert "mediastudio_gpu" not in run_async(registry.scrape())
    probe.summary = {"state": "ready", "available": True, "backend": "cuda"}
    families = parse(run_async(registry.scrape()))
    assert families["mediastudio_gpu_memory_used_bytes"].value(gpu="0", name="NVIDIA H100 80GB HBM3") == 2048 * 2**20
    assert families["mediastudio_gpu_utilization_ratio"].value(gpu="0") == 0.12
