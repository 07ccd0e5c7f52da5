"""Base families: which base model each installed thing was made for (a model, a LoRA, a VAE, an IP-Adapter, a
ControlNet), so the canvas can refuse one made for another base before anything loads.

Each is told from what its files say without loading them: a model from its pipeline class (and, for Stable
Diffusion, its UNet's cross-attention width), a LoRA from its metadata, else from its tensors' shapes in the
safetensors header (the width of its cross-attention keys), a VAE from its config (latent channels and scaling
factor), an IP-Adapter from the width of its image projection, a ControlNet from its config's text width. What
cannot be told is `None` ("unknown"): it is allowed, and a run that does not fit still fails on its node with the
layer that differs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# The families, by id, in the words the studio shows. "sd_v" is Stable Diffusion 1.x or 2.x, when it cannot be told
# which (their VAEs are the same; a model of an unusual width): it fits either.
FAMILIES = {"sd_v1": "Stable Diffusion 1.x", "sd_v2": "Stable Diffusion 2.x", "sd_v": "Stable Diffusion 1.x/2.x",
            "sdxl": "Stable Diffusion XL", "sd3": "Stable Diffusion 3", "flux": "Flux"}
UNKNOWN = "unknown"
# The width of the text embeddings each family's cross-attention reads (its keys' input width)
CROSS_ATTENTION = {768: "sd_v1", 1024: "sd_v2", 2048: "sdxl"}
# (latent channels, scaling factor) of each family's VAE
VAE_SCALING = {(4, 0.18215): "sd_v", (4, 0.13025): "sdxl", (16, 1.5305): "sd3", (16, 0.3611): "flux"}
MAX_HEADER = 100 << 20  # safetensors' own bound on a header


def label(family: str | None) -> str:
    """The family in words ("unknown" for None)."""
    return FAMILIES.get(family or "", UNKNOWN)


def fits(one: str | None, other: str | None) -> bool:
    """Whether things of these families go together: the same family, or one that cannot tell 1.x from 2.x with
    either; unknown fits anything."""
    if not one or not other:
        return True
    return one.startswith(other) or other.startswith(one)


def read_header(path: Path) -> dict[str, Any]:
    """A safetensors file's header (tensor names → dtype and shape, and `__metadata__`), without its tensors;
    ValueError when it is not one."""
    with path.open("rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        if not 0 < size <= MAX_HEADER:
            raise ValueError("not a safetensors file")
        header = json.loads(handle.read(size))
    if not isinstance(header, dict):
        raise ValueError("not a safetensors file")
    return header


def _shape(entry: Any) -> list[int]:
    shape = entry.get("shape") if isinstance(entry, dict) else None
    return [int(n) for n in shape] if isinstance(shape, list) and all(isinstance(n, int) for n in shape) else []


def model_family(pipeline_class: str, folder: Path | None = None) -> str | None:
    """A diffusers model's family, from its pipeline class (and its UNet's cross-attention width for Stable
    Diffusion, which names 1.x and 2.x alike)."""
    if "Flux" in pipeline_class:
        return "flux"
    if "StableDiffusion3" in pipeline_class:
        return "sd3"
    if "XL" in pipeline_class:
        return "sdxl"
    if not pipeline_class.startswith("StableDiffusion") or "Video" in pipeline_class or "Upscale" in pipeline_class:
        return None
    width = _config(folder / "unet" / "config.json").get("cross_attention_dim") if folder else None
    return CROSS_ATTENTION.get(width, "sd_v") if isinstance(width, int) else "sd_v"


def _config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def lora_family_from_shapes(header: dict[str, Any]) -> str | None:
    """A LoRA's family from its layer names and shapes: Flux's and SD3's blocks have names of their own; for a UNet
    the input width of its cross-attention keys is the text embeddings' (768: 1.x, 1024: 2.x, 2048: XL)."""
    names = [k for k in header if k != "__metadata__"]
    if any("single_transformer_blocks" in k or "single_blocks" in k for k in names):
        return "flux"
    if any("joint_blocks" in k or "context_block" in k for k in names):
        return "sd3"
    if any(k.startswith("lora_te2_") or ".text_encoder_2." in k or k.startswith("text_encoder_2.") for k in names):
        return "sdxl"
    for key in names:
        if re.search(r"attn2[._]to_k", key) and re.search(r"(lora_down|lora_A|lora\.down)\.weight$", key):
            shape = _shape(header[key])
            if len(shape) == 2:
                return CROSS_ATTENTION.get(shape[1])
    return None


def vae_family(config: dict[str, Any]) -> str | None:
    """A VAE's family from its config: its latent channels and scaling factor (Stable Diffusion 1.x and 2.x share
    one VAE)."""
    channels = config.get("latent_channels", 4)
    scaling = config.get("scaling_factor", 0.18215)
    if not isinstance(channels, int) or not isinstance(scaling, (int, float)):
        return None
    return next((family for (c, s), family in VAE_SCALING.items() if c == channels and abs(s - scaling) < 1e-4),
                None)


def controlnet_family(config: dict[str, Any]) -> str | None:
    """A ControlNet's family from its config: a copy of a UNet's encoder, it reads the text width of its base's
    cross-attention (768: 1.x, 1024: 2.x); Stable Diffusion XL's has the added time embedding besides."""
    if config.get("addition_embed_type") == "text_time":
        return "sdxl"
    width = config.get("cross_attention_dim")
    return CROSS_ATTENTION.get(width) if isinstance(width, int) else None


def ip_adapter_family(header: dict[str, Any]) -> str | None:
    """An IP-Adapter's family from the width of the image tokens it makes (its key layers' input width)."""
    for key in header:
        if key.startswith("ip_adapter.") and key.endswith("to_k_ip.weight"):
            shape = _shape(header[key])
            if len(shape) == 2:
                return CROSS_ATTENTION.get(shape[1])
    return None
