"""Model kinds end to end on the CPU (a real server, tiny models made here): the models API answers each installed
thing's kind and base family; a LoRA or VAE made for another base is refused before the run (422, on its node);
the IP-Adapter node steers a picture by a reference and leaves the cached model as it was."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image
from test_generation import edge, node

from support import ApiClient, RunningServer, add_model, set_up_admin, start_server, wait_for_task

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}
ADAPTER = "models/ip-adapter_tiny.safetensors"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from tiny_models import build_tiny_ip_adapter, build_tiny_lora, build_tiny_sd, build_tiny_vae

    folder = tmp_path_factory.mktemp("kinds")
    data = folder / "data"
    model = build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")
    add_model(model, data)
    build_tiny_lora(data / "loras" / "ink.safetensors", seed=1)
    build_tiny_lora(data / "loras" / "xl.safetensors", seed=4, metadata={"ss_base_model_version": "sdxl_base_v1-0"})
    build_tiny_vae(data / "models" / "crisp-vae", seed=5)
    build_tiny_vae(data / "models" / "xl-vae", seed=6, scaling_factor=0.13025)
    build_tiny_ip_adapter(data / "ipadapters", seed=8)
    server = start_server(folder, env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@pytest.fixture(scope="module")
def scene(admin: ApiClient) -> tuple[str, str]:
    project = admin.post("/api/v1/projects", json={"name": "Kinds"}).json()
    scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    return project["id"], scene["id"]


PICTURE = {"width": 64, "height": 64, "steps": 2, "prompt_text": "a lighthouse"}


def graph(*, lora: str = "", vae: str = "", adapter: dict[str, Any] | None = None) -> dict[str, Any]:
    """Model → [IP-Adapter, its reference made by another picture node] → [LoRA] → Text to image → a shot."""
    nodes = {"model": node("model_loader", model="tiny-sd"), "make": node("text_to_image", seed=7, vae=vae, **PICTURE),
             "shot": node("shot", name="Take")}
    edges = [edge("make", "image", "shot", "images")]
    source = "model"
    if adapter is not None:
        nodes["reference"] = node("text_to_image", seed=99, **PICTURE)
        nodes["ip"] = node("ip_adapter", **adapter)
        edges += [edge("model", "model", "reference", "model"), edge("reference", "image", "ip", "image"),
                  edge(source, "model", "ip", "model")]
        source = "ip"
    if lora:
        nodes["lora"] = node("lora", lora=lora)
        edges.append(edge(source, "model", "lora", "model"))
        source = "lora"
    edges.append(edge(source, "model", "make", "model"))
    return {"nodes": nodes, "edges": dict(edges)}


def start(admin: ApiClient, scene: tuple[str, str], built: dict[str, Any]) -> Any:
    project_id, scene_id = scene
    put = admin.put(f"/api/v1/projects/{project_id}/scenes/{scene_id}/graph", json=built)
    assert put.status_code == 200, put.text
    return admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={"force": True})


def make(admin: ApiClient, scene: tuple[str, str], **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
    started = start(admin, scene, graph(**kwargs))
    assert started.status_code == 201, started.text
    task = wait_for_task(admin, started.json()["id"], ("succeeded",), timeout=120)
    (asset_id,) = task["result"]["assets"]
    project_id = scene[0]
    asset = admin.get(f"/api/v1/projects/{project_id}/assets/{asset_id}").json()
    content = admin.get(f"/api/v1/projects/{project_id}/assets/{asset_id}/content").content
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGB")).astype(int), asset["provenance"]


def test_the_models_api_answers_each_kind_and_its_base(admin: ApiClient) -> None:
    (model,) = admin.get("/api/v1/models").json()["items"]
    assert (model["kind"], model["family"], model["base"]) == ("text-to-image", "sd_v", "Stable Diffusion 1.x/2.x")
    listed = admin.get("/api/v1/models/loras").json()["items"]
    loras = {i["name"]: (i["kind"], i["family"], i["location"]) for i in listed}
    assert loras == {"ink.safetensors": ("lora", None, "loras/ink.safetensors"),
                     "xl.safetensors": ("lora", "sdxl", "loras/xl.safetensors")}
    vaes = {i["name"]: (i["kind"], i["base"]) for i in admin.get("/api/v1/models/vaes").json()["items"]}
    assert vaes == {"crisp-vae": ("vae", "Stable Diffusion 1.x/2.x"), "xl-vae": ("vae", "Stable Diffusion XL")}
    (adapter,) = admin.get("/api/v1/models/ipadapters").json()["items"]
    assert adapter["name"] == ADAPTER and adapter["kind"] == "ip-adapter" and adapter["image_encoder"] is True
    assert adapter["location"] == f"ipadapters/{ADAPTER}" and adapter["size_bytes"] > 0


def test_a_lora_or_vae_of_another_base_is_refused_before_the_run(admin: ApiClient, scene: tuple[str, str]) -> None:
    refused = start(admin, scene, graph(lora="xl.safetensors"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == ("This LoRA ('xl.safetensors', on 'LoRA') is for Stable Diffusion XL; the "
                                        "model 'tiny-sd' is Stable Diffusion 1.x/2.x.")
    assert [(i["node_id"], i["code"]) for i in refused.json()["issues"]] == [("lora", "base_mismatch")]
    refused = start(admin, scene, graph(vae="xl-vae"))
    assert refused.status_code == 422 and refused.json()["issues"][0]["node_id"] == "make", refused.text
    project_id, scene_id = scene
    shown = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/check").json()
    assert [(i["node_id"], i["field"]) for i in shown["issues"]] == [("make", "vae")]


def test_an_ip_adapter_steers_the_picture_by_its_scale_and_is_undone(server: RunningServer, admin: ApiClient,
                                                                     scene: tuple[str, str]) -> None:
    plain, _ = make(admin, scene)
    none, facts = make(admin, scene, adapter={"adapter": ADAPTER, "scale": 0.0})
    assert facts["ip_adapter"]["name"] == ADAPTER and facts["ip_adapter"]["scale"] == 0.0
    steered, facts = make(admin, scene, adapter={"adapter": ADAPTER, "scale": 1.0})
    assert np.abs(steered - none).mean() > 0.05 and np.array_equal(none, plain)
    with_lora, facts = make(admin, scene, lora="ink.safetensors", adapter={"adapter": ADAPTER, "scale": 1.0})
    assert np.abs(with_lora - steered).mean() > 0.05 and facts["loras"][0]["file"] == "ink.safetensors"
    after, facts = make(admin, scene)  # unloaded after each run
    assert np.array_equal(after, plain) and "ip_adapter" not in facts
    assert server.log().count("Loading model 'tiny-sd'") == 1  # never loaded again for the adapter


def test_an_ip_adapter_not_installed_is_a_problem_on_its_node(admin: ApiClient, scene: tuple[str, str]) -> None:
    refused = start(admin, scene, graph(adapter={"adapter": "models/gone.safetensors"}))
    assert refused.status_code == 422, refused.text
    (issue,) = refused.json()["issues"]
    assert (issue["node_id"], issue["field"], issue["code"]) == ("ip", "adapter", "not_installed")
    assert "Put IP-Adapter weights in the data folder's ipadapters/" in issue["message"]
