"""ControlNet's parts without a server: canny edges in numpy, the base a ControlNet folder fits, the pipeline cache
switching a model to its ControlNet variant without loading it again, the planner's problem on a ControlNet node
of another base, a depth map or a pose asked for with no model for it installed, and COCO keypoints drawn as an
OpenPose skeleton."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mediastudio.engine.control_images import canny
from mediastudio.engine.graph import CONTROLNET_MISMATCH, plan
from mediastudio.engine.pose import COLOURS, draw_skeleton, on_picture, openpose_points, person_crop, pose_map
from mediastudio.engine.registry import build_node_registry
from mediastudio.errors import BadRequest, TaskFailed
from mediastudio.graph import Graph
from mediastudio.models.bases import fits
from mediastudio.models.controlnets import UnetShape, controlnet_problem, list_controlnets, mismatch
from mediastudio.models.pipelines import PipelineCache
from mediastudio.models.registry import ModelRegistry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    from tiny_models import build_tiny_controlnet, build_tiny_sd

    root = tmp_path_factory.mktemp("controlnets")
    registry = ModelRegistry(root / "data")
    registry.add(build_tiny_sd(root / "src-sd"), "tiny-sd")
    build_tiny_controlnet(registry.root / "edges-cn", seed=1)
    build_tiny_controlnet(registry.root / "wide-cn", seed=2, cross_attention_dim=48)
    return registry


def test_canny_finds_a_shapes_outline_one_pixel_wide() -> None:
    pixels = np.zeros((64, 64), np.uint8)
    pixels[16:48, 16:48] = 255
    edges = np.asarray(canny(Image.fromarray(pixels), 100, 200))
    assert edges.shape == (64, 64, 3) and set(np.unique(edges)) == {0, 255}
    lit = edges[:, :, 0] > 0
    assert lit[32].sum() == 2 and lit[:, 32].sum() == 2  # across the square: its two sides, once each
    assert not lit[20:44, 20:44].any()
    faint = np.zeros((64, 64), np.uint8)
    faint[16:48, 16:48] = 30  # a step of 30: a gradient of 120, below the high threshold
    assert not np.asarray(canny(Image.fromarray(faint), 100, 200)).any()
    assert np.asarray(canny(Image.fromarray(faint), 50, 100)).any()


def test_canny_joins_weak_edges_to_strong_ones_however_long_they_wind() -> None:
    """Hysteresis keeps a faint edge only where it touches a strong one; a winding edge of 60,000 pixels is
    joined in a few rounds (a hostile picture cannot hold a worker for minutes)."""
    maze = np.zeros((512, 512), np.uint8)
    for row in range(0, 508, 4):
        maze[row + 1, :] = 60
        maze[row + 1:row + 5, 510 if (row // 4) % 2 == 0 else 1] = 60
    alone = np.asarray(canny(Image.fromarray(maze), 30, 500))
    assert not alone.any()  # all faint: nothing strong to hold on to
    maze[1, 0:3] = 255
    started = time.monotonic()
    joined = np.asarray(canny(Image.fromarray(maze), 30, 500))[:, :, 0] > 0
    assert time.monotonic() - started < 5
    assert joined[-10:].any() and joined.sum() > 60_000  # followed to the far end


def test_a_controlnet_folder_knows_the_base_it_fits(registry: ModelRegistry) -> None:
    assert UnetShape.of({"cross_attention_dim": 768, "block_out_channels": [320, 640]}).family == "sd_v1"
    assert UnetShape.of({"cross_attention_dim": 1024}).family == "sd_v2"
    assert UnetShape.of({"cross_attention_dim": 2048, "addition_embed_type": "text_time"}).family == "sdxl"
    assert UnetShape.of({"cross_attention_dim": 48}).family is None
    found = {c.name: c for c in list_controlnets(registry.root)}
    assert set(found) == {"edges-cn", "wide-cn"} and found["wide-cn"].shape.cross_attention_dim == 48
    assert registry.names() == {"tiny-sd"}  # a ControlNet folder is not a model
    assert controlnet_problem(registry, "tiny-sd", "edges-cn") is None
    assert controlnet_problem(registry, None, "edges-cn") is None  # the default model
    said = controlnet_problem(registry, "tiny-sd", "wide-cn")
    assert said == ("The ControlNet 'wide-cn' was made for a base of text width 48 and blocks [4, 8]; the model "
                    "'tiny-sd' is a base of text width 32 and blocks [4, 8].")
    assert "No ControlNet folder named '../x'" in str(controlnet_problem(registry, "tiny-sd", "../x"))


def test_a_controlnet_is_checked_by_the_families_the_canvas_marks_by(tmp_path: Path) -> None:
    """The family of a ControlNet is the one of models/bases.py (as for LoRAs and VAEs), and the check refuses by
    bases.fits first: what the inspector's picker marks is what planning refuses."""
    folder = tmp_path / "xl-cn"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"_class_name": "ControlNetModel", "cross_attention_dim": 2048,
                                                    "addition_embed_type": "text_time",
                                                    "block_out_channels": [320, 640, 1280]}))
    (info,) = list_controlnets(tmp_path)
    assert (info.family, info.base) == ("sdxl", "Stable Diffusion XL") and fits(info.family, "sd_v1") is False
    assert info.as_dict()["family"] == "sdxl"
    sd15 = UnetShape.of({"cross_attention_dim": 768, "block_out_channels": [320, 640, 1280, 1280]})
    assert mismatch(info, "dreamy", sd15, "sd_v1") == ("The ControlNet 'xl-cn' was made for Stable Diffusion XL; "
                                                       "the model 'dreamy' is Stable Diffusion 1.x.")
    assert mismatch(info, "dreamy", info.shape, "sdxl") is None
    # the families fit, the shapes do not (an unusual width): the shapes still say no
    assert mismatch(info, "odd", UnetShape.of({"cross_attention_dim": 2048}), None) is not None


