"""Steering generation end to end on the CPU (a real server, tiny models made here): the sampler and its sigmas,
LoRAs (made here with peft), a VAE override, CLIP skip and the hires fix, each seen in the picture and in the
take's provenance; what does not fit the model is refused on its node, in a sentence."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import websockets
from PIL import Image
from test_generation import edge, node

from support import ApiClient, RunningServer, add_model, run_async, set_up_admin, start_server, wait_for_task

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from tiny_models import build_tiny_lora, build_tiny_sd, build_tiny_vae

    folder = tmp_path_factory.mktemp("controls")
    data = folder / "data"
    model = build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")
    add_model(model, data)
    build_tiny_lora(data / "loras" / "ink.safetensors", seed=1)
    build_tiny_lora(data / "loras" / "styles" / "paper.safetensors", seed=2)
    build_tiny_lora(data / "loras" / "wide.safetensors", seed=3, cross_attention_dim=48)  # another base's shapes
    build_tiny_lora(data / "loras" / "xl.safetensors", seed=4, metadata={"ss_base_model_version": "sdxl_base_v1-0"})
    build_tiny_vae(data / "models" / "crisp-vae", seed=5)
    build_tiny_vae(data / "models" / "deep-vae", seed=6, latent_channels=8)
    build_tiny_vae(data / "models" / "coarse-vae", seed=7, blocks=3)
    server = start_server(folder, env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@pytest.fixture(scope="module")
def scene(admin: ApiClient) -> tuple[str, str]:
    project = admin.post("/api/v1/projects", json={"name": "Controls"}).json()
    scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    return project["id"], scene["id"]


def graph(generator: str = "text_to_image", loras: tuple[tuple[str, float], ...] = (), **params: Any
          ) -> tuple[dict[str, Any], list[tuple[str, dict[str, str]]]]:
    """Model → LoRA nodes (in order) → a picture node (seed 7, 2 steps, 64×64) → a shot."""
    params = {"width": 64, "height": 64, "steps": 2, "seed": 7, "prompt_text": "a lighthouse", **params}
    nodes = {"model": node("model_loader", model="tiny-sd"), "make": node(generator, **params),
             "shot": node("shot", name="Take")}
    edges = [edge("make", "image", "shot", "images")]
    source = "model"
    for index, (file, weight) in enumerate(loras):
        nodes[f"lora{index}"] = node("lora", lora=file, weight=weight)
        edges.append(edge(source, "model", f"lora{index}", "model"))
        source = f"lora{index}"
    edges.append(edge(source, "model", "make", "model"))
    return nodes, edges


def run(admin: ApiClient, scene: tuple[str, str], built: tuple[dict[str, Any], list[Any]],
        ok: bool = True) -> dict[str, Any]:
    project_id, scene_id = scene
    nodes, edges = built
    put = admin.put(f"/api/v1/projects/{project_id}/scenes/{scene_id}/graph",
                    json={"nodes": nodes, "edges": dict(edges)})
    assert put.status_code == 200, put.text
    started = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={"force": True})
    assert started.status_code == 201, started.text
    return wait_for_task(admin, started.json()["id"], ("succeeded",) if ok else ("failed",), timeout=120)


def picture(admin: ApiClient, scene: tuple[str, str], task: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    (asset_id,) = task["result"]["assets"]
    project_id = scene[0]
    asset = admin.get(f"/api/v1/projects/{project_id}/assets/{asset_id}").json()
    content = admin.get(f"/api/v1/projects/{project_id}/assets/{asset_id}/content").content
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGB")).astype(int), asset["provenance"]


def differs(one: np.ndarray, other: np.ndarray) -> bool:
    """Visibly another picture (random tiny weights make small differences: a mean of 0.05 of 255 per channel
    is far above the none of a picture made again)."""
    return bool(np.abs(one - other).mean() > 0.05)


def make(admin: ApiClient, scene: tuple[str, str], **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
    return picture(admin, scene, run(admin, scene, graph(**kwargs)))


def refused(admin: ApiClient, scene: tuple[str, str], on: str = "make", **kwargs: Any) -> str:
    """The sentence on the node a run failed on (never a stack trace)."""
    task = run(admin, scene, graph(**kwargs), ok=False)
    state = task["detail"]["nodes"][on]
    assert state["state"] == "error" and "Traceback" not in state["error"] and "Error:" not in state["error"]
    assert state["error"] in str(task["error"])
    return str(state["error"])


def test_the_sampler_and_its_sigmas_change_the_picture_and_are_recorded(admin: ApiClient,
                                                                        scene: tuple[str, str]) -> None:
    plain, plain_facts = make(admin, scene)
    assert plain_facts["sampler"] == {"sampler": "default", "sigmas": "default", "scheduler": "DDIMScheduler"}
    euler, facts = make(admin, scene, sampler="euler", sigmas="karras")
    assert facts["sampler"] == {"sampler": "euler", "sigmas": "karras", "scheduler": "EulerDiscreteScheduler"}
    assert facts["params"]["sampler"] == "euler" and facts["graph"]["nodes"]["make"]["params"]["sigmas"] == "karras"
    assert differs(euler, plain)
    dpm, facts = make(admin, scene, sampler="dpmpp_2m_sde")
    assert facts["sampler"]["scheduler"] == "DPMSolverMultistepScheduler" and differs(dpm, euler)
    again, _ = make(admin, scene)  # the cached pipeline is back on the model's own sampler
    assert np.array_equal(again, plain)
    said = refused(admin, scene, sampler="ddim", sigmas="karras")
    assert said == "DDIM has no karras sigmas."


def test_a_lora_changes_the_picture_by_its_weight_and_leaves_the_pipeline_clean(admin: ApiClient,
                                                                                scene: tuple[str, str]) -> None:
    plain, _ = make(admin, scene)
    inked, facts = make(admin, scene, loras=(("ink.safetensors", 1.0),))
    assert differs(inked, plain)
    assert facts["loras"] == [{"file": "ink.safetensors", "weight": 1.0}]
    zero, facts = make(admin, scene, loras=(("ink.safetensors", 0.0),))
    assert np.array_equal(zero, plain) and facts["loras"] == [{"file": "ink.safetensors", "weight": 0.0}]
    both, facts = make(admin, scene, loras=(("ink.safetensors", 1.0), ("styles/paper.safetensors", 0.5)))
    assert differs(both, inked) and [f["file"] for f in facts["loras"]] == [
        "ink.safetensors", "styles/paper.safetensors"]
    after, facts = make(admin, scene)  # unloaded after each run
    assert np.array_equal(after, plain) and "loras" not in facts
    listed = admin.get("/api/v1/models/loras").json()["items"]
    assert {item["name"]: item["base"] for item in listed} == {
        "ink.safetensors": None, "styles/paper.safetensors": None, "wide.safetensors": None,
        "xl.safetensors": "Stable Diffusion XL"}


def test_a_lora_of_another_base_is_refused_on_the_node(admin: ApiClient, scene: tuple[str, str]) -> None:
    plain, _ = make(admin, scene)
    said = refused(admin, scene, loras=(("wide.safetensors", 1.0),))
    assert said.startswith("'wide.safetensors' does not fit the model 'tiny-sd': it was made for another base model")
    assert "[2, 48], the model's [2, 32]" in said
    project_id, scene_id = scene  # one whose metadata names another base is refused before the run, on its node
    nodes, edges = graph(loras=(("xl.safetensors", 1.0),))
    admin.put(f"/api/v1/projects/{project_id}/scenes/{scene_id}/graph", json={"nodes": nodes, "edges": dict(edges)})
    started = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={"force": True})
    assert started.status_code == 422 and started.json()["issues"][0]["node_id"] == "lora0", started.text
    assert started.json()["detail"].startswith("This LoRA ('xl.safetensors', on 'LoRA') is for Stable Diffusion XL")
    after, _ = make(admin, scene)  # a refused LoRA leaves nothing behind
    assert np.array_equal(after, plain)
    said = refused(admin, scene, on="lora0", loras=(("../outside.safetensors", 1.0),))
    assert said.startswith("'../outside.safetensors' cannot name a LoRA file: give its path inside the data folder's")
    said = refused(admin, scene, on="lora0", loras=(("gone.safetensors", 1.0),))
    assert said.startswith("No LoRA file 'gone.safetensors' in the data folder's loras/ (there: ink.safetensors")


def test_a_vae_override_and_clip_skip(admin: ApiClient, scene: tuple[str, str]) -> None:
    plain, _ = make(admin, scene)
    crisp, facts = make(admin, scene, vae="crisp-vae")
    assert facts["vae"] == "crisp-vae" and differs(crisp, plain)
    again, facts = make(admin, scene)  # the model's own VAE is back
    assert np.array_equal(again, plain) and "vae" not in facts
    said = refused(admin, scene, vae="deep-vae")
    assert said.startswith("The VAE 'deep-vae' makes 8-channel latents; the model 'tiny-sd' works in 4 channels")
    said = refused(admin, scene, vae="coarse-vae")
    assert said.startswith("The VAE 'coarse-vae' makes a latent of every 4×4 pixels; the model 'tiny-sd' one of "
                           "every 2×2")
    assert refused(admin, scene, vae="nowhere").startswith("No VAE folder named 'nowhere'")
    listed = admin.get("/api/v1/models/vaes").json()["items"]
    assert [v["name"] for v in listed] == ["coarse-vae", "crisp-vae", "deep-vae"]
    skipped, facts = make(admin, scene, clip_skip=2)
    assert facts["clip_skip"] == 2 and differs(skipped, plain)
    assert refused(admin, scene, clip_skip=3) == "CLIP skip 3 is more than this model's text encoder has layers (2)."


def test_image_to_image_takes_the_same_controls(admin: ApiClient, scene: tuple[str, str]) -> None:
    project_id, _ = scene
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(buffer, format="PNG")
    upload = admin.post(f"/api/v1/projects/{project_id}/assets", files={"file": ("teal.png", buffer.getvalue())})
    assert upload.status_code == 201, upload.text
    asset_id = upload.json()[0]["id"]
    nodes, edges = graph("image_to_image", loras=(("ink.safetensors", 1.0),), sampler="euler_a", steps=4,
                         strength=0.5)
    nodes["load"] = node("load_image", asset_id=asset_id)
    edges.append(edge("load", "image", "make", "image"))
    task = run(admin, scene, (nodes, edges))
    _, facts = picture(admin, scene, task)
    assert facts["sampler"]["scheduler"] == "EulerAncestralDiscreteScheduler" and facts["loras"][0]["weight"] == 1.0


@pytest.mark.parametrize("upscaler", ["latent", "lanczos"])
def test_the_hires_fix_makes_a_larger_picture_and_counts_both_passes(admin: ApiClient, scene: tuple[str, str],
                                                                     upscaler: str) -> None:
    task = run(admin, scene, graph("hires_fix", steps=4, scale=2.0, upscaler=upscaler, denoise=0.5, hires_steps=6,
                                   sampler="euler"))
    image, facts = picture(admin, scene, task)
    assert image.shape == (128, 128, 3)
    assert facts["hires"] == {"size": [128, 128], "base_size": [64, 64], "upscaler": upscaler, "denoise": 0.5,
                              "steps": 3}
    assert facts["sampler"]["scheduler"] == "EulerDiscreteScheduler"
    # 4 base steps + 3 refining steps (6 cut by a denoise of 0.5), all counted, none twice
    assert task["total"] == 7 + 2 and task["step"] == task["total"]  # + the Model node and the shot
    assert task["detail"]["nodes"]["make"]["state"] == "done"


def test_the_hires_fix_reports_each_pass_as_it_runs(server: RunningServer, admin: ApiClient,
                                                    scene: tuple[str, str]) -> None:
    """The event feed hears the base pass and then the refining pass, steps that only go forward and never past
    the total (both passes counted once)."""
    project_id, scene_id = scene
    nodes, edges = graph("hires_fix", steps=24, scale=2.0, denoise=0.5, hires_steps=24)
    put = admin.put(f"/api/v1/projects/{project_id}/scenes/{scene_id}/graph",
                    json={"nodes": nodes, "edges": dict(edges)})
    assert put.status_code == 200, put.text
    cookie = "; ".join(f"{k}={v}" for k, v in admin.cookies.items())

    async def listen() -> list[dict[str, Any]]:
        heard: list[dict[str, Any]] = []
        async with websockets.connect(server.url.replace("http://", "ws://") + "/api/v1/events",
                                      additional_headers={"Cookie": cookie}, max_size=None) as socket:
            await asyncio.wait_for(socket.recv(), 10)  # hello
            started = await asyncio.to_thread(
                admin.post, f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={"force": True})
            task_id = started.json()["id"]
            while True:
                event = json.loads(await asyncio.wait_for(socket.recv(), 120))
                if event.get("task", {}).get("id") != task_id:
                    continue
                heard.append(event["task"])
                if event["type"] in ("task.succeeded", "task.failed"):
                    return heard

    heard = run_async(listen())
    assert heard[-1]["status"] == "succeeded", heard[-1].get("error")
    total = heard[-1]["total"]
    assert total == 24 + 12 + 2  # base, refining (24 cut by a denoise of 0.5), the Model node and the shot
    steps = [t["step"] for t in heard if t["status"] == "running"]
    assert steps == sorted(steps) and max(steps) <= total
    said = [t["message"] for t in heard if "step" in (t["message"] or "")]
    base = [i for i, m in enumerate(said) if "base pass, step" in m]
    refining = [i for i, m in enumerate(said) if "refining, step" in m]
    assert base and refining and max(base) < min(refining), said
    assert all(m.endswith(" of 36") for m in said if "pass" in m or "refining" in m), said
