"""VAE folders: a diffusers autoencoder saved on its own (`config.json` naming an `Autoencoder…` class, and its
weights) as a folder of the data folder's `models/`, beside the pipelines. A diffusion node may decode (and
encode) with one instead of its model's own VAE, when its latent space fits the model's."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mediastudio.errors import TaskFailed
from mediastudio.models.bases import vae_family
from mediastudio.models.registry import NAME

HINT = "Put a diffusers VAE folder (config.json and its weights) in the data folder's models/, or pick another."


@dataclass
class VaeInfo:
    name: str
    path: str
    vae_class: str
    latent_channels: int
    downscale: int  # pixels per latent, each way (2 ** (blocks - 1))
    family: str | None = None  # the base family its config tells (models/bases.py), None where it cannot be told
    size_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read(folder: Path) -> VaeInfo | None:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return None
    name = config.get("_class_name") if isinstance(config, dict) else None
    if not isinstance(name, str) or not name.startswith("Autoencoder") or (folder / "model_index.json").exists():
        return None
    channels = config.get("latent_channels", 4)
    blocks = config.get("block_out_channels")
    return VaeInfo(name=folder.name, path=str(folder.resolve()), vae_class=name,
                   latent_channels=channels if isinstance(channels, int) else 4,
                   downscale=2 ** (len(blocks) - 1) if isinstance(blocks, list) and blocks else 8,
                   family=vae_family(config), size_bytes=_files_size(folder))


def _files_size(folder: Path) -> int:
    total = 0
    for path in folder.iterdir():
        with contextlib.suppress(OSError):
            total += path.stat().st_size if path.is_file() else 0
    return total


def list_vaes(models_root: Path) -> list[VaeInfo]:
    """The VAE folders among the data folder's models/, by name."""
    if not models_root.is_dir():
        return []
    found = [_read(entry) for entry in sorted(models_root.iterdir(), key=lambda p: p.name.lower())
             if not entry.name.startswith(".") and entry.is_dir()]
    return [info for info in found if info is not None]


def find_vae(models_root: Path, name: str) -> VaeInfo:
    info = _read(models_root / name) if NAME.match(name) else None
    if info is None:
        known = ", ".join(v.name for v in list_vaes(models_root)) or "none"
        raise TaskFailed(f"No VAE folder named '{name}' in the data folder's models/ (there: {known}).",
                         code="bad_vae", hint=HINT)
    return info


def check_fits(info: VaeInfo, pipe: Any, model: str) -> None:
    """TaskFailed when the VAE's latent space is not the model's (another number of latent channels, or another
    number of pixels per latent)."""
    own = getattr(getattr(pipe, "vae", None), "config", None)
    if own is None:
        raise TaskFailed(f"The model '{model}' has no VAE to replace.", code="bad_vae", hint="Leave the VAE empty.")
    ours = getattr(own, "latent_channels", 4)
    if ours != info.latent_channels:
        raise TaskFailed(f"The VAE '{info.name}' makes {info.latent_channels}-channel latents; the model '{model}' "
                         f"works in {ours} channels (they were made for different bases).", code="bad_vae",
                         hint="Pick a VAE made for this model's base, or leave it empty (the model's own).")
    blocks = getattr(own, "block_out_channels", None)
    downscale = 2 ** (len(blocks) - 1) if blocks else 8
    if downscale != info.downscale:
        raise TaskFailed(f"The VAE '{info.name}' makes a latent of every {info.downscale}×{info.downscale} pixels; "
                         f"the model '{model}' one of every {downscale}×{downscale} (they were made for different "
                         "bases).", code="bad_vae",
                         hint="Pick a VAE made for this model's base, or leave it empty (the model's own).")
