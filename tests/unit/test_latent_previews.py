"""Live previews of diffusion latents: only what is in Stable Diffusion's 4-channel image latent space."""

from __future__ import annotations

import base64
import io

import torch
from PIL import Image

from mediastudio.engine.previews import PREVIEW_SIZE, latent_preview


def _picture(url: str) -> Image.Image:
    assert url.startswith("data:image/webp;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def test_image_latents_become_a_small_picture_of_their_shape() -> None:
    generator = torch.Generator().manual_seed(0)
    wide = latent_preview(torch.randn(2, 4, 64, 96, generator=generator))
    assert wide is not None and _picture(wide).size == (PREVIEW_SIZE, round(64 * PREVIEW_SIZE / 96))
    # The colour map is fixed: a latent of only channel 0 set is reddish-warm (0.35, 0.23, 0.32 of it).
    warm = torch.zeros(1, 4, 8, 8)
    warm[:, 0] = 1.0
    red, green, blue = _picture(latent_preview(warm) or "").convert("RGB").getpixel((80, 80))
    assert red > blue > green > 127


def test_other_latents_make_no_preview() -> None:
    assert latent_preview(torch.zeros(1, 4, 16, 8, 8)) is None  # video (frames as a 5th axis)
    assert latent_preview(torch.zeros(1, 16, 8, 8)) is None  # another latent space (SD3, Flux)
    assert latent_preview(None) is None
