"""ControlNet end to end on the CPU (a real server, tiny models made here): the Control image node's canny edges,
depth map and pose skeleton, a ControlNet steering text-to-image and image-to-image by its strength and span, two
stacked, the models API listing ControlNet folders with their base, and a ControlNet of another base refused on its
node before anything runs, as is a depth map or a pose with no model installed to make it."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from support import ApiClient, RunningServer, set_up_admin, start_server, wait_for_task

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from tiny_models import (
        build_tiny_controlnet,
        build_tiny_depth_model,
        build_tiny_lora,
        build_tiny_pose_model,
        build_tiny_sd,
    )

    folder = tmp_path_factory.mktemp("controlnet")
    data = folder / "data"
    model = build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")
    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(model), "--data-dir",
                            str(data)], capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    build_tiny_controlnet(data / "models" / "edges-cn", seed=1)
    build_tiny_controlnet(data / "models" / "lines-cn", seed=2)
    build_tiny_controlnet(data / "models" / "wide-cn", seed=3, cross_attention_dim=48)  # another base's shape
    build_tiny_controlnet(data / "models" / "v1-cn", seed=7, cross_attention_dim=768)  # SD 1.x's text width
    build_tiny_depth_model(data / "models" / "tiny-depth", seed=4)
    build_tiny_pose_model(data / "models" / "tiny-pose", seed=6)
    build_tiny_lora(data / "loras" / "ink.safetensors", seed=5)
    server = start_server(folder, env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def square_png() -> bytes:
    """A white square on black, 64×64: its edges are the square's outline."""
    pixels = np.zeros((64, 64, 3), np.uint8)
    pixels[16:48, 16:48] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def scene(admin: ApiClient) -> tuple[str, str, str]:
    """(project, scene, the square's asset id)."""
    project = admin.post("/api/v1/projects", json={"name": "Control"}).json()
    scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    asset = admin.post(f"/api/v1/projects/{project['id']}/assets",
                       files={"file": ("square.png", square_png(), "image/png")})
    assert asset.status_code == 201, asset.text
    return project["id"], scene["id"], asset.json()[0]["id"]


def node(type_: str, **params: Any) -> dict[str, Any]:
    return {"type": type_, "title": type_, "position": {"x": 0, "y": 0}, "params": params, "bypass": False}


def edge(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
    return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                                 "target_handle": into}


Graph = tuple[dict[str, Any], list[tuple[str, dict[str, str]]]]


def controlled(asset: str, controls: tuple[dict[str, Any], ...] = (), generator: str = "text_to_image",
               preprocessor: str = "none", lora: str | None = None) -> Graph:
    """The square → a Control image node → ControlNet nodes (in order, on the Model node; then a LoRA node, when
    `lora` names one) → a picture node (seed 7, 2 steps, 64×64) → a shot."""
    params: dict[str, Any] = {"steps": 2, "seed": 7, "prompt_text": "a lighthouse"}
    if generator in ("text_to_image", "hires_fix"):
        params.update(width=64, height=64)
    if generator == "hires_fix":
        params.update(scale=1.5, denoise=0.5)
    nodes = {"load": node("load_image", asset_id=asset), "prep": node("control_image", preprocessor=preprocessor),
             "model": node("model_loader", model="tiny-sd"), "make": node(generator, **params),
             "shot": node("shot", name="Take")}
    edges = [edge("load", "image", "prep", "image"), edge("make", "image", "shot", "images")]
    if generator in ("image_to_image", "inpaint"):
        edges.append(edge("load", "image", "make", "image"))
    if generator == "inpaint":
        edges.append(edge("load", "mask", "make", "mask"))
    source = "model"
    for index, control in enumerate(controls):
        nodes[f"cn{index}"] = node("controlnet", **control)
        edges += [edge(source, "model", f"cn{index}", "model"), edge("prep", "image", f"cn{index}", "image")]
        source = f"cn{index}"
    if lora:
        nodes["lora"] = node("lora", lora=lora, weight=1.0)
        edges.append(edge(source, "model", "lora", "model"))
        source = "lora"
    edges.append(edge(source, "model", "make", "model"))
    return nodes, edges


