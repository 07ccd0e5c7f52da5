"""Pose control pictures: a ViTPose model's COCO keypoints, drawn as the OpenPose skeleton pose ControlNets were
trained on (18 body points, coloured limbs on black).

ViTPose finds the keypoints of one person inside a box; with no person detector, the box is the whole picture, so
one person is found, and the picture is best of one person filling most of it. The crop and the heatmaps' reading
are done here with numpy and PIL, as transformers' VitPoseImageProcessor does them (a box padded by a quarter to the
model's aspect, the highest point of each heatmap), since that processor needs SciPy to crop.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mediastudio.errors import TaskFailed

if TYPE_CHECKING:
    from mediastudio.models.pipelines import PipelineCache

MIN_SCORE = 0.3  # keypoints the model is less sure of are left out of the skeleton (as OpenPose's annotator does)
BOX_PADDING = 1.25  # ViTPose's crop: the box grown by a quarter
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# the OpenPose body point each COCO keypoint is (OpenPose's neck, point 1, has no COCO keypoint: mid-shoulders)
COCO_OF_OPENPOSE = (0, None, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)
# OpenPose's limbs (pairs of body points) and its colours, one per limb and per point, as its annotator draws them
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
         (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
COLOURS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
           (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
           (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))
LIMB_SHADE = 0.6  # limbs are drawn in their colour at 60%, the points at full


def openpose_points(keypoints: Any, scores: Any, min_score: float = MIN_SCORE) -> list[tuple[float, float] | None]:
    """The 18 OpenPose body points of one person's 17 COCO keypoints ((x, y) pixels; None where unsure)."""
    sure = [(float(x), float(y)) if float(s) >= min_score else None
            for (x, y), s in zip(keypoints, scores, strict=True)]
    points: list[tuple[float, float] | None] = []
    for coco in COCO_OF_OPENPOSE:
        if coco is not None:
            points.append(sure[coco])
        else:  # the neck: between the shoulders, when both are known
            left, right = sure[5], sure[6]
            points.append(((left[0] + right[0]) / 2, (left[1] + right[1]) / 2) if left and right else None)
    return points


def draw_skeleton(size: tuple[int, int], people: list[list[tuple[float, float] | None]]) -> Any:
    """OpenPose skeletons on black at `size` (width, height): each limb an ellipse between its two points, then
    each point a dot; line width and dots scale with the picture (4 pixels at 512)."""
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", size)
    draw = ImageDraw.Draw(canvas)
    stick = max(1.0, min(size) / 128)
    for points in people:
        for (a, b), colour in zip(LIMBS, COLOURS, strict=False):
            one, other = points[a], points[b]
            if one is not None and other is not None:
                draw.polygon(_ellipse(one, other, stick), fill=tuple(int(c * LIMB_SHADE) for c in colour))
        for point, colour in zip(points, COLOURS, strict=True):
            if point is not None:
                x, y = point
                draw.ellipse((x - stick, y - stick, x + stick, y + stick), fill=colour)
    return canvas


def _ellipse(one: tuple[float, float], other: tuple[float, float], half_width: float) -> list[tuple[float, float]]:
    """The outline of the ellipse from `one` to `other`, `half_width` across (as OpenCV's ellipse2Poly, 360/36°)."""
    (x1, y1), (x2, y2) = one, other
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half_length = math.hypot(x2 - x1, y2 - y1) / 2
    angle = math.atan2(y2 - y1, x2 - x1)
    cos, sin = math.cos(angle), math.sin(angle)
    outline = []
    for step in range(0, 360, 10):
        t = math.radians(step)
        ex, ey = half_length * math.cos(t), half_width * math.sin(t)
        outline.append((cx + ex * cos - ey * sin, cy + ex * sin + ey * cos))
    return outline


def _crop_box(width: int, height: int, aspect: float) -> tuple[float, float, float, float]:
    """(left, top, crop width, crop height) of the whole picture as ViTPose crops a box: grown to the model's
    aspect (width / height), then by a quarter, around its centre."""
    box_w, box_h = float(width), float(height)
    if box_w > aspect * box_h:
        box_h = box_w / aspect
    else:
        box_w = box_h * aspect
    box_w, box_h = box_w * BOX_PADDING, box_h * BOX_PADDING
    return width / 2 - box_w / 2, height / 2 - box_h / 2, box_w, box_h