def test_the_controlnet_variant_shares_the_loaded_model(registry: ModelRegistry) -> None:
    cache = PipelineCache(registry, device="cpu")
    plain = cache.pipeline("tiny-sd", "text-to-image")
    _, module = cache.controlnet("edges-cn")
    assert cache.controlnet("edges-cn")[1] is module  # kept loaded
    steered = cache.pipeline("tiny-sd", "text-to-image", (module,))
    assert type(steered).__name__ == "StableDiffusionControlNetPipeline" and steered.controlnet is module
    assert steered.unet is plain.unet and steered.vae is plain.vae and cache.loads == 1
    assert cache.pipeline("tiny-sd", "text-to-image", (module,)) is steered
    assert cache.pipeline("tiny-sd", "text-to-image") is plain  # the plain one stays as it was
    both = cache.pipeline("tiny-sd", "image-to-image", (module, cache.controlnet("wide-cn")[1]))
    assert type(both).__name__ == "StableDiffusionControlNetImg2ImgPipeline"
    assert type(both.controlnet).__name__ == "MultiControlNetModel" and cache.loads == 1
    with pytest.raises(TaskFailed) as missing:
        cache.controlnet("nowhere")
    assert missing.value.code == "bad_controlnet" and "edges-cn, wide-cn" in missing.value.message


def test_planning_puts_a_base_mismatch_on_the_controlnet_node(registry: ModelRegistry) -> None:
    def at(x: int) -> dict[str, int]:
        return {"x": x, "y": 0}

    graph = Graph.model_validate({"nodes": {
        "model": {"type": "model_loader", "title": "Model", "position": at(0), "params": {"model": "tiny-sd"}},
        "cn": {"type": "controlnet", "title": "Edges", "position": at(1), "params": {"controlnet": "wide-cn"}},
        "lora": {"type": "lora", "title": "LoRA", "position": at(2), "params": {"lora": "a.safetensors"}},
        "make": {"type": "text_to_image", "title": "Make", "position": at(3), "params": {"prompt_text": "x"}},
        "image": {"type": "text_to_image", "title": "Control", "position": at(3), "params": {"prompt_text": "y"}},
    }, "edges": {
        "a": {"source": "model", "source_handle": "model", "target": "cn", "target_handle": "model"},
        "b": {"source": "cn", "source_handle": "model", "target": "lora", "target_handle": "model"},
        "c": {"source": "lora", "source_handle": "model", "target": "make", "target_handle": "model"},
        "d": {"source": "image", "source_handle": "image", "target": "cn", "target_handle": "image"},
    }})

    def fit(model: str | None, folder: str) -> str | None:
        return controlnet_problem(registry, model, folder)

    whole = plan(graph, build_node_registry(), None, registry.kinds(), whole=True, controlnet_fit=fit)
    (issue,) = [i for i in whole.issues if i.node_id == "cn"]
    assert issue.field == "controlnet" and issue.code == CONTROLNET_MISMATCH and "'tiny-sd'" in issue.message
    graph.nodes["cn"].params["controlnet"] = "edges-cn"
    whole = plan(graph, build_node_registry(), None, registry.kinds(), whole=True, controlnet_fit=fit)
    assert not [i for i in whole.issues if i.node_id == "cn"]


def test_a_depth_map_without_a_depth_model_says_what_to_install(tmp_path: Path) -> None:
    cache = PipelineCache(ModelRegistry(tmp_path), device="cpu")
    with pytest.raises(TaskFailed) as none:
        cache.depth_estimator()
    assert none.value.code == "no_depth_model" and "No depth model is installed" in none.value.message
    assert "depth-anything/Depth-Anything-V2-Small-hf" in (none.value.hint or "")


