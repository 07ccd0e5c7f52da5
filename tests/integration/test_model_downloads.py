"""Models managed through the API: the catalog with each entry's state, a catalog download as a task (progress
in bytes, cancel, resume, a restart in the middle of it), the free-disk check, the offline message, which
projects used a model, and templates that take the chosen model's settings.

Nothing reaches the internet: `HF_ENDPOINT` points huggingface_hub at a fake hub on 127.0.0.1 (tests/fake_hub.py)
that serves a tiny Stable Diffusion folder built here (tests/tiny_models.py)."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_hub import FakeHub
from support import (
    ADMIN_PASSWORD,
    ApiClient,
    RunningServer,
    project_folder,
    set_up_admin,
    start_server,
    wait_for_task,
    wait_until,
)

REPO = "tester/tiny-sd"
ADAPTER_REPO = "tester/tiny-motion-adapter"
EXTRA = {"unet/diffusion_pytorch_model.fp16.safetensors": b"h" * 4000,  # a variant copy: not fetched
         "tiny-sd-single-file.safetensors": b"s" * 9000,  # a single-file checkpoint at the top: not fetched
         "README.md": b"# tiny"}
RECOMMENDED = {"width": 64, "height": 64, "steps": 2, "steps_min": 1, "steps_max": 3, "guidance": 1.5}


def entry(id_: str, size: int, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "name": id_.title(), "repo": REPO, "kind": "text-to-image",
            "pipeline": "StableDiffusionPipeline", "size_bytes": size, "vram_gb": 1,
            "licence": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
            "good_for": "Tests", "recommended": RECOMMENDED, **extra}


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_models import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("hub") / "tiny-sd")


@pytest.fixture(scope="module")
def model_bytes(tiny_folder: Path) -> int:
    return sum(p.stat().st_size for p in tiny_folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def hub(tiny_folder: Path) -> Iterator[FakeHub]:
    from tiny_models import build_tiny_motion_adapter

    hub = FakeHub(tiny_folder, REPO, extra=EXTRA)
    hub.add_repo(ADAPTER_REPO, build_tiny_motion_adapter(tiny_folder.parent / "tiny-adapter"))
    assert max((p for p in hub.files if p not in EXTRA), key=lambda p: len(hub.files[p])) == STALLED
    yield hub
    hub.close()


def environment(folder: Path, hub_url: str, model_bytes: int) -> dict[str, str]:
    catalog = folder / "catalog.json"
    catalog.write_text(json.dumps({"models": [
        entry("tiny", model_bytes), entry("tiny-copy", model_bytes), entry("huge", 10**18),
        entry("adapter", 1000, installable=False, note="A motion adapter: add it from a folder."),
        entry("tiny-animatediff", model_bytes, repo=ADAPTER_REPO, base=REPO, kind="text-to-video",
              pipeline="AnimateDiffPipeline")]}))
    return {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_PRELOAD_MODELS": "false",
            "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000", "MEDIASTUDIO_MODELS_CATALOG": str(catalog),
            "MEDIASTUDIO_MODELS_DISK_MARGIN_BYTES": "0", "HF_ENDPOINT": hub_url, "HF_HOME": str(folder / "hf"),
            "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_ETAG_TIMEOUT": "3", "HF_HUB_DOWNLOAD_TIMEOUT": "3",
            "HF_HUB_DISABLE_XET": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, hub: FakeHub, model_bytes: int) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("downloads")
    server = start_server(folder, env=environment(folder, hub.url, model_bytes))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def catalog_item(client: ApiClient, id_: str) -> dict[str, Any]:
    answer = client.get("/api/v1/models/catalog")
    assert answer.status_code == 200, answer.text
    return next(i for i in answer.json()["items"] if i["id"] == id_)


def download(client: ApiClient, id_: str) -> dict[str, Any]:
    started = client.post("/api/v1/models", json={"catalog": id_})
    assert started.status_code == 201, started.text
    return started.json()["task"]


def installed_tiny(client: ApiClient) -> None:
    """The catalog's tiny model installed (the first test downloads it; a test run alone downloads it here)."""
    if catalog_item(client, "tiny")["state"] != "installed":
        download(client, "tiny")
        wait_until(lambda: catalog_item(client, "tiny")["state"] == "installed", timeout=60,
                   message="the tiny model to be installed")


STALLED = "text_encoder/model.safetensors"  # the largest file: fetched last (smallest first)


def others_in_place(partial: Path, hub: FakeHub) -> None:
    """Wait (bounded) until every file but the stalled one is complete in the partial folder."""
    wanted = [p for p in hub.files if p not in EXTRA and p != STALLED]
    wait_until(lambda: all((partial / p).is_file() for p in wanted), timeout=30,
               message=lambda: f"the other files in {partial}")