def person_crop(picture: Any, width: int, height: int) -> tuple[Any, tuple[float, float, float, float]]:
    """The whole picture cropped as ViTPose crops a person's box, at the model's input size, and the box cropped
    (left, top, width, height). The crop is ViTPose's unbiased one: the box's edges fall on the centres of the
    crop's first and last pixels (PIL's transform counts from pixel corners, hence the half pixels)."""
    from PIL import Image

    box = left, top, crop_w, crop_h = _crop_box(picture.width, picture.height, width / height)
    step_x, step_y = crop_w / (width - 1), crop_h / (height - 1)
    crop = picture.transform((width, height), Image.Transform.AFFINE,
                             (step_x, 0, left + 0.5 - step_x / 2, 0, step_y, top + 0.5 - step_y / 2),
                             resample=Image.Resampling.BILINEAR)
    return crop, box


def on_picture(cells: Any, box: tuple[float, float, float, float], shape: tuple[int, int]) -> list[tuple[float, float]]:
    """Points of a map of `shape` (rows, columns) laid over the crop of `box`, in the picture's pixels."""
    left, top, crop_w, crop_h = box
    rows, cols = shape
    return [(left + float(x) * crop_w / (cols - 1), top + float(y) * crop_h / (rows - 1)) for x, y in cells]


def _pixels(crop: Any, settings: dict[str, Any]) -> Any:
    import numpy as np
    import torch

    mean = np.asarray(settings.get("image_mean") or IMAGENET_MEAN, dtype=np.float32)
    std = np.asarray(settings.get("image_std") or IMAGENET_STD, dtype=np.float32)
    values = (np.asarray(crop, dtype=np.float32) / 255.0 - mean) / std
    return torch.from_numpy(values.transpose(2, 0, 1)[None].copy())


def _peaks(heatmaps: Any) -> tuple[Any, Any]:
    """Each heatmap's highest point ((x, y) in heatmap cells, a quarter cell towards its higher neighbour, as
    mmpose refines it) and its height, the keypoint's score."""
    import numpy as np

    count, rows, cols = heatmaps.shape
    flat = heatmaps.reshape(count, -1)
    best = flat.argmax(axis=1)
    scores = flat[np.arange(count), best]
    ys, xs = np.divmod(best, cols)
    points = np.stack([xs, ys], axis=1).astype(np.float32)
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if 0 < x < cols - 1:
            points[k, 0] += 0.25 * np.sign(heatmaps[k, y, x + 1] - heatmaps[k, y, x - 1])
        if 0 < y < rows - 1:
            points[k, 1] += 0.25 * np.sign(heatmaps[k, y + 1, x] - heatmaps[k, y - 1, x])
    return points, scores


def pose_map(image: Any, models: PipelineCache) -> tuple[Any, str]:
    """The picture's pose as an OpenPose skeleton on black (RGB, the picture's size), and the pose model's name."""
    import torch

    name, settings, model = models.pose_estimator()
    size = settings.get("size")
    size = size if isinstance(size, dict) else {}
    in_w = min(max(int(size.get("width", 192)), 16), 1024)
    in_h = min(max(int(size.get("height", 256)), 16), 1024)
    picture = image.convert("RGB")
    crop, box = person_crop(picture, in_w, in_h)
    batch = {"pixel_values": _pixels(crop, settings).to(model.device, model.dtype)}
    if getattr(model.config.backbone_config, "num_experts", 1) > 1:  # ViTPose++: its COCO head is the first
        batch["dataset_index"] = torch.zeros(1, dtype=torch.long, device=model.device)
    with torch.no_grad():
        heatmaps = model(**batch).heatmaps[0].float().cpu().numpy()
    if heatmaps.shape[0] != len(COCO_OF_OPENPOSE) - 1:
        raise TaskFailed(f"The pose model '{name}' finds {heatmaps.shape[0]} keypoints, not COCO's 17 body points.",
                         code="no_pose_model", hint="Use a ViTPose model trained on COCO (e.g. "
                                                    "usyd-community/vitpose-base-simple).")
    cells, scores = _peaks(heatmaps)
    keypoints = on_picture(cells, box, heatmaps.shape[1:])
    return draw_skeleton(picture.size, [openpose_points(keypoints, scores)]), name