def test_a_pose_without_a_pose_model_says_what_to_install(tmp_path: Path) -> None:
    cache = PipelineCache(ModelRegistry(tmp_path), device="cpu")
    with pytest.raises(TaskFailed) as none:
        cache.pose_estimator()
    assert none.value.code == "no_pose_model" and "No pose model is installed" in none.value.message
    assert "usyd-community/vitpose-base-simple" in (none.value.hint or "") and "As it is" in (none.value.hint or "")


# a person standing, facing us, in COCO's 17 keypoints (nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
# ankles; left before right: the person's left is the picture's right), on a 256×256 picture
STANDING = [(128, 40), (136, 34), (120, 34), (144, 38), (112, 38), (160, 70), (96, 70), (176, 110), (80, 110),
            (184, 150), (72, 150), (150, 140), (106, 140), (152, 190), (104, 190), (154, 240), (102, 240)]


def test_coco_keypoints_become_the_openpose_skeleton() -> None:
    scores = [0.9] * 17
    scores[9] = 0.1  # the left wrist: unsure, so left out with the limb that reaches it
    points = openpose_points(STANDING, scores)
    assert len(points) == 18 and points[1] == (128, 70)  # the neck: between the shoulders
    assert points[2] == (96, 70) and points[5] == (160, 70)  # OpenPose's right shoulder is COCO's 6, its left 5
    assert points[14] == (120, 34) and points[15] == (136, 34)  # the eyes: right, then left
    assert points[7] is None and points[4] == (72, 150)
    pixels = np.asarray(draw_skeleton((256, 256), [points]))
    assert pixels.shape == (256, 256, 3)
    assert tuple(pixels[70, 128]) == COLOURS[1] and tuple(pixels[40, 128]) == COLOURS[0]  # neck and nose dots
    assert tuple(pixels[70, 96]) == COLOURS[2] and tuple(pixels[240, 102]) == COLOURS[10]  # right shoulder, ankle
    assert tuple(pixels[70, 112]) == tuple(int(c * 0.6) for c in COLOURS[0])  # neck → right shoulder, shaded
    assert not pixels[150, 184].any() and not pixels[130, 180].any()  # no left wrist, no forearm to it
    assert not pixels[:20].any() and (pixels.sum(axis=2) == 0).mean() > 0.9  # black all round the figure
    assert not np.asarray(draw_skeleton((64, 48), [openpose_points(STANDING, [0.1] * 17)])).any()


@pytest.mark.parametrize(("size", "person"), [((100, 80), None), ((40, 120), None), ((48, 64), None),
                                              ((200, 160), (30.0, 40.0, 40.0, 60.0))])
def test_a_point_of_the_person_crop_maps_back_to_its_place_on_the_picture(
        size: tuple[int, int], person: tuple[float, float, float, float] | None) -> None:
    width, height = size
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[height // 3, width // 4] = 255  # one white pixel (inside the person's box, when there is one)
    crop, box = person_crop(Image.fromarray(pixels), person or (0, 0, width, height), 48, 64)
    assert crop.size == (48, 64)
    seen = np.asarray(crop.convert("L"), dtype=np.float32)
    assert seen[0].max() == 0 and seen[:, 0].max() == 0  # the box is grown by a quarter: a black margin
    rows, cols = np.nonzero(seen == seen.max())
    ((x, y),) = on_picture([(cols.mean(), rows.mean())], box, seen.shape)
    assert abs(x - width // 4) < 1 and abs(y - height // 3) < 1


def test_a_pose_takes_the_people_a_detector_finds_or_else_the_whole_picture(tmp_path: Path) -> None:
    from tiny_models import build_tiny_person_detector, build_tiny_pose_model

    build_tiny_pose_model(tmp_path / "models" / "tiny-pose")
    cache = PipelineCache(ModelRegistry(tmp_path), device="cpu")
    picture = Image.fromarray(np.random.default_rng(3).integers(0, 255, (96, 80, 3), dtype=np.uint8))
    alone, facts = pose_map(picture, cache)
    assert facts == {"pose_model": "tiny-pose", "people": 1} and alone.size == (80, 96)
    build_tiny_person_detector(tmp_path / "models" / "tiny-detr")
    crowd, facts = pose_map(picture, cache)
    assert facts["pose_detector"] == "tiny-detr" and 1 < facts["people"] <= 10  # its boxes, not the whole
    assert crowd.size == (80, 96) and np.asarray(crowd).any()


def test_adding_a_controlnet_folder_as_a_model_says_where_it_goes(registry: ModelRegistry) -> None:
    with pytest.raises(BadRequest) as refused:
        registry.add(registry.root / "edges-cn", "edges")
    assert "is a ControlNet, not a model" in refused.value.detail and "models/" in (refused.value.hint or "")