def half_on_disk(partial: Path, hub: FakeHub) -> int:
    """Wait (bounded) until the stalled file's first half is in its .part; answer its size."""
    half = len(hub.files[STALLED]) // 2
    part = partial / f"{STALLED}.part"
    wait_until(lambda: part.is_file() and part.stat().st_size == half, timeout=10,
               message="the first half of the cut file on disk")
    return half


def test_a_catalog_entry_downloads_with_progress_in_bytes(server: RunningServer, admin: ApiClient, hub: FakeHub,
                                                          model_bytes: int) -> None:
    first = catalog_item(admin, "tiny")
    assert first["state"] == "available" and first["licence"]["name"] == "Apache-2.0"
    assert first["recommended"]["width"] == 64 and first["size_bytes"] == model_bytes
    hub.delay = 0.4  # files come one by one, each late: the progress is seen moving
    try:
        task = download(admin, "tiny")
        assert task["kind"] == "models.pull" and task["title"] == f"Download model {REPO}"
        assert catalog_item(admin, "tiny")["state"] == "downloading"
        seen: list[dict[str, Any]] = []

        def finished() -> bool:
            row = admin.get(f"/api/v1/tasks/{task['id']}").json()
            seen.append(row)
            return row["status"] in ("succeeded", "failed", "cancelled")

        wait_until(finished, timeout=60, interval=0.05, message="the download to end")
    finally:
        hub.delay = 0.0
    done = seen[-1]
    assert done["status"] == "succeeded", done
    assert done["result"] == {"model": "tiny"}
    moving = [r for r in seen if r["status"] == "running" and r["total"] == model_bytes]
    assert moving, "progress was reported in bytes of the whole model"
    steps = [r["step"] for r in moving]
    assert steps == sorted(steps) and len(set(steps)) >= 2
    assert any((r.get("detail") or {}).get("bytes_total") == model_bytes for r in moving)
    assert "MB" in moving[-1]["message"]
    # What the pipeline loads, and nothing else: no variant copies, no single-file checkpoint, no README.
    fetched = {path for path, _ in hub.gets}
    assert fetched == {p for p in hub.files if p not in EXTRA}
    installed = admin.get("/api/v1/models").json()["items"]
    tiny = next(m for m in installed if m["name"] == "tiny")
    assert tiny["catalog_id"] == "tiny" and tiny["recommended"]["steps"] == 2 and tiny["linked"] is False
    assert tiny["size_bytes"] >= model_bytes
    state = catalog_item(admin, "tiny")
    assert state["state"] == "installed" and state["installed_as"] == "tiny"
    assert not [p for p in (server.data_dir / "models").iterdir() if p.name.startswith(".partial")]


