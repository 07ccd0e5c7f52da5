"""Live previews: what a diffusion node is making, step by step, as a small picture (like ComfyUI's and InvokeAI's).

The latents are mapped to colours with a fixed linear map (no VAE decode: it costs next to nothing, also on the
GPU), scaled to at most PREVIEW_SIZE pixels and sent as a WebP data: URL inside the task's progress events, so
it reaches the browser the same way from an in-process worker or a Redis one.
"""

from __future__ import annotations

import base64
import io
from typing import Any

PREVIEW_SIZE = 160
PREVIEW_SECONDS = 0.5  # at most this often per node
# Stable Diffusion's 4 latent channels → RGB (the approximation ComfyUI and InvokeAI use for SD 1.x/2.x).
SD_LATENT_RGB = ((0.3512, 0.2297, 0.3227), (0.3250, 0.4974, 0.2350), (-0.2829, 0.1762, 0.2721),
                 (-0.2120, -0.2616, -0.7177))


def latent_preview(latents: Any) -> str | None:
    """A data: URL of the first picture of a batch of 4-channel image latents; None for anything else (video
    latents, other latent spaces)."""
    import torch
    from PIL import Image

    if not isinstance(latents, torch.Tensor) or latents.ndim != 4 or latents.shape[1] != 4:
        return None
    with torch.no_grad():
        factors = torch.tensor(SD_LATENT_RGB, dtype=torch.float32, device=latents.device)
        rgb = torch.einsum("chw,cr->hwr", latents[0].float(), factors)
        pixels = ((rgb + 1) * 127.5).clamp(0, 255).to(torch.uint8).cpu().numpy()
    image = Image.fromarray(pixels, "RGB")
    scale = PREVIEW_SIZE / max(image.size)
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                         Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, "WEBP", quality=70)
    return "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode()
