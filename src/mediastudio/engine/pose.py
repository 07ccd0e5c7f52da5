"""Pose control pictures: a ViTPose model's COCO keypoints, drawn as the OpenPose skeleton pose ControlNets were
trained on (18 body points, coloured limbs on black).

ViTPose finds the keypoints of one person inside a box. The boxes are the people an object detector installed beside
it finds (e.g. RT-DETR); with no detector, or when it finds nobody, the box is the whole picture: one person, best
filling most of the picture. The crop and the heatmaps' reading are done here with numpy and PIL, as transformers'
VitPoseImageProcessor does them (a box padded by a quarter to the model's aspect, the highest point of each heatmap),
since that processor needs SciPy to crop.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mediastudio.errors import TaskFailed

if TYPE_CHECKING:
    from mediastudio.models.pipelines import PipelineCache

MIN_SCORE = 0.3  # keypoints the model is less sure of are left out of the skeleton (as OpenPose's annotator does)
MIN_PERSON_SCORE = 0.5  # the detector's people less likely than this are not posed
MAX_PEOPLE = 10  # the most likely people posed in one picture (each is a run of the pose model)
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


Box = tuple[float, float, float, float]  # left, top, width, height in the picture's pixels


def _crop_box(box: Box, aspect: float) -> Box:
    """The box as ViTPose crops it: grown to the model's aspect (width / height), then by a quarter, around its
    centre."""
    left, top, box_w, box_h = box
    centre_x, centre_y = left + box_w / 2, top + box_h / 2
    if box_w > aspect * box_h:
        box_h = box_w / aspect
    else:
        box_w = box_h * aspect
    box_w, box_h = box_w * BOX_PADDING, box_h * BOX_PADDING
    return centre_x - box_w / 2, centre_y - box_h / 2, box_w, box_h


def person_crop(picture: Any, box: Box, width: int, height: int) -> tuple[Any, Box]:
    """A person's `box` of the picture cropped as ViTPose crops it, at the model's input size, and the part of the
    picture cropped. The crop is ViTPose's unbiased one: the box's edges fall on the centres of the crop's first
    and last pixels (PIL's transform counts from pixel corners, hence the half pixels)."""
    from PIL import Image

    cropped = left, top, crop_w, crop_h = _crop_box(box, width / height)
    step_x, step_y = crop_w / (width - 1), crop_h / (height - 1)
    crop = picture.transform((width, height), Image.Transform.AFFINE,
                             (step_x, 0, left + 0.5 - step_x / 2, 0, step_y, top + 0.5 - step_y / 2),
                             resample=Image.Resampling.BILINEAR)
    return crop, cropped


def person_boxes(picture: Any, models: PipelineCache) -> tuple[list[Box], str | None]:
    """The boxes of the people in the picture, most likely first, and the detector's name; the whole picture (and
    None) when no detector is installed, the detector's name and the whole picture when it finds nobody."""
    import torch

    whole: list[Box] = [(0.0, 0.0, float(picture.width), float(picture.height))]
    found = models.person_detector()
    if found is None:
        return whole, None
    name, person, processor, model = found
    batch = processor(images=picture, return_tensors="pt").to(model.device)
    with torch.no_grad():
        outputs = model(**batch)
    (result,) = processor.post_process_object_detection(outputs, threshold=MIN_PERSON_SCORE,
                                                        target_sizes=[(picture.height, picture.width)])
    people = sorted(((float(score), box) for score, label, box in
                     zip(result["scores"].tolist(), result["labels"].tolist(), result["boxes"].tolist(), strict=True)
                     if label == person), key=lambda pair: -pair[0])
    boxes: list[Box] = []
    for _, (x0, y0, x1, y1) in people[:MAX_PEOPLE]:
        x0, x1 = max(0.0, min(x0, x1)), min(float(picture.width), max(x0, x1))
        y0, y1 = max(0.0, min(y0, y1)), min(float(picture.height), max(y0, y1))
        if x1 - x0 >= 2 and y1 - y0 >= 2:  # a box of a pixel or less is no person to pose
            boxes.append((x0, y0, x1 - x0, y1 - y0))
    return boxes or whole, name


def on_picture(cells: Any, box: Box, shape: tuple[int, int]) -> list[tuple[float, float]]:
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


def pose_map(image: Any, models: PipelineCache) -> tuple[Any, dict[str, Any]]:
    """The picture's people's poses as OpenPose skeletons on black (RGB, the picture's size), and what made them
    for the provenance: the pose model, the person detector (when one was used) and how many people were posed."""
    import torch

    name, settings, model = models.pose_estimator()
    size = settings.get("size")
    size = size if isinstance(size, dict) else {}
    in_w = min(max(int(size.get("width", 192)), 16), 1024)
    in_h = min(max(int(size.get("height", 256)), 16), 1024)
    picture = image.convert("RGB")
    boxes, detector = person_boxes(picture, models)
    crops = [person_crop(picture, box, in_w, in_h) for box in boxes]
    batch = {"pixel_values": torch.cat([_pixels(crop, settings) for crop, _ in crops]).to(model.device, model.dtype)}
    if getattr(model.config.backbone_config, "num_experts", 1) > 1:  # ViTPose++: its COCO head is the first
        batch["dataset_index"] = torch.zeros(len(crops), dtype=torch.long, device=model.device)
    with torch.no_grad():
        heatmaps = model(**batch).heatmaps.float().cpu().numpy()
    if heatmaps.shape[1] != len(COCO_OF_OPENPOSE) - 1:
        raise TaskFailed(f"The pose model '{name}' finds {heatmaps.shape[1]} keypoints, not COCO's 17 body points.",
                         code="no_pose_model", hint="Use a ViTPose model trained on COCO (e.g. "
                                                    "usyd-community/vitpose-base-simple).")
    people = []
    for (_, cropped), maps in zip(crops, heatmaps, strict=True):
        cells, scores = _peaks(maps)
        people.append(openpose_points(on_picture(cells, cropped, maps.shape[1:]), scores))
    facts: dict[str, Any] = {"pose_model": name, "people": len(people)}
    if detector is not None:
        facts["pose_detector"] = detector
    return draw_skeleton(picture.size, people), facts
