"""`mediastudio doctor`: one line per check — ok / warn / fail — with a hint for anything not ok."""

from __future__ import annotations

import shutil
import sys
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
    checks = [check_python(), *check_torch_and_gpu(), check_diffusers(),
              check_data_dir(settings.data_dir), check_disk(settings.data_dir),
              check_models(settings.data_dir), check_ui(settings.web_dist), check_port(settings)]
    for check in checks:
        echo(f"{check.status:<5} {check.label}")
        if check.hint and check.status != "ok":
            echo(f"      hint: {check.hint}")
    return any(c.status == "fail" for c in checks)