def test_a_cancelled_download_keeps_its_files_and_resumes(server: RunningServer, admin: ApiClient, hub: FakeHub,
                                                          model_bytes: int) -> None:
    hub.gets.clear()
    hub.stall = STALLED
    hub.released.clear()
    hub.stalled.clear()
    task = download(admin, "tiny-copy")
    again = admin.post("/api/v1/models", json={"catalog": "tiny-copy"})
    assert again.status_code == 409 and "being downloaded" in again.json()["detail"]
    assert hub.stalled.wait(30)
    others_in_place(server.data_dir / "models" / ".partial-tiny-copy", hub)
    half_on_disk(server.data_dir / "models" / ".partial-tiny-copy", hub)
    assert admin.post(f"/api/v1/tasks/{task['id']}/cancel").status_code in (200, 202)
    hub.release()  # the stalled file ends short; the task stops at its next check
    wait_for_task(admin, task["id"], ("cancelled",), timeout=60)
    stopped = catalog_item(admin, "tiny-copy")
    assert stopped["state"] == "partial" and 0 < stopped["bytes_on_disk"] < model_bytes
    hub.gets.clear()
    resumed = download(admin, "tiny-copy")
    wait_for_task(admin, resumed["id"], timeout=60)
    refetched = {p for p, _ in hub.gets}
    assert refetched == {STALLED}, "files finished before the cancel are not fetched again"
    assert hub.fetched(STALLED) == [len(hub.files[STALLED]) // 2], "the cut file goes on from where it stopped"
    assert catalog_item(admin, "tiny-copy")["state"] == "installed"


def test_not_enough_disk_is_refused_before_anything_starts(server: RunningServer, admin: ApiClient) -> None:
    refused = admin.post("/api/v1/models", json={"catalog": "huge"})
    assert refused.status_code == 507, refused.text
    body = refused.json()
    assert "needs 1000000000.0 GB" in body["detail"] and "free" in body["detail"]
    assert body["needed_bytes"] == 10**18 and body["free_bytes"] > 0 and "remove a model" in body["hint"]
    assert catalog_item(admin, "huge")["state"] == "available"
    assert not (server.data_dir / "models" / ".partial-huge").exists()


def test_what_cannot_be_downloaded_is_refused_with_a_reason(admin: ApiClient) -> None:
    adapter = admin.post("/api/v1/models", json={"catalog": "adapter"})
    assert adapter.status_code == 422 and "motion adapter" in adapter.json()["detail"]
    missing = admin.post("/api/v1/models", json={"catalog": "nothing-like-it"})
    assert missing.status_code == 404 and "catalog" in missing.json()["hint"]
    both = admin.post("/api/v1/models", json={"catalog": "tiny", "repo": REPO})
    assert both.status_code == 422


def test_people_see_the_catalog_and_models_but_only_admins_change_them(server: RunningServer,
                                                                       admin: ApiClient) -> None:
    ben = ApiClient(server.url)
    ben.register("ben")
    catalog = ben.get("/api/v1/models/catalog").json()
    assert catalog["free_bytes"] is None and {i["id"] for i in catalog["items"]} >= {"tiny", "huge"}
    assert admin.get("/api/v1/models/catalog").json()["free_bytes"] > 0
    assert ben.get("/api/v1/models").status_code == 200
    assert ben.post("/api/v1/models", json={"catalog": "tiny"}).status_code == 403
    assert ben.delete("/api/v1/models/tiny").status_code == 403


def test_a_template_takes_the_chosen_models_settings(server: RunningServer, admin: ApiClient,
                                                     tiny_folder: Path) -> None:
    installed_tiny(admin)
    made = admin.post("/api/v1/projects", json={"name": "Fitted", "template": "text-to-image", "model": "tiny"})
    assert made.status_code == 201, made.text
    scene = admin.get(f"/api/v1/projects/{made.json()['id']}/scenes").json()["items"][0]
    graph = admin.get(f"/api/v1/projects/{made.json()['id']}/scenes/{scene['id']}").json()["graph"]
    assert graph["nodes"]["model"]["params"]["model"] == "tiny"
    params = graph["nodes"]["generate"]["params"]
    assert (params["width"], params["height"], params["steps"], params["guidance_scale"]) == (64, 64, 2, 1.5)
    # A model added from a folder: its settings come from its pipeline (a turbo one: 1 step, no guidance) and its
    # size from its own configs (this tiny one was made at 64 px; SD-Turbo's configs say 512).
    added = admin.post("/api/v1/models", json={"path": str(tiny_folder), "name": "my-turbo"})
    assert added.status_code == 201, added.text
    assert added.json()["model"]["recommended"]["guidance"] == 0.0
    turbo = admin.post("/api/v1/projects", json={"name": "Turbo", "template": "text-to-image", "model": "my-turbo"})
    scene = admin.get(f"/api/v1/projects/{turbo.json()['id']}/scenes").json()["items"][0]
    params = admin.get(f"/api/v1/projects/{turbo.json()['id']}/scenes/{scene['id']}").json()["graph"]["nodes"][
        "generate"]["params"]
    assert (params["width"], params["steps"], params["guidance_scale"]) == (64, 1, 0.0)
    unknown = admin.post("/api/v1/projects", json={"name": "No", "template": "text-to-image", "model": "absent"})
    assert unknown.status_code == 404 and "absent" in unknown.json()["detail"]
    plain = admin.post("/api/v1/projects", json={"name": "Plain", "template": "text-to-image"})
    scene = admin.get(f"/api/v1/projects/{plain.json()['id']}/scenes").json()["items"][0]
    graph = admin.get(f"/api/v1/projects/{plain.json()['id']}/scenes/{scene['id']}").json()["graph"]
    assert graph["nodes"]["model"]["params"]["model"] == "" and graph["nodes"]["generate"]["params"]["width"] == 1024


def test_usage_counts_the_projects_each_person_may_see(server: RunningServer, admin: ApiClient) -> None:
    installed_tiny(admin)
    made = admin.post("/api/v1/projects", json={"name": "Used", "template": "text-to-image", "model": "tiny"}).json()
    scene = admin.get(f"/api/v1/projects/{made['id']}/scenes").json()["items"][0]
    run = admin.post(f"/api/v1/projects/{made['id']}/scenes/{scene['id']}/run", json={})
    assert run.status_code == 201, run.text
    wait_for_task(admin, run.json()["id"], timeout=120)
    usage = admin.get("/api/v1/models/usage").json()
    tiny = next(u for u in usage["items"] if u["model"] == "tiny")
    assert tiny["projects"] == [{"project_id": made["id"], "project_name": "Used", "assets": 1}]
    assert (project_folder(server, made) / "assets").is_dir()
    carla = ApiClient(server.url)
    carla.register("carla")
    assert carla.get("/api/v1/models/usage").json()["items"] == []  # Ana's project is not Carla's to know of


def test_a_download_cut_by_a_restart_goes_on_where_it_was(tmp_path: Path, hub: FakeHub, model_bytes: int) -> None:
    env = environment(tmp_path, hub.url, model_bytes)
    server = start_server(tmp_path, env=env)
    try:
        admin = set_up_admin(server.url)
        hub.gets.clear()
        hub.stall = STALLED
        hub.released.clear()
        hub.stalled.clear()
        task = download(admin, "tiny")
        assert hub.stalled.wait(30)
        partial = server.data_dir / "models" / ".partial-tiny"
        others_in_place(partial, hub)
        half = half_on_disk(partial, hub)
        server.stop(signal.SIGKILL)  # a crash, or the power going: the task is left "running"
        hub.release()
        assert (partial / "model_index.json").is_file()
        hub.gets.clear()
        server = start_server(tmp_path, env=env, port=int(server.url.rsplit(":", 1)[1]))
        admin = ApiClient(server.url)
        assert admin.post("/api/v1/auth/login", json={"username": "admin",
                                                      "password": ADMIN_PASSWORD}).status_code == 200
        done = wait_for_task(admin, task["id"], timeout=60)
        assert done["attempts"] == 2 and done["result"] == {"model": "tiny"}
        assert {p for p, _ in hub.gets} == {STALLED}, hub.gets  # the finished files stay finished
        assert hub.fetched(STALLED) == [half], "the cut file goes on from its last byte (a Range request)"
        assert (server.data_dir / "models" / "tiny" / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    finally:
        server.stop()


def test_offline_says_how_to_install_by_hand(tmp_path: Path, model_bytes: int) -> None:
    server = start_server(tmp_path, env=environment(tmp_path, "http://127.0.0.1:9", model_bytes))
    try:
        admin = set_up_admin(server.url)
        task = download(admin, "tiny")
        failed = wait_for_task(admin, task["id"], ("failed",), timeout=60)
        assert failed["error"]["code"] == "offline", failed
        assert "cannot reach huggingface.co" in failed["error"]["message"]
        assert "hf download tester/tiny-sd --local-dir tiny" in failed["error"]["hint"]
        assert "mediastudio models add tiny" in failed["error"]["hint"]
        assert not list((server.data_dir / "models").glob("*"))  # nothing to resume: nothing kept
        assert catalog_item(admin, "tiny")["state"] == "available"
    finally:
        server.stop()


def test_a_motion_adapter_downloads_with_its_base_as_one_animatediff_model(server: RunningServer, admin: ApiClient,
                                                                          hub: FakeHub) -> None:
    hub.gets.clear()
    task = download(admin, "tiny-animatediff")
    done = wait_for_task(admin, task["id"], timeout=60)
    assert done["result"] == {"model": "tiny-animatediff"}
    installed = next(m for m in admin.get("/api/v1/models").json()["items"] if m["name"] == "tiny-animatediff")
    assert installed["kind"] == "text-to-video" and installed["pipeline"] == "AnimateDiffPipeline"
    assert installed["catalog_id"] == "tiny-animatediff" and installed["recommended"]["width"] == 64
    folder = server.data_dir / "models" / "tiny-animatediff"
    index = json.loads((folder / "model_index.json").read_text())
    assert index["motion_adapter"] == ["diffusers", "MotionAdapter"] and index["unet"][1] == "UNet2DConditionModel"
    assert (folder / "motion_adapter" / "config.json").is_file()
    assert f"{ADAPTER_REPO}/diffusion_pytorch_model.safetensors" in {p for p, _ in hub.gets}
    # diffusers loads it as one pipeline (the adapter joined to the UNet) and makes frames with it.
    from diffusers import AnimateDiffPipeline

    pipe = AnimateDiffPipeline.from_pretrained(str(folder))
    assert type(pipe.unet).__name__ == "UNetMotionModel"
    frames = pipe(prompt="a lighthouse", num_frames=2, num_inference_steps=1, height=32, width=32,
                  output_type="np").frames
    assert frames.shape[:3] == (1, 2, 32)
