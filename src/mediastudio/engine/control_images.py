"""Control pictures made from a picture, for a ControlNet: canny edges (numpy only: no OpenCV to install) and
depth maps (with an installed transformers depth model, loaded through the pipeline cache)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediastudio.models.pipelines import PipelineCache


def _sobel(gray: Any) -> tuple[Any, Any]:
    import numpy as np

    p = np.pad(gray, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return gx, gy


def _thin(magnitude: Any, gx: Any, gy: Any) -> Any:
    """Non-maximum suppression: where the magnitude is a peak across the edge (along the gradient)."""
    import numpy as np

    m = np.pad(magnitude, 1)
    angle = np.rad2deg(np.arctan2(gy, gx)) % 180
    # neighbours across the edge, by the gradient's direction in four bins (0°, 45°, 90°, 135°)
    bins = ((angle < 22.5) | (angle >= 157.5), (angle >= 22.5) & (angle < 67.5),
            (angle >= 67.5) & (angle < 112.5), (angle >= 112.5) & (angle < 157.5))
    pairs = (((1, 2), (1, 0)), ((2, 2), (0, 0)), ((2, 1), (0, 1)), ((2, 0), (0, 2)))
    height, width = magnitude.shape
    peak = np.zeros_like(magnitude, dtype=bool)
    for where, ((ay, ax), (by, bx)) in zip(bins, pairs, strict=True):
        ahead = m[ay:ay + height, ax:ax + width]
        behind = m[by:by + height, bx:bx + width]
        peak |= where & (magnitude > ahead) & (magnitude >= behind)
    return peak


def _grow(strong: Any, weak: Any) -> Any:
    """Hysteresis: the weak edge pixels 8-connected to a strong one. Components are joined by union-find over
    the pairs of touching weak pixels (each root hooked under the smallest root beside it, then every path
    shortcut), so a long winding edge costs a few rounds, not a round per pixel of its length."""
    import numpy as np

    height, width = weak.shape
    index = np.arange(height * width).reshape(height, width)
    firsts, seconds = [], []
    for a, b in (((slice(None), slice(0, -1)), (slice(None), slice(1, None))),
                 ((slice(0, -1), slice(None)), (slice(1, None), slice(None))),
                 ((slice(0, -1), slice(0, -1)), (slice(1, None), slice(1, None))),
                 ((slice(0, -1), slice(1, None)), (slice(1, None), slice(0, -1)))):
        touching = weak[a] & weak[b]
        firsts.append(index[a][touching])
        seconds.append(index[b][touching])
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    parent = np.arange(height * width)
    while True:
        while not np.array_equal(shortcut := parent[parent], parent):
            parent = shortcut
        one, other = parent[first], parent[second]
        apart = one != other
        if not apart.any():
            break
        first, second, one, other = first[apart], second[apart], one[apart], other[apart]
        np.minimum.at(parent, np.maximum(one, other), np.minimum(one, other))
    roots = parent.reshape(height, width)
    return weak & np.isin(roots, np.unique(roots[strong]))


def canny(image: Any, low: int, high: int) -> Any:
    """The picture's edges, white on black (RGB), as OpenCV's Canny finds them with the same thresholds: 3×3 Sobel
    gradients (their L1 size), thinned to one pixel, kept above `high` and, joined to those, above `low`."""
    import numpy as np
    from PIL import Image

    low, high = sorted((low, high))
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    gx, gy = _sobel(gray)
    magnitude = np.abs(gx) + np.abs(gy)
    peak = _thin(magnitude, gx, gy)
    edges = _grow(peak & (magnitude > high), peak & (magnitude > low))
    return Image.fromarray(np.where(edges, 255, 0).astype(np.uint8)).convert("RGB")


def depth_map(image: Any, models: PipelineCache) -> tuple[Any, str]:
    """The picture's depth, near light and far dark (RGB, the picture's size), and the depth model's name."""
    import numpy as np
    import torch
    from PIL import Image

    name, processor, model = models.depth_estimator()
    picture = image.convert("RGB")
    batch = processor(images=picture, return_tensors="pt").to(model.device)
    with torch.no_grad():
        predicted = model(**batch).predicted_depth
    depth = torch.nn.functional.interpolate(predicted.unsqueeze(1).float(), size=(picture.height, picture.width),
                                            mode="bicubic", align_corners=False)[0, 0].cpu().numpy()
    span = float(depth.max() - depth.min())
    scaled = (depth - depth.min()) / span if span > 0 else np.zeros_like(depth)
    return Image.fromarray((scaled * 255).round().astype(np.uint8)).convert("RGB"), name
