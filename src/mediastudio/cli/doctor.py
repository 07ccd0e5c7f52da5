"""`mediastudio doctor`: one line per check — ok / warn / fail — with a hint for anything not ok.

The same health `GET /metrics` reports (docs/monitoring.md): disk free, the database, the queue's lengths,
the GPUs' memory and load, and, when a studio answers on the port, what its own metrics say."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

from mediastudio.settings import DEFAULT_PORT, Settings

GB = 1024**3


@dataclass
class Check:
    status: Literal["ok", "warn", "fail"]
    label: str
    hint: str | None = None


def check_python() -> Check:
    v = sys.version_info
    label = f"Python {v.major}.{v.minor}.{v.micro}"
    if v < (3, 11):
        return Check("fail", label, "Mediastudio needs Python 3.11 or newer.")
    return Check("ok", label)


def check_torch_and_gpu() -> list[Check]:
    from mediastudio.system.gpu_probe import probe

    info = probe()
    if info["torch"] is None:
        return [Check("fail", "torch is not usable", info["hint"])]
    checks = [Check("ok", f"torch {info['torch']}" + (f" (CUDA {info['cuda']})" if info["cuda"] else ""))]
    if info["backend"] == "cuda":
        memory = f", {info['memory_total_mb'] / 1024:.0f} GB" if info["memory_total_mb"] else ""
        checks.append(Check("ok", f"GPU: {info['name']} (CUDA{memory})"))
    elif info["backend"] == "mps":
        checks.append(Check("ok", "GPU: Apple MPS"))
    else:
        checks.append(Check("warn", "GPU: none usable, generation runs on the CPU (slow)", info["hint"]))
    return checks


def check_gpu_usage() -> list[Check]:
    """Each NVIDIA GPU's memory in use and load now (nvidia-smi), as `GET /metrics` reports them."""
    from mediastudio.system.gpu import NVIDIA_SMI_TIMEOUT_S, nvidia_smi_command, parse_nvidia_smi

    command = nvidia_smi_command()
    if command is None:
        return []
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return [Check("warn", f"GPU load: nvidia-smi did not answer ({exc})", "Check the NVIDIA driver: nvidia-smi")]
    checks = []
    for gpu in parse_nvidia_smi(out):
        used, total = gpu.get("memory_used_bytes"), gpu.get("memory_total_bytes")
        memory = f"{used / GB:.1f} of {total / GB:.1f} GB in use" if used is not None and total else "memory unknown"
        busy = f", {gpu['utilization']:.0%} busy" if "utilization" in gpu else ""
        full = used is not None and total and used > 0.9 * total
        checks.append(Check("warn" if full else "ok", f"GPU {gpu['index']} ({gpu['name']}): {memory}{busy}",
                            "Another program holds most of the GPU's memory: generation may run out of it."
                            if full else None))
    return checks


def check_diffusers() -> Check:
    # Reading the installed version avoids importing diffusers (5–9 s).
    try:
        return Check("ok", f"diffusers {version('diffusers')}")
    except PackageNotFoundError:
        return Check("fail", "diffusers is not installed", "pip install diffusers")


def check_data_dir(data_dir: Path) -> Check:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".doctor-write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Check("fail", f"Data folder {data_dir} is not writable ({exc.strerror})",
                     "Pick another with --data-dir or MEDIASTUDIO_DATA_DIR.")
    return Check("ok", f"Data folder {data_dir} is writable")