def put(admin: ApiClient, scene: tuple[str, str, str], built: Graph) -> None:
    project_id, scene_id, _ = scene
    nodes, edges = built
    answer = admin.put(f"/api/v1/projects/{project_id}/scenes/{scene_id}/graph",
                       json={"nodes": nodes, "edges": dict(edges)})
    assert answer.status_code == 200, answer.text


def run(admin: ApiClient, scene: tuple[str, str, str], built: Graph) -> dict[str, Any]:
    put(admin, scene, built)
    project_id, scene_id, _ = scene
    started = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={"force": True})
    assert started.status_code == 201, started.text
    return wait_for_task(admin, started.json()["id"], ("succeeded",), timeout=120)


def picture(admin: ApiClient, scene: tuple[str, str, str], built: Graph) -> tuple[np.ndarray, dict[str, Any]]:
    task = run(admin, scene, built)
    (asset_id,) = task["result"]["assets"]
    project_id = scene[0]
    asset = admin.get(f"/api/v1/projects/{project_id}/assets/{asset_id}").json()
    content = admin.get(f"/api/v1/projects/{project_id}/assets/{asset_id}/content").content
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGB")).astype(int), asset["provenance"]


def differs(one: np.ndarray, other: np.ndarray) -> bool:
    return bool(np.abs(one - other).mean() > 0.05)


def test_the_control_image_node_makes_canny_edges_and_depth_maps(admin: ApiClient,
                                                                 scene: tuple[str, str, str]) -> None:
    asset = scene[2]
    nodes = {"load": node("load_image", asset_id=asset), "prep": node("control_image", preprocessor="canny"),
             "shot": node("shot", name="Edges")}
    edges = [edge("load", "image", "prep", "image"), edge("prep", "image", "shot", "images")]
    edges_map, facts = picture(admin, scene, (nodes, edges))
    assert facts["preprocessor"] == "canny"
    assert set(np.unique(edges_map)) == {0, 255}  # white edges on black
    lit = edges_map[:, :, 0] > 0
    assert lit[16:48, 15:18].any(axis=1).all() and lit[15:18, 16:48].any(axis=0).all()  # the outline, all round
    assert not lit[20:44, 20:44].any() and not lit[:10].any()  # nothing inside or far outside
    assert 100 <= lit.sum() <= 300  # thin: about one pixel wide
    nodes["prep"] = node("control_image", preprocessor="depth")
    depth, facts = picture(admin, scene, (nodes, edges))
    assert facts["depth_model"] == "tiny-depth" and depth.shape == (64, 64, 3)
    assert depth.min() == 0 and depth.max() == 255  # spread over the whole range


def test_the_control_image_node_draws_a_pose_skeleton(admin: ApiClient, scene: tuple[str, str, str]) -> None:
    asset = scene[2]
    nodes = {"load": node("load_image", asset_id=asset), "prep": node("control_image", preprocessor="pose"),
             "shot": node("shot", name="Pose")}
    edges = [edge("load", "image", "prep", "image"), edge("prep", "image", "shot", "images")]
    skeleton, facts = picture(admin, scene, (nodes, edges))
    assert facts["preprocessor"] == "pose" and facts["pose_model"] == "tiny-pose"
    assert skeleton.shape == (64, 64, 3)  # the picture's size, not the model's 48×64 input
    lit = skeleton.sum(axis=2) > 0
    assert 0.02 < lit.mean() < 0.6  # limbs and points on black
    colours = {tuple(p) for p in skeleton[lit]}
    assert any(max(c) - min(c) > 100 for c in colours) and len(colours) >= 5  # coloured, in several colours


