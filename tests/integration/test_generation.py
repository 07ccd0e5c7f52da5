"""Generation end to end on the CPU: a tiny Stable Diffusion pipeline made here (random weights, a local
tokenizer), registered like any model, run through the API → queue → engine → assets with provenance."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mediastudio.projects.repo import PENDING
from support import (
    ApiClient,
    RunningServer,
    make_team,
    png_bytes,
    project_folder,
    run_async,
    set_up_admin,
    start_server,
    wait_for_task,
    wait_until,
)

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_models import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("generation")
    # Registered through the CLI before the studio starts, like a user would.
    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(tiny_model), "--data-dir",
                            str(folder / "data")], capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    assert "tiny-sd" in added.stdout
    server = start_server(folder, env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def node(type_: str, title: str = "", **params: Any) -> dict[str, Any]:
    return {"type": type_, "title": title or type_, "position": {"x": 0, "y": 0}, "params": params, "bypass": False}


def edge(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
    return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                                 "target_handle": into}


def scene_with(client: ApiClient, nodes: dict[str, Any], edges: list[tuple[str, dict[str, str]]],
               project: dict[str, Any] | None = None) -> tuple[str, str]:
    if project is None:
        project = client.post("/api/v1/projects", json={"name": "Generation"}).json()
    scene = client.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    put = client.put(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph",
                     json={"nodes": nodes, "edges": dict(edges)})
    assert put.status_code == 200, put.text
    return project["id"], scene["id"]


def run(client: ApiClient, project_id: str, scene_id: str, **body: Any) -> dict[str, Any]:
    started = client.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json=body)
    assert started.status_code == 201, started.text
    return started.json()


def wait(client: ApiClient, task_id: str, statuses: tuple[str, ...] = ("succeeded",), timeout: float = 90) -> dict:
    return wait_for_task(client, task_id, statuses, timeout)


def t2i_graph(seed: int = 7, steps: int = 2, prompt: str = "a lighthouse at dusk") -> tuple[dict, list]:
    nodes = {"prompt": node("prompt", "Prompt", text=prompt), "seed": node("seed", "Seed", value=seed),
             "model": node("model_loader", "Model", model="tiny-sd"),
             "generate": node("text_to_image", "Hero shot", width=64, height=64, steps=steps, guidance_scale=5.0),
             "shot": node("shot", "Shot", name="Hero")}
    edges = [edge("prompt", "text", "generate", "prompt"), edge("seed", "seed", "generate", "seed"),
             edge("model", "model", "generate", "model"), edge("generate", "image", "shot", "images")]
    return nodes, edges


def asset_bytes(client: ApiClient, project_id: str, asset_id: str) -> bytes:
    response = client.get(f"/api/v1/projects/{project_id}/assets/{asset_id}/content")
    assert response.status_code == 200
    return response.content


def test_node_types_and_models_are_listed(server: RunningServer, admin: ApiClient) -> None:
    types = {t["id"]: t for t in admin.get("/api/v1/node-types").json()}
    for expected in ("prompt", "negative_prompt", "seed", "model_loader", "text_to_image", "image_to_image", "inpaint",
                     "upscale", "load_image", "load_video", "image_sequence_to_video", "text_to_video",
                     "image_to_video", "shot"):
        assert expected in types
    steps = types["text_to_image"]["params_schema"]["properties"]["steps"]
    assert steps["minimum"] == 1 and steps["maximum"] == 150 and steps["default"] == 20
    assert {p["name"]: p["type"] for p in types["text_to_image"]["inputs"]}["seed"] == "seed"
    models = admin.get("/api/v1/models").json()
    assert [m["name"] for m in models["items"]] == ["tiny-sd"]
    assert models["items"][0]["kind"] == "text-to-image" and models["items"][0]["linked"]
    assert models["device"] == "cpu" and "CPU" in models["warning"]


def test_text_to_image_makes_an_asset_with_provenance_and_reruns_from_cache(server: RunningServer,
                                                                               admin: ApiClient) -> None:
    project_id, scene_id = scene_with(admin, *t2i_graph())
    first = wait(admin, run(admin, project_id, scene_id)["id"])
    assert set(first["result"]["ran"]) == {"prompt", "seed", "model", "generate", "shot"}
    assert first["detail"]["nodes"]["generate"]["state"] == "done" and first["detail"]["nodes"]["generate"]["preview"]
    assert "live" not in first["detail"]["nodes"]["generate"]  # the finished picture replaced the live one
    (asset_id,) = first["result"]["assets"]
    asset = admin.get(f"/api/v1/projects/{project_id}/assets/{asset_id}").json()
    assert asset["category"] == "generated" and asset["width"] == 64
    assert asset["name"] == "Hero · seed 7 · tiny-sd · #1.png"  # the shot, seed, model and take
    provenance = asset["provenance"]
    assert provenance["seed"] == 7 and provenance["model"] == "tiny-sd" and provenance["task_id"] == first["id"]
    assert provenance["node_id"] == "shot" and provenance["generator_node"] == "generate"
    assert provenance["graph"]["nodes"]["generate"]["params"]["steps"] == 2
    assert provenance["prompt"] == "a lighthouse at dusk"
    # The new asset joins the project's pending commit right after the result is announced (by a follow-up
    # thread, so the GPU lane does not wait): the history shows it.
    wait_until(lambda: admin.get(f"/api/v1/projects/{project_id}/history").json()["items"],
               until=lambda history: history[0]["message"] == "Generated 'Hero · seed 7 · tiny-sd · #1.png'",
               message="the commit of the new asset")
    preview = admin.get(f"/api/v1/projects/{project_id}/assets/{asset_id}/preview")
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/webp"
    preview = admin.get(f"/api/v1/tasks/{first['id']}/previews/generate")
    assert preview.status_code == 200 and Image.open(io.BytesIO(preview.content)).size == (64, 64)

    # Unchanged: nothing runs again (the pipeline is not called), no new asset.
    second = wait(admin, run(admin, project_id, scene_id)["id"])
    assert second["result"]["ran"] == [] and set(second["result"]["cached"]) == {"shot"}
    assert second["result"]["assets"] == [asset_id]

    # One parameter changed: only what depends on it runs.
    nodes, edges = t2i_graph()
    nodes["upscale"] = node("upscale", "Bigger", factor=2)
    edges = [e for e in edges if e[0] != "generate:image->shot:images"]
    edges += [edge("generate", "image", "upscale", "image"), edge("upscale", "image", "shot", "images")]
    scene_with(admin, nodes, edges, {"id": project_id})
    third = wait(admin, run(admin, project_id, scene_id)["id"])
    assert third["result"]["ran"] == ["upscale", "shot"] and third["result"]["cached"] == ["generate"]
    bigger = admin.get(f"/api/v1/projects/{project_id}/assets/{third['result']['assets'][0]}").json()
    assert bigger["width"] == 128

    # The same seed gives byte-identical pictures, run after run (forced: computed again).
    forced = wait(admin, run(admin, project_id, scene_id, force=True)["id"])
    assert "generate" in forced["result"]["ran"]
    again = wait(admin, run(admin, project_id, scene_id, force=True)["id"])
    one, two = (asset_bytes(admin, project_id, t["result"]["assets"][0]) for t in (forced, again))
    assert one == two and one == asset_bytes(admin, project_id, third["result"]["assets"][0])

    # Regenerate from the Asset View: the recorded graph again; a new seed gives another picture.
    same = wait(admin, admin.post(f"/api/v1/projects/{project_id}/assets/{asset_id}/regenerate",
                                  json={}).json()["id"])
    assert asset_bytes(admin, project_id, same["result"]["assets"][0]) == asset_bytes(admin, project_id, asset_id)
    other = wait(admin, admin.post(f"/api/v1/projects/{project_id}/assets/{asset_id}/regenerate",
                                   json={"new_seed": True}).json()["id"])
    assert asset_bytes(admin, project_id, other["result"]["assets"][0]) != asset_bytes(admin, project_id, asset_id)


def test_the_same_graph_in_another_project_saves_assets_there(server: RunningServer, admin: ApiClient) -> None:
    first_project, first_scene = scene_with(admin, *t2i_graph(seed=11))
    first = wait(admin, run(admin, first_project, first_scene)["id"])
    other_project, other_scene = scene_with(admin, *t2i_graph(seed=11))
    other = wait(admin, run(admin, other_project, other_scene)["id"])
    # The picture comes from the cache; the shot saves it again, as an asset of the other project.
    assert other["result"]["cached"] == ["generate"] and "shot" in other["result"]["ran"]
    (made,) = other["result"]["assets"]
    assert made != first["result"]["assets"][0]
    assert admin.get(f"/api/v1/projects/{other_project}/assets/{made}").status_code == 200
    assert asset_bytes(admin, other_project, made) == asset_bytes(admin, first_project, first["result"]["assets"][0])


def _upload(client: ApiClient, project_id: str, name: str, data: bytes) -> str:
    made = client.post(f"/api/v1/projects/{project_id}/assets", files={"file": (name, data)})
    assert made.status_code == 201, made.text
    return str(made.json()[0]["id"])


def _mask_png() -> bytes:
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


def test_image_to_image_inpaint_and_a_clip(server: RunningServer, admin: ApiClient) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Edits"}).json()
    picture = _upload(admin, project["id"], "plate.png", png_bytes(size=(64, 64)))
    mask = _upload(admin, project["id"], "mask.png", _mask_png())
    nodes = {
        "plate": node("load_image", "Plate", asset_id=picture), "mask": node("load_image", "Mask", asset_id=mask),
        "i2i": node("image_to_image", "Restyle", prompt_text="oil painting", steps=4, strength=0.5, seed=3),
        "fix": node("inpaint", "Fix the sky", prompt_text="stormy sky", steps=2, seed=4),
        "i2i_shot": node("shot", "Restyled", name="Restyled"), "fix_shot": node("shot", "Fixed", name="Fixed"),
    }
    edges = [edge("plate", "image", "i2i", "image"), edge("i2i", "image", "i2i_shot", "images"),
             edge("plate", "image", "fix", "image"), edge("mask", "mask", "fix", "mask"),
             edge("fix", "image", "fix_shot", "images")]
    project_id, scene_id = scene_with(admin, nodes, edges, project)
    done = wait(admin, run(admin, project_id, scene_id)["id"])
    assert len(done["result"]["assets"]) == 2
    assert done["total"] == 2 + 2 + 4 // 2 + 2  # quick nodes count one step each; diffusion its real steps
    plate = Image.open(io.BytesIO(png_bytes(size=(64, 64))))
    for asset_id in done["result"]["assets"]:
        made = Image.open(io.BytesIO(asset_bytes(admin, project_id, asset_id)))
        assert made.size == (64, 64) and made.tobytes() != plate.tobytes()

    # An image sequence becomes an MP4 clip.
    frames = [_upload(admin, project_id, f"frame{i}.png", png_bytes(color=(20 * i, 80, 200 - 20 * i), size=(64, 48)))
              for i in range(6)]
    clip_nodes = {"frames": node("load_image", "Frames", asset_ids=frames),
                  "clip": node("image_sequence_to_video", "Clip", fps=12, codec="h264"),
                  "shot": node("shot", "Clip shot", name="Clip")}
    clip_edges = [edge("frames", "images", "clip", "images"), edge("clip", "video", "shot", "video")]
    scene = admin.post(f"/api/v1/projects/{project_id}/scenes", json={"name": "Clip"}).json()
    admin.put(f"/api/v1/projects/{project_id}/scenes/{scene['id']}/graph",
              json={"nodes": clip_nodes, "edges": dict(clip_edges)})
    clip = wait(admin, run(admin, project_id, scene["id"])["id"])
    video = admin.get(f"/api/v1/projects/{project_id}/assets/{clip['result']['assets'][0]}").json()
    assert video["mime"] == "video/mp4" and video["width"] == 64 and video["height"] == 48
    assert video["duration"] == pytest.approx(0.5, abs=0.1)
    # The clip carries the graph that made it (graph/mp4.py); dropped on a canvas, it gives the nodes back, as the
    # asset's workflow sidecar does.
    from mediastudio.graph.mp4 import read_graph
    clip_bytes = asset_bytes(admin, project_id, video["id"])
    carried = read_graph(clip_bytes, 1 << 20)
    assert carried is not None and set(json.loads(carried)["nodes"]) == {"frames", "clip", "shot"}
    read = admin.post("/api/v1/workflows/read", content=clip_bytes)
    assert read.status_code == 200, read.text
    assert read.json()["nodes"]["clip"]["params"] == clip_nodes["clip"]["params"]
    sidecar = admin.get(f"/api/v1/projects/{project_id}/assets/{video['id']}/workflow")
    assert sidecar.status_code == 200 and json.loads(sidecar.content)["nodes"] == json.loads(carried)["nodes"]

    # A clip's frames back into a graph: every 2nd frame from the start → a shorter clip; its first frame → a shot.
    reload_nodes = {"source": node("load_video", "Source", asset_id=video["id"], every=2, max_frames=100),
                    "retimed": node("image_sequence_to_video", "Retimed", fps=6, codec="mpeg4"),
                    "clip_shot": node("shot", "Retimed shot", name="Retimed"),
                    "still": node("shot", "Still", name="Still")}
    reload_edges = [edge("source", "images", "retimed", "images"), edge("retimed", "video", "clip_shot", "video"),
                    edge("source", "image", "still", "images")]
    admin.put(f"/api/v1/projects/{project_id}/scenes/{scene['id']}/graph",
              json={"nodes": reload_nodes, "edges": dict(reload_edges)})
    reloaded = wait(admin, run(admin, project_id, scene["id"])["id"])
    made = {a["name"]: a for a in (admin.get(f"/api/v1/projects/{project_id}/assets/{i}").json()
                                   for i in reloaded["result"]["assets"])}
    assert made["Retimed · #1.mp4"]["duration"] == pytest.approx(0.5, abs=0.1)  # 3 of the 6 frames at 6 fps
    still_asset = made["Still · #1.png"]
    assert still_asset["width"] == 64 and still_asset["provenance"]["source_assets"] == [video["id"]]
    still = Image.open(io.BytesIO(asset_bytes(admin, project_id, made["Still · #1.png"]["id"]))).convert("RGB")
    assert abs(still.getpixel((32, 24))[2] - 200) < 30  # the first frame's colour (20·0, 80, 200), through h264
    # A picture is not a clip: said on the run, with what to do.
    admin.put(f"/api/v1/projects/{project_id}/scenes/{scene['id']}/graph",
              json={"nodes": {**reload_nodes, "source": node("load_video", "Source", asset_id=frames[0])},
                    "edges": dict(reload_edges)})
    wrong = wait(admin, run(admin, project_id, scene["id"])["id"], ("failed",))
    assert wrong["error"]["code"] == "wrong_asset" and "not a video clip" in wrong["error"]["message"]



def test_every_take_of_a_shot_has_a_name_of_its_own(server: RunningServer, admin: ApiClient) -> None:
    nodes, edges = t2i_graph(seed=40)
    nodes["seed"]["params"]["mode"] = "increment"
    project_id, scene_id = scene_with(admin, nodes, edges)
    queued = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/runs", json={"repeat": 3, "force": True})
    assert queued.status_code == 201, queued.text
    done = [wait(admin, t["id"]) for t in queued.json()["items"]]
    names = [admin.get(f"/api/v1/projects/{project_id}/assets/{t['result']['assets'][0]}").json()["name"]
             for t in done]
    assert names == ["Hero · seed 40 · tiny-sd · #1.png", "Hero · seed 41 · tiny-sd · #2.png",
                     "Hero · seed 42 · tiny-sd · #3.png"]
    # The same seed again (a regeneration) is another take, not another 'Hero · seed 40 · tiny-sd · #1.png'.
    first = done[0]["result"]["assets"][0]
    again = admin.post(f"/api/v1/projects/{project_id}/assets/{first}/regenerate", json={"new_seed": False})
    assert again.status_code == 201, again.text
    redone = wait(admin, again.json()["id"])
    name = admin.get(f"/api/v1/projects/{project_id}/assets/{redone['result']['assets'][0]}").json()["name"]
    assert name == "Hero · seed 40 · tiny-sd · #4.png"
    listed = admin.get(f"/api/v1/projects/{project_id}/assets").json()["items"]
    assert len({a["name"] for a in listed}) == len(listed) == 4


def test_a_batch_of_runs_steps_an_incrementing_seed(server: RunningServer, admin: ApiClient) -> None:
    nodes, edges = t2i_graph(seed=100)
    nodes["seed"]["params"]["mode"] = "increment"
    project_id, scene_id = scene_with(admin, nodes, edges)
    queued = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/runs", json={"repeat": 3, "force": True})
    assert queued.status_code == 201, queued.text
    batch = queued.json()["items"]
    assert [t["title"] for t in batch] == [f"Run 'Scene 1' ({n} of 3)" for n in (1, 2, 3)]
    done = [wait(admin, t["id"]) for t in batch]
    assets = [admin.get(f"/api/v1/projects/{project_id}/assets/{t['result']['assets'][0]}").json() for t in done]
    assert [a["provenance"]["seed"] for a in assets] == [100, 101, 102]
    assert len({asset_bytes(admin, project_id, a["id"]) for a in assets}) == 3
    # One more run, alone: the next seed (not the cached picture of an earlier one).
    single = wait(admin, run(admin, project_id, scene_id)["id"])
    after = admin.get(f"/api/v1/projects/{project_id}/assets/{single['result']['assets'][0]}").json()
    assert after["provenance"]["seed"] == 103 and "generate" in single["result"]["ran"]
    # A batch that does not fit the quota (100 waiting or running at once) queues nothing, and says so.
    refused = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/runs", json={"repeat": 101})
    assert refused.status_code == 400 and "repeat" in refused.text
    long_nodes, long_edges = t2i_graph(seed=5, steps=150)
    long_project, long_scene = scene_with(admin, long_nodes, long_edges)
    long = run(admin, long_project, long_scene)
    before = len(admin.get("/api/v1/tasks", params={"limit": 200}).json()["items"])
    over = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/runs", json={"repeat": 100})
    assert over.status_code == 429 and "at most 100" in over.json()["detail"]
    assert len(admin.get("/api/v1/tasks", params={"limit": 200}).json()["items"]) == before
    admin.post(f"/api/v1/tasks/{long['id']}/cancel")
    wait(admin, long["id"], ("cancelled",))

def test_cancel_mid_run_stops_within_a_step(server: RunningServer, admin: ApiClient) -> None:
    nodes, edges = t2i_graph(seed=11, steps=150)
    project_id, scene_id = scene_with(admin, nodes, edges)
    task = run(admin, project_id, scene_id)
    seen: dict[str, str] = {}  # the latest live picture: a step's detail may come without one

    def generating() -> dict:
        current = admin.get(f"/api/v1/tasks/{task['id']}").json()
        state = (current["detail"] or {"nodes": {}})["nodes"].get("generate", {})
        if state.get("live"):
            seen["live"] = state["live"]
        return state

    wait_until(generating, until=lambda state: state.get("step", 0) >= 3 and "live" in seen, timeout=60,
               interval=0.02, message="step 3 with a live picture")
    live = seen["live"]
    # While it runs, the node shows what it is making: a small picture of the latents, in the task's detail.
    assert live and live.startswith("data:image/webp;base64,")
    picture = Image.open(io.BytesIO(base64.b64decode(live.split(",", 1)[1])))
    assert picture.size == (160, 160) and len(picture.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 10
    asked = time.monotonic()
    assert admin.post(f"/api/v1/tasks/{task['id']}/cancel").json()["outcome"] == "stopping"
    cancelled = wait(admin, task["id"], ("cancelled",))
    print(f"\ncancelled at step {cancelled['step']} of {cancelled['total']}, "
          f"{1000 * (time.monotonic() - asked):.0f} ms after asking")
    assert cancelled["step"] < 100 and cancelled["detail"]["nodes"]["generate"]["state"] == "cancelled"
    assets = admin.get(f"/api/v1/projects/{project_id}/assets").json()["items"]
    assert assets == []  # nothing half-made was kept


def test_problems_are_reported_on_their_nodes(server: RunningServer, admin: ApiClient) -> None:
    nodes = {
        "a": node("upscale", "Loop A"), "b": node("upscale", "Loop B"),
        "mystery": node("warp_drive", "Mystery"),
        "gen": node("text_to_image", "Gen", steps=0, width=70),
        "p": node("prompt", "Prompt", text="x"),
        "i2i": node("image_to_image", "No picture", prompt_text="y"),
        "shot": node("shot", "Shot", name="S"), "shot2": node("shot", "Shot 2", name="S2"),
        "shot3": node("shot", "Shot 3", name="S3"),
    }
    edges = [edge("a", "image", "b", "image"), edge("b", "image", "a", "image"), edge("b", "image", "shot", "images"),
             edge("p", "text", "gen", "prompt"), edge("gen", "image", "shot2", "images"),
             edge("p", "text", "i2i", "image"), edge("i2i", "image", "shot3", "images"),
             edge("p", "text", "shot3", "images")]
    project_id, scene_id = scene_with(admin, nodes, edges)
    refused = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={})
    assert refused.status_code == 422
    issues = refused.json()["issues"]
    by_node: dict[str | None, list[str]] = {}
    for issue in issues:
        by_node.setdefault(issue["node_id"], []).append(issue["message"])
    assert any("cycle" in m for m in by_node["a"]) and any("cycle" in m for m in by_node["b"])
    assert any("steps" in m for m in by_node["gen"]) and any("width" in m for m in by_node["gen"])
    assert any("takes image, but 'Prompt' gives text" in m for m in by_node["i2i"])
    assert any("needs its 'image' input" in m for m in by_node["i2i"])
    assert any("more than one connection" in m or "takes images" in m for m in by_node["shot3"])
    checked = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/check").json()
    assert any(i["node_id"] == "mystery" and "unknown node type" in i["message"] for i in checked["issues"])
    # A model that is not installed, named on its node.
    nodes, edges = t2i_graph()
    nodes["model"]["params"]["model"] = "sdxl-dreams"
    project_id, scene_id = scene_with(admin, nodes, edges)
    refused = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={})
    assert refused.status_code == 422 and refused.json()["issues"][0]["node_id"] == "model"
    assert "sdxl-dreams" in refused.json()["detail"]



def test_text_to_video_and_image_to_video_make_clips(server: RunningServer, admin: ApiClient,
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    from tiny_models import build_tiny_animatediff, build_tiny_svd

    folder = tmp_path_factory.mktemp("video-models")
    for name, build in (("tiny-animatediff", build_tiny_animatediff), ("tiny-svd", build_tiny_svd)):
        added = admin.post("/api/v1/models", json={"path": str(build(folder / name)), "name": name})
        assert added.status_code == 201, added.text
    kinds = {m["name"]: (m["kind"], m["pipeline"]) for m in admin.get("/api/v1/models").json()["items"]}
    assert kinds["tiny-animatediff"] == ("text-to-video", "AnimateDiffPipeline")
    assert kinds["tiny-svd"] == ("image-to-video", "StableVideoDiffusionPipeline")

    # Text → frames (AnimateDiff) → an MP4 clip of the shot.
    nodes = {"prompt": node("prompt", "Prompt", text="waves at night"), "seed": node("seed", "Seed", value=5),
             "model": node("model_loader", "Video model", model="tiny-animatediff"),
             "t2v": node("text_to_video", "Waves", frames=4, width=64, height=64, steps=2, guidance_scale=4.0),
             "clip": node("image_sequence_to_video", "Clip", fps=8), "shot": node("shot", "Shot", name="Waves")}
    edges = [edge("prompt", "text", "t2v", "prompt"), edge("seed", "seed", "t2v", "seed"),
             edge("model", "model", "t2v", "model"), edge("t2v", "images", "clip", "images"),
             edge("clip", "video", "shot", "video")]
    project_id, scene_id = scene_with(admin, nodes, edges)
    made = wait(admin, run(admin, project_id, scene_id)["id"])
    assert made["detail"]["nodes"]["t2v"]["state"] == "done"
    clip = admin.get(f"/api/v1/projects/{project_id}/assets/{made['result']['assets'][0]}").json()
    assert clip["mime"] == "video/mp4" and (clip["width"], clip["height"]) == (64, 64)
    assert clip["duration"] == pytest.approx(0.5, abs=0.1)  # 4 frames at 8 fps
    assert clip["provenance"]["model"] == "tiny-animatediff" and clip["provenance"]["prompt"] == "waves at night"
    assert clip["provenance"]["seed"] == 5 and clip["provenance"]["generator_node"] == "t2v"

    # A picture → frames (Stable Video Diffusion: no prompt; guided by min/max guidance) → a clip.
    plate = _upload(admin, project_id, "plate.png", png_bytes(size=(64, 64)))
    nodes = {"plate": node("load_image", "Plate", asset_id=plate),
             "model": node("model_loader", "Video model", model="tiny-svd"),
             "i2v": node("image_to_video", "Set in motion", frames=4, width=64, height=64, steps=2, seed=9,
                         motion=60),
             "clip": node("image_sequence_to_video", "Clip", fps=4), "shot": node("shot", "Shot", name="Motion")}
    edges = [edge("plate", "image", "i2v", "image"), edge("model", "model", "i2v", "model"),
             edge("i2v", "images", "clip", "images"), edge("clip", "video", "shot", "video")]
    scene = admin.post(f"/api/v1/projects/{project_id}/scenes", json={"name": "Motion"}).json()
    admin.put(f"/api/v1/projects/{project_id}/scenes/{scene['id']}/graph", json={"nodes": nodes, "edges": dict(edges)})
    moved = wait(admin, run(admin, project_id, scene["id"])["id"])
    motion = admin.get(f"/api/v1/projects/{project_id}/assets/{moved['result']['assets'][0]}").json()
    assert motion["mime"] == "video/mp4" and motion["duration"] == pytest.approx(1.0, abs=0.15)  # 4 frames at 4 fps
    assert motion["provenance"]["model"] == "tiny-svd" and "prompt" not in motion["provenance"]

    # A model of the wrong kind is named on the node that cannot use it, before anything runs.
    nodes, edges = t2i_graph()
    nodes["model"]["params"]["model"] = "tiny-animatediff"
    project_id, scene_id = scene_with(admin, nodes, edges)
    refused = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={})
    assert refused.status_code == 422
    (issue,) = refused.json()["issues"]
    assert issue["node_id"] == "generate" and issue["field"] == "model"
    assert "'tiny-animatediff' is a text-to-video model" in issue["message"]
    for name in ("tiny-animatediff", "tiny-svd"):
        assert admin.delete(f"/api/v1/models/{name}").status_code in (200, 204)



def test_an_upscaler_model_makes_the_picture_four_times_larger(server: RunningServer, admin: ApiClient,
                                                               tmp_path_factory: pytest.TempPathFactory) -> None:
    from tiny_models import build_tiny_upscaler

    folder = build_tiny_upscaler(tmp_path_factory.mktemp("upscaler") / "tiny-x4")
    assert admin.post("/api/v1/models", json={"path": str(folder), "name": "tiny-x4"}).status_code == 201
    assert {m["name"]: m["kind"] for m in admin.get("/api/v1/models").json()["items"]}["tiny-x4"] == "upscale"
    nodes, edges = t2i_graph(seed=21)
    nodes["upscaler"] = node("model_loader", "Upscaler", model="tiny-x4")
    nodes["sharpen"] = node("upscale_model", "Sharpen", steps=3, noise_level=30, seed=2, prompt_text="crisp")
    edges = [e for e in edges if e[0] != "generate:image->shot:images"]
    edges += [edge("generate", "image", "sharpen", "image"), edge("upscaler", "model", "sharpen", "model"),
              edge("sharpen", "image", "shot", "images")]
    project_id, scene_id = scene_with(admin, nodes, edges)
    done = wait(admin, run(admin, project_id, scene_id)["id"])
    assert done["detail"]["nodes"]["sharpen"]["state"] == "done"
    asset = admin.get(f"/api/v1/projects/{project_id}/assets/{done['result']['assets'][0]}").json()
    assert (asset["width"], asset["height"]) == (256, 256)
    provenance = asset["provenance"]  # the picture's maker stays the generator; the upscaler is noted beside it
    assert provenance["model"] == "tiny-sd" and provenance["seed"] == 21 and provenance["generator_node"] == "generate"
    assert provenance["upscaled_with"]["model"] == "tiny-x4" and provenance["upscaled_with"]["node"] == "sharpen"
    assert "unused" not in provenance  # every argument reached the pipeline: the step callback in its old form too

    # A final factor: the model's ×4, then resampled to ×2.
    nodes["sharpen"]["params"]["factor"] = 2
    scene_with(admin, nodes, edges, {"id": project_id})
    halved = wait(admin, run(admin, project_id, scene_id)["id"])
    assert halved["result"]["ran"] == ["sharpen", "shot"]
    assert admin.get(f"/api/v1/projects/{project_id}/assets/{halved['result']['assets'][0]}").json()["width"] == 128

    # A picture model is not an upscaler (and the upscaler cannot make pictures): said on the node.
    nodes["generate"]["params"]["steps"] = 3
    edges = [e for e in edges if e[0] != "upscaler:model->sharpen:model"] + [edge("model", "model", "sharpen", "model")]
    scene_with(admin, nodes, edges, {"id": project_id})
    refused = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={}).json()
    assert [(i["node_id"], i["field"]) for i in refused["issues"]] == [("sharpen", "model")]
    assert "'tiny-sd' is a text-to-image model; 'Sharpen' needs an upscale model" in refused["issues"][0]["message"]
    assert admin.delete("/api/v1/models/tiny-x4").status_code == 204


def test_without_a_model_the_run_says_how_to_add_one(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=ENV)
    try:
        client = set_up_admin(server.url)
        models = client.get("/api/v1/models").json()
        assert models["items"] == [] and "mediastudio models add" in models["how_to_add"]
        nodes, edges = t2i_graph()
        del nodes["model"]
        edges = [e for e in edges if not e[0].startswith("model:")]
        project_id, scene_id = scene_with(client, nodes, edges)
        # Said before anything runs, on the node that would use the default model, with what to do.
        checked = client.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/check").json()
        assert [(i["node_id"], i["field"], i["code"]) for i in checked["issues"]] == [("generate", "model", "no_model")]
        assert "mediastudio models add" in checked["issues"][0]["message"]
        refused = client.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json={})
        assert refused.status_code == 422 and refused.json()["detail"].startswith("No model installed")
        assert [i["code"] for i in refused.json()["issues"]] == ["no_model"]
    finally:
        server.stop()


def test_results_of_runs_in_one_commit_window_share_a_commit(tmp_path: Path, tiny_model: Path) -> None:
    """A run's result joins the project's pending changes (durable at once, in the journal) like every everyday
    edit: a batch makes one git commit of its results, not one each, and the history shows them at once."""
    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(tiny_model), "--data-dir",
                            str(tmp_path / "data")], capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    server = start_server(tmp_path, env={**ENV, "MEDIASTUDIO_COMMIT_WINDOW_S": "30"})
    try:
        client = set_up_admin(server.url)
        project_id, scene_id = scene_with(client, *t2i_graph(steps=1))
        made = client.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/runs", json={"repeat": 3, "force": True})
        assert made.status_code == 201, made.text
        done = [wait(client, t["id"]) for t in made.json()["items"]]
        names = {client.get(f"/api/v1/projects/{project_id}/assets/{t['result']['assets'][0]}").json()["name"]
                 for t in done}
        assert len(names) == 3
        journal = project_folder(server, client.get(f"/api/v1/projects/{project_id}").json()) / ".git" / PENDING
        wait_until(lambda: journal.read_text().count('"kind": "generate"') if journal.is_file() else 0,
                   until=lambda n: n == 3, message="the results' pending changes", timeout=20)
        history = client.get(f"/api/v1/projects/{project_id}/history").json()["items"]
        generated = [c for c in history if c["kind"] == "generate"]
        assert len(generated) == 1, [c["message"] for c in history]
        assert all(f"Generated '{name}'" in generated[0]["message"] for name in names), generated[0]["message"]
    finally:
        server.stop()



def test_kill_9_after_a_shot_saved_its_result_leaves_no_duplicate_when_the_run_runs_again(tmp_path: Path,
                                                                                          tiny_model: Path) -> None:
    """A shot's takes are kept as soon as the shot finishes, while the run goes on (the last shot's with the run's
    outcome): a server killed while the second of two shots runs keeps the first's take; the run runs again at the
    next start, takes the saved shot from the cache and leaves each result once (in the index and as a file)."""
    import signal

    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(tiny_model), "--data-dir",
                            str(tmp_path / "data")], capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    server = start_server(tmp_path, env=ENV)
    try:
        client = set_up_admin(server.url)
        nodes, edges = t2i_graph(steps=1)
        nodes["a_shot"] = nodes.pop("shot") | {"params": {"name": "Quick"}}
        edges = [e for e in edges if not e[0].endswith("->shot:images")]
        edges.append(edge("generate", "image", "a_shot", "images"))
        # Ordered after the first shot (its input is ready with it, and its id sorts after), then slow.
        nodes["b_refine"] = node("image_to_image", "Refine", steps=100, strength=1.0, guidance_scale=5.0)
        nodes["b_shot"] = node("shot", "Slow", name="Slow")
        edges += [edge("generate", "image", "b_refine", "image"), edge("prompt", "text", "b_refine", "prompt"),
                  edge("model", "model", "b_refine", "model"), edge("b_refine", "image", "b_shot", "images")]
        project_id, scene_id = scene_with(client, nodes, edges)
        task = run(client, project_id, scene_id)

        def first_take() -> list[dict]:
            row = client.get(f"/api/v1/tasks/{task['id']}").json()
            assert row["status"] in ("queued", "running"), row["status"]  # queued: not taken yet (a loaded machine)
            return client.get(f"/api/v1/projects/{project_id}/assets").json()["items"]

        # The first shot's take is in the project while the second shot still runs.
        kept = wait_until(first_take, until=bool, timeout=60, interval=0.05, message="the first shot's take")
        assert [a["name"].split(" · ")[0] for a in kept] == ["Quick"]
        server.stop(signal.SIGKILL)
        server = start_server(tmp_path, env=ENV)
        client = ApiClient(server.url)
        client.post("/api/v1/auth/login", json={"username": "admin", "password": "copper lantern ninety"})
        done = wait(client, task["id"], timeout=180)
        assert done["attempts"] == 2
        assets = client.get(f"/api/v1/projects/{project_id}/assets").json()["items"]
        assert sorted(a["name"].split(" · ")[0] for a in assets) == ["Quick", "Slow"], [a["name"] for a in assets]
        assert sorted(a["id"] for a in assets) == sorted(done["result"]["assets"])
        assert kept[0]["id"] in done["result"]["assets"] and "a_shot" in done["result"]["cached"]  # not made again
        project = client.get(f"/api/v1/projects/{project_id}").json()
        files = sorted(p.stem for p in (project_folder(server, project) / "assets").glob("*.json"))
        assert files == sorted(a["id"] for a in assets)  # no file of the interrupted attempt left behind
    finally:
        server.stop()


def test_a_run_is_seen_live_by_everyone_in_its_project_and_only_its_owner_may_cancel_it(server: RunningServer,
                                                                                         admin: ApiClient) -> None:
    """A scene's run is shared, as on multiplayer canvases: a viewer of the project hears its events live (with who
    started it), lists the scene's runs and sees the pictures its nodes made; someone outside the workspace hears
    and sees nothing of it; only its owner (or an administrator) may cancel it."""
    import websockets

    team = make_team(server, admin, 71)
    bob, vic = team["bob"], team["vic"]
    project_id, scene_id = team["project"]["id"], team["scene"]["id"]
    # Long enough to report progress: a run sends its first progress 0.1 s after it starts (a shorter one, none).
    nodes, edges = t2i_graph(seed=3, steps=40)
    put = admin.put(f"/api/v1/projects/{project_id}/scenes/{scene_id}/graph",
                    json={"nodes": nodes, "edges": dict(edges)})
    assert put.status_code == 200, put.text
    oscar = ApiClient(server.url)
    oscar.register("oscar71")

    def cookie(client: ApiClient) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}

    async def listen() -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
        url = server.url.replace("http://", "ws://") + "/api/v1/events"
        async with websockets.connect(url, additional_headers=cookie(vic)) as vics, \
                websockets.connect(url, additional_headers=cookie(oscar)) as oscars:
            await asyncio.wait_for(vics.recv(), 10)  # hello
            await asyncio.wait_for(oscars.recv(), 10)
            started = await asyncio.to_thread(bob.post, f"/api/v1/projects/{project_id}/scenes/{scene_id}/run",
                                              json={})
            assert started.status_code == 201, started.text
            task_id = started.json()["id"]
            heard: list[dict[str, Any]] = []
            while not heard or heard[-1]["type"] not in ("task.succeeded", "task.failed"):
                event = json.loads(await asyncio.wait_for(vics.recv(), 90))
                if event.get("task", {}).get("id") == task_id:
                    heard.append(event)
            outsider: list[dict[str, Any]] = []
            try:
                while True:
                    outsider.append(json.loads(await asyncio.wait_for(oscars.recv(), 1.0)))
            except TimeoutError:
                pass
            return heard, outsider, task_id

    heard, outsider, task_id = run_async(listen())
    assert heard[-1]["type"] == "task.succeeded", heard[-1]
    assert {e["type"] for e in heard} >= {"task.started", "task.progress", "task.succeeded"}, (
        [e["type"] for e in heard], heard[-1]["task"].get("started_at"), heard[-1]["task"].get("finished_at"))
    assert all(e["shared"] and e["task"]["owner_name"] == "Bob" for e in heard)
    assert not [e for e in outsider if e.get("task", {}).get("id") == task_id], outsider

    listed = vic.get(f"/api/v1/projects/{project_id}/scenes/{scene_id}/runs")
    assert listed.status_code == 200, listed.text
    (run_row,) = [t for t in listed.json()["items"] if t["id"] == task_id]
    assert run_row["owner_name"] == "Bob" and run_row["status"] == "succeeded"
    assert vic.get(f"/api/v1/tasks/{task_id}/previews/generate").status_code == 200
    assert oscar.get(f"/api/v1/projects/{project_id}/scenes/{scene_id}/runs").status_code == 404
    assert oscar.get(f"/api/v1/tasks/{task_id}/previews/generate").status_code == 404
    assert vic.post(f"/api/v1/tasks/{task_id}/cancel").status_code == 404  # not theirs to cancel
    assert bob.post(f"/api/v1/tasks/{task_id}/cancel").status_code != 404


def test_a_generated_picture_carries_its_graph_and_gives_it_back(server: RunningServer, admin: ApiClient) -> None:
    from mediastudio.graph.png import read_text

    nodes, edges = t2i_graph(seed=11, prompt="a harbour in fog")
    nodes["note"] = node("generic", "Aside", text="not part of the picture")
    project_id, scene_id = scene_with(admin, nodes, edges)
    task = wait(admin, run(admin, project_id, scene_id)["id"])
    (asset_id,) = task["result"]["assets"]
    picture = asset_bytes(admin, project_id, asset_id)
    texts = read_text(picture, {"mediastudio-graph", "parameters"}, 1 << 20)
    assert texts["parameters"].startswith("a harbour in fog\n")
    assert "Steps: 2, " in texts["parameters"] and "Seed: 11" in texts["parameters"]
    assert "Size: 64x64" in texts["parameters"] and "Model: tiny-sd" in texts["parameters"]
    read = admin.post("/api/v1/workflows/read", content=picture)
    assert read.status_code == 200, read.text
    graph = read.json()
    assert set(graph["nodes"]) == {"prompt", "seed", "model", "generate", "shot"}  # the note made nothing
    for node_id, sent in graph["nodes"].items():
        assert {k: sent[k] for k in ("type", "title", "params")} == \
            {k: nodes[node_id][k] for k in ("type", "title", "params")}
    assert sorted(f"{e['source']}:{e['source_handle']}->{e['target']}:{e['target_handle']}" for e in graph["edges"]) \
        == sorted(key for key, _ in edges)
    sidecar = admin.get(f"/api/v1/projects/{project_id}/assets/{asset_id}/workflow")
    assert sidecar.status_code == 200 and "workflow.json" in sidecar.headers["content-disposition"]
    assert json.loads(sidecar.content)["nodes"] == json.loads(texts["mediastudio-graph"])["nodes"]
    with Image.open(io.BytesIO(picture)) as opened:  # still a picture any tool opens
        assert opened.size == (64, 64) and opened.info["parameters"] == texts["parameters"]
