"""Find out which accelerator torch can use. Imports torch, so the server runs it in a subprocess.

`python -m mediastudio.system.gpu_probe` prints the result as one JSON object.
"""

from __future__ import annotations

import json
from typing import Any

CPU_HINT = (
    "No CUDA or Apple MPS device is usable: generation falls back to the CPU and is slow. "
    "On an NVIDIA machine install a CUDA build of torch (see https://pytorch.org/get-started)."
)


def probe() -> dict[str, Any]:
    """Return {available, backend, name, memory_total_mb, torch, cuda, hint}."""
    try:
        import torch
    except Exception as exc:  # torch missing or broken: say so instead of crashing
        return {"available": False, "backend": "none", "name": None, "memory_total_mb": None,
                "torch": None, "cuda": None,
                "hint": f"torch cannot be imported ({exc}). Reinstall it: pip install torch"}
    info: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda,
                            "memory_total_mb": None, "hint": None}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(available=True, backend="cuda", name=props.name,
                    memory_total_mb=props.total_memory // (1024 * 1024),
                    device_count=torch.cuda.device_count())
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        info.update(available=True, backend="mps", name="Apple GPU (MPS)")
    else:
        info.update(available=False, backend="cpu", name=None, hint=CPU_HINT)
    return info


if __name__ == "__main__":
    print(json.dumps(probe()))