def test_a_controlnet_steers_by_its_strength_and_span(admin: ApiClient, scene: tuple[str, str, str]) -> None:
    asset = scene[2]
    plain, _ = picture(admin, scene, controlled(asset))
    off, _ = picture(admin, scene, controlled(asset, ({"controlnet": "edges-cn", "strength": 0.0},)))
    full, facts = picture(admin, scene, controlled(asset, ({"controlnet": "edges-cn", "strength": 1.0},)))
    assert not differs(off, plain) and differs(full, plain)
    (used,) = facts["controlnets"]
    assert used["controlnet"] == "edges-cn" and used["strength"] == 1.0 and (used["start"], used["end"]) == (0, 1)
    late, facts = picture(admin, scene, controlled(asset, ({"controlnet": "edges-cn", "start": 0.5, "end": 1.0},)))
    assert facts["controlnets"][0]["start"] == 0.5 and differs(late, full) and differs(late, plain)
    again, _ = picture(admin, scene, controlled(asset))  # the model's own pipeline is untouched by the ControlNet
    assert np.array_equal(again, plain)


def test_inpaint_and_the_hires_fix_take_a_controlnet(admin: ApiClient, scene: tuple[str, str, str]) -> None:
    asset = scene[2]
    for generator in ("inpaint", "hires_fix"):
        plain, _ = picture(admin, scene, controlled(asset, generator=generator))
        steered, facts = picture(admin, scene, controlled(asset, ({"controlnet": "edges-cn"},), generator=generator))
        assert facts["controlnets"][0]["controlnet"] == "edges-cn" and differs(steered, plain), generator
    assert steered.shape == (96, 96, 3)  # the hires fix's enlarged picture


def test_controlnets_stack_and_steer_image_to_image(admin: ApiClient, scene: tuple[str, str, str]) -> None:
    asset = scene[2]
    one, _ = picture(admin, scene, controlled(asset, ({"controlnet": "edges-cn"},)))
    two, facts = picture(admin, scene, controlled(asset, ({"controlnet": "edges-cn"},
                                                          {"controlnet": "lines-cn", "strength": 0.8})))
    assert [c["controlnet"] for c in facts["controlnets"]] == ["edges-cn", "lines-cn"] and differs(two, one)
    plain, _ = picture(admin, scene, controlled(asset, generator="image_to_image"))
    steered, facts = picture(admin, scene, controlled(asset, ({"controlnet": "edges-cn"},),
                                                      generator="image_to_image"))
    assert facts["controlnets"][0]["controlnet"] == "edges-cn" and differs(steered, plain)


def test_a_lora_after_a_controlnet_keeps_it(admin: ApiClient, scene: tuple[str, str, str]) -> None:
    asset = scene[2]
    inked, _ = picture(admin, scene, controlled(asset, lora="ink.safetensors"))
    both, facts = picture(admin, scene, controlled(asset, ({"controlnet": "edges-cn"},), lora="ink.safetensors"))
    assert facts["loras"] == [{"file": "ink.safetensors", "weight": 1.0}]
    assert facts["controlnets"][0]["controlnet"] == "edges-cn" and differs(both, inked)


def test_a_controlnet_of_another_base_is_a_problem_on_its_node(admin: ApiClient,
                                                               scene: tuple[str, str, str]) -> None:
    project_id, scene_id, asset = scene
    put(admin, scene, controlled(asset, ({"controlnet": "wide-cn"},)))
    checked = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/check").json()
    (issue,) = [i for i in checked["issues"] if i["node_id"] == "cn0"]
    assert issue["field"] == "controlnet" and issue["code"] == "controlnet_mismatch"
    assert "'wide-cn'" in issue["message"] and "'tiny-sd'" in issue["message"]
    refused = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={"force": True})
    assert refused.status_code == 422 and "wide-cn" in refused.json()["detail"]
    put(admin, scene, controlled(asset, ({"controlnet": "nowhere"},)))
    checked = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/check").json()
    (issue,) = [i for i in checked["issues"] if i["node_id"] == "cn0"]
    assert "No ControlNet folder named 'nowhere'" in issue["message"] and "edges-cn" in issue["message"]
    put(admin, scene, controlled(asset, ({"controlnet": "edges-cn", "start": 0.6, "end": 0.4},)))
    checked = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/check").json()
    (issue,) = [i for i in checked["issues"] if i["node_id"] == "cn0"]
    assert "start (0.6) must come before end (0.4)" in issue["message"]


