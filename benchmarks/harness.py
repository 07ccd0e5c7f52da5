"""What every benchmark section shares: a measure (target, measured, anchor, ratio, pass/fail), the context a
section runs in (quick or full, a scratch folder, a real `mediastudio serve` to start), the table, the JSON
record and the comparison with the committed baseline.

A section is a module under `benchmarks/sections/` with `NAME`, `TITLE` and `run(ctx) -> list[Measure]`.

How claims are made on a shared, noisy machine: every measure that can have one has an anchor measured in the
same run (a bare Litestar app, the raw disk, plain diffusers, the stock y-websocket server, Celery...), and the
ratio to it is what is compared between runs. The quick mode's check fails only when a ratio (or, with no anchor,
the value itself) is more than 3× worse than the committed baseline of the same mode; never on an absolute time.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
REGRESSION_FACTOR = 3.0

if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from support import ApiClient, RunningServer, set_up_admin, start_server  # noqa: E402

# What a benchmark server runs with: no GPU probe, limits opened up (a benchmark is not an abuser).
SERVER_ENV = {
    "MEDIASTUDIO_PROBE_GPU": "0",
    "MEDIASTUDIO_TASK_QUOTA": "1000000",
    "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000000",
    "MEDIASTUDIO_RATE_LIMIT_IP_PER_MINUTE": "100000000",
}


@dataclass
class Measure:
    """One line of the table.

    `value` is what was measured in `unit`; `better` says which way is good. `target` is the goal in words and
    `passed` whether it was met (None: no goal). `anchor` is the same thing measured on the reference named in
    `anchor_name`, in the same run; `ratio` is value / anchor (how many times the reference's value ours is)."""

    section: str
    name: str
    value: float
    unit: str
    better: Literal["lower", "higher"]
    target: str = ""
    passed: bool | None = None
    anchor: float | None = None
    anchor_name: str = ""
    detail: dict[str, object] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.section}/{self.name}"

    @property
    def ratio(self) -> float | None:
        if self.anchor is None or not self.anchor:
            return None
        return self.value / self.anchor

    def record(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class Context:
    """What a section gets: the mode, a scratch folder of its own, and helpers to start a studio."""

    quick: bool
    scratch: Path
    servers: list[RunningServer] = field(default_factory=list)

    def folder(self, name: str) -> Path:
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def serve(self, name: str, env: dict[str, str] | None = None, args: list[str] | None = None) -> RunningServer:
        """Start a real `mediastudio serve` on 127.0.0.1 with a fresh data folder under the scratch folder; it is
        stopped when the run ends (or call `server.stop()`)."""
        server = start_server(self.folder(name), env={**SERVER_ENV, **(env or {})}, args=args,
                              start_timeout=start_wait_s())
        self.servers.append(server)
        return server

    @staticmethod
    def admin(server: RunningServer) -> ApiClient:
        """The first administrator of a fresh server, logged in."""
        return set_up_admin(server.url)

    def close(self) -> None:
        for server in self.servers:
            server.stop()


START_WAIT_S = 30.0  # a server's start on an idle machine takes 2–5 s
START_WAIT_MAX_S = 300.0


def start_wait_s(load: float | None = None, cores: int | None = None) -> float:
    """How long to wait for a server (or an anchor) to say it is ready: 30 s on a machine with a core to spare,
    longer in proportion to how many runnable processes each core has to share (a start is CPU work: imports,
    the database, the UI's files), at most 5 minutes. A fixed 30 s gave up at load averages above 20 on 2 cores
    while the server was still starting."""
    load = os.getloadavg()[0] if load is None else load
    cores = cores or os.cpu_count() or 1
    return min(START_WAIT_MAX_S, START_WAIT_S * max(1.0, load / cores))


@contextmanager
def context(quick: bool, keep: bool = False) -> Iterator[Context]:
    scratch = Path(tempfile.mkdtemp(prefix="mediastudio-bench-"))
    ctx = Context(quick, scratch)
    try:
        yield ctx
    finally:
        ctx.close()
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    info: dict[str, object] = {
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["torch"] = None
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def report(measures: list[Measure], quick: bool, errors: dict[str, str]) -> dict[str, object]:
    return {
        "mode": "quick" if quick else "full",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": machine(),
        "measures": [m.record() for m in measures],
        "errors": errors,
    }


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if value != value:  # NaN
        return "n/a"
    magnitude = abs(value)
    text = f"{value:,.0f}" if magnitude >= 100 else f"{value:.1f}" if magnitude >= 10 else f"{value:.2f}"
    return f"{text} {unit}".strip()


def table(measures: list[Measure]) -> str:
    """The Markdown table the README shows: target, measured, anchor, ratio, pass/fail."""
    rows = ["| section | measure | target | measured | anchor (same run) | ratio | result |",
            "|---|---|---|---|---|---|---|"]
    for m in measures:
        anchor = f"{fmt(m.anchor, m.unit)} ({m.anchor_name})" if m.anchor is not None else "—"
        ratio = f"{m.ratio:.2f}×" if m.ratio is not None else "—"
        result = "—" if m.passed is None else "pass" if m.passed else "**MISS**"
        rows.append(f"| {m.section} | {m.name} | {m.target or '—'} | {fmt(m.value, m.unit)} | {anchor} | {ratio} "
                    f"| {result} |")
    return "\n".join(rows)


def compared(measure: dict[str, object], *, by_ratio: bool = True) -> float | None:
    """The number compared between runs: the ratio to the anchor when there is one (and `by_ratio`), else the
    value."""
    ratio = measure.get("ratio")
    value = ratio if by_ratio and isinstance(ratio, int | float) else measure.get("value")
    return float(value) if isinstance(value, int | float) else None


def compared_pair(now: dict[str, object], old: dict[str, object]) -> tuple[float | None, float | None]:
    """Two runs' numbers for one measure, like with like: the ratios when both runs have one, else the values
    (a run whose anchor read 0 — no frame dropped on the bare page — has no ratio; the next run's ratio to a
    small anchor must not be held against that run's value)."""
    by_ratio = all(isinstance(m.get("ratio"), int | float) for m in (now, old))
    return compared(now, by_ratio=by_ratio), compared(old, by_ratio=by_ratio)


def regressions(current: dict[str, object], baseline: dict[str, object]) -> list[str]:
    """Measures more than REGRESSION_FACTOR× worse than the baseline's (only those both runs have)."""
    before = {f"{m['section']}/{m['name']}": m for m in baseline.get("measures", [])}  # type: ignore[union-attr]
    found = []
    for m in current["measures"]:  # type: ignore[union-attr]
        key = f"{m['section']}/{m['name']}"
        old = before.get(key)
        if old is None:
            continue
        now_value, old_value = compared_pair(m, old)
        if now_value is None or old_value is None or now_value <= 0 or old_value <= 0:
            continue
        worse = now_value / old_value if m["better"] == "lower" else old_value / now_value
        if worse > REGRESSION_FACTOR:
            found.append(f"{key}: {worse:.1f}× worse than the baseline ({old_value:.3g} → {now_value:.3g})")
    return found


def worst_of(runs: list[dict[str, object]]) -> dict[str, object]:
    """A baseline from several runs of one mode: for each measure, the run where it compared worst. One lucky
    quiet run would otherwise make the next ordinary one look like a regression."""
    if not runs:
        raise ValueError("no runs to make a baseline from")
    modes = {run["mode"] for run in runs}
    if len(modes) != 1:
        raise ValueError(f"runs of different modes: {', '.join(sorted(map(str, modes)))}")
    chosen: dict[str, dict[str, object]] = {}
    for run in runs:
        for m in run["measures"]:  # type: ignore[union-attr]
            key = f"{m['section']}/{m['name']}"
            old = chosen.get(key)
            value, before = compared_pair(m, old) if old else (compared(m), None)
            worse = value is not None and before is not None and (
                value > before if m["better"] == "lower" else value < before)
            if old is None or before is None or worse:
                chosen[key] = m
    return {**runs[-1], "measures": list(chosen.values()), "baseline_of": len(runs)}


def baseline_path(quick: bool) -> Path:
    return REPO / "benchmarks" / f"baseline-{'quick' if quick else 'full'}.json"


def write(result: dict[str, object], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = str(result["when"]).replace(":", "").replace("-", "").replace("+0000", "Z")
    path = out / f"{result['mode']}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    (out / f"latest-{result['mode']}.json").write_text(json.dumps(result, indent=2) + "\n")
    return path