def check_disk(data_dir: Path) -> Check:
    existing = next(p for p in (data_dir, *data_dir.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    label = f"Free disk: {free / GB:.1f} GB at {existing}"
    if free < 1 * GB:
        return Check("fail", label, "Free some space: projects and media need room to be saved.")
    if free < 20 * GB:
        return Check("warn", label, "A diffusion model takes 2–7 GB; free space before pulling models.")
    return Check("ok", label)


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)


def check_database(path: Path) -> Check:
    """The index database opens and passes SQLite's quick check (read-only: the doctor changes nothing)."""
    if not path.exists():
        return Check("ok", "Database: none yet (the first `mediastudio serve` makes it)")
    try:
        with contextlib.closing(_read_only(path)) as db:
            answer = db.execute("PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.Error as exc:
        return Check("fail", f"Database {path} cannot be read ({exc})",
                     "Is the disk full or the file's owner another user? Restore it from a backup if it stays so.")
    if answer != "ok":
        return Check("fail", f"Database {path} is damaged ({answer})", "Restore it from a backup.")
    return Check("ok", f"Database {path.name} is readable and whole")


def check_queue(path: Path) -> Check:
    """The tasks waiting and running on each lane, as the database has them (any process's)."""
    if not path.exists():
        return Check("ok", "Queue: no tasks yet")
    try:
        with contextlib.closing(_read_only(path)) as db:
            rows = db.execute("SELECT lane, status, count(*) FROM tasks WHERE status IN ('queued', 'running', "
                              "'interrupted') GROUP BY lane, status").fetchall()
    except sqlite3.Error:
        return Check("ok", "Queue: no tasks yet")  # no tasks table: a studio that never started
    counts = {(lane, status): n for lane, status, n in rows}
    lanes = sorted({lane for lane, _ in counts} | {"gpu", "cpu"})
    shown = "; ".join(f"{lane} {counts.get((lane, 'queued'), 0)} waiting, {counts.get((lane, 'running'), 0)} running"
                      for lane in lanes)
    interrupted = sum(n for (_, status), n in counts.items() if status == "interrupted")
    if interrupted:
        return Check("warn", f"Queue: {shown}; {interrupted} interrupted",
                     "A stop or crash interrupted them: the next `mediastudio serve` runs them again.")
    return Check("ok", f"Queue: {shown}")


def _metric_sums(text: str) -> dict[str, float]:
    """Each metric's samples summed over their labels (histograms' buckets left out)."""
    sums: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        name = name.split("{", 1)[0]
        with contextlib.suppress(ValueError):
            sums[name] = sums.get(name, 0.0) + float(value)
    return sums


def check_running_server(settings: Settings) -> Check | None:
    """When a studio answers on the port: its version, and the gist of its metrics (None: no studio there)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "*") else "[::1]" if settings.host == "::" else settings.host
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    url = f"http://{host}:{settings.port}"
    try:
        with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as answer:
            version = json.loads(answer.read())["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as answer:
            sums = _metric_sums(answer.read().decode())
    except (OSError, ValueError) as exc:
        refused = isinstance(exc, urllib.error.HTTPError) and exc.code in (401, 403)
        return Check("ok", f"Server: Mediastudio {version} answers at {url}"
                     + (" (its metrics are for its own machine and administrators)" if refused else ""))
    return Check("ok", f"Server: Mediastudio {version} answers at {url}: "
                 f"{sums.get('mediastudio_http_requests_total', 0):.0f} requests served, "
                 f"{sums.get('mediastudio_websockets_open', 0):.0f} sockets open, "
                 f"{sums.get('mediastudio_collab_rooms_open', 0):.0f} live rooms, "
                 f"{sums.get('mediastudio_queue_tasks', 0):.0f} tasks waiting or running")


def check_ui(configured: Path | None) -> Check:
    from mediastudio.ui import find_web_dist

    root = find_web_dist(configured)
    if (root / "index.html").is_file():
        return Check("ok", f"UI build present ({root})")
    return Check("fail", f"UI build missing at {root}",
                 "From a source checkout run: cd web && npm install && npm run build")


def check_models(data_dir: Path) -> Check:
    """What `serve` on this data folder could generate with."""
    from mediastudio.models.advice import COMMANDS
    from mediastudio.models.registry import ModelRegistry

    names = [m.name for m in ModelRegistry(data_dir).list()]
    if not names:
        return Check("warn", "Models: none installed, so nothing can be generated yet", f"Add one: {COMMANDS}")
    shown = ", ".join(names[:8]) + (f", … ({len(names) - 8} more)" if len(names) > 8 else "")
    return Check("ok", f"Models: {len(names)} installed ({shown})")


def check_port(settings: Settings) -> Check:
    from mediastudio.server import check_port_free

    try:
        check_port_free(settings.host, settings.port)
    except SystemExit as exc:
        hint = f"mediastudio serve --port {settings.port + 1}" if settings.port == DEFAULT_PORT else None
        return Check("warn", str(exc.code), hint)
    return Check("ok", f"Port {settings.port} on {settings.host} is free")


def run_checks(settings: Settings, echo: Callable[[str], object]) -> bool:
    """Print every check; return True when any failed."""
    server = check_running_server(settings)
    checks = [check_python(), *check_torch_and_gpu(), *check_gpu_usage(), check_diffusers(),
              check_data_dir(settings.data_dir), check_disk(settings.data_dir),
              check_database(settings.database_path), check_queue(settings.database_path),
              check_models(settings.data_dir), check_ui(settings.web_dist),
              *([server] if server else [check_port(settings)])]
    for check in checks:
        echo(f"{check.status:<5} {check.label}")
        if check.hint and check.status != "ok":
            echo(f"      hint: {check.hint}")
    return any(c.status == "fail" for c in checks)