def test_the_models_api_lists_controlnets_with_their_base(admin: ApiClient) -> None:
    listed = admin.get("/api/v1/models/controlnets")
    assert listed.status_code == 200
    items = {c["name"]: c for c in listed.json()["items"]}
    assert set(items) == {"edges-cn", "lines-cn", "wide-cn", "v1-cn"}  # not the pipelines, VAEs or the depth model
    assert items["edges-cn"]["cross_attention_dim"] == 32 and items["wide-cn"]["cross_attention_dim"] == 48
    assert items["edges-cn"]["base"] is None and items["edges-cn"]["size_bytes"] > 0  # a toy shape: no family
    assert items["edges-cn"]["family"] is None and items["v1-cn"]["family"] == "sd_v1"  # models/bases.py's
    assert items["v1-cn"]["base"] == "Stable Diffusion 1.x"
    assert [m["name"] for m in admin.get("/api/v1/models").json()["items"]] == ["tiny-sd"]
    assert admin.get("/api/v1/models/vaes").json()["items"] == []


def test_a_depth_map_or_a_pose_without_its_model_is_a_problem_before_the_run(
        admin: ApiClient, server: RunningServer, scene: tuple[str, str, str]) -> None:
    """With no depth (or pose) model in models/, the Control image node asking for one has a problem naming where
    to put one, shown on the canvas, and the run is refused with a 422 instead of failing once it runs."""
    project_id, scene_id, asset = scene
    models = server.data_dir / "models"
    hidden = [(models / name, models / f".{name}") for name in ("tiny-depth", "tiny-pose")]
    for shown, away in hidden:
        shown.rename(away)  # a dot-folder is not listed
    try:
        time.sleep(3.2)  # planning's list of the data folder's files is kept 3 s
        for preprocessor, words, where in (("depth", "no depth model is installed", "Depth-Anything"),
                                           ("pose", "no pose model is installed", "usyd-community/vitpose")):
            nodes = {"load": node("load_image", asset_id=asset),
                     "prep": node("control_image", preprocessor=preprocessor), "shot": node("shot", name="Map")}
            put(admin, scene, (nodes, [edge("load", "image", "prep", "image"), edge("prep", "image", "shot",
                                                                                   "images")]))
            checked = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/check").json()
            (issue,) = [i for i in checked["issues"] if i["node_id"] == "prep"]
            assert issue["field"] == "preprocessor" and issue["code"] == "not_installed", issue
            assert words in issue["message"] and where in issue["message"] and "models/" in issue["message"]
            refused = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={"force": True})
            assert refused.status_code == 422 and words in refused.json()["detail"], refused.text
    finally:
        for shown, away in hidden:
            away.rename(shown)


def test_a_cached_controlnet_whose_control_picture_was_collected_is_computed_anew(
        admin: ApiClient, server: RunningServer, scene: tuple[str, str, str]) -> None:
    """The control picture travels on the model port by its blob, which no asset names: `mediastudio blobs collect`
    removes it. The ControlNet node's cached result is then not whole, and the next run (not forced) makes it
    again instead of failing for want of it."""
    from mediastudio.media.maintenance import collect_garbage
    from mediastudio.storage.blobs import BlobStore

    project_id, scene_id, asset = scene
    _, facts = picture(admin, scene, controlled(asset, ({"controlnet": "edges-cn"},), preprocessor="canny"))
    control = facts["controlnets"][0]["image"]  # the edges: no asset's
    blobs = BlobStore(server.data_dir / "blobs")
    assert control in collect_garbage(server.data_dir, blobs, grace_seconds=0).removed
    assert not blobs.has(control)
    built = controlled(asset, ({"controlnet": "edges-cn"},), preprocessor="canny")
    built[0]["make"]["params"]["seed"] = 8  # the picture node runs again; what feeds it is cached
    put(admin, scene, built)
    started = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={})
    assert started.status_code == 201, started.text
    task = wait_for_task(admin, started.json()["id"], ("succeeded", "failed"), timeout=120)
    assert task["status"] == "succeeded", task.get("error")
    assert blobs.has(control)  # made again, the same picture
