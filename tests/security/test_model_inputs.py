"""What a client (or a hub) says about models is hostile: names that are paths, folders that are not models,
files a hub lists outside the repo's folder, catalog ids and model names that try to leave their folder, and
people who are not administrators. Each is refused with a 4xx and a sentence, and nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_hub import FakeHub
from mediastudio.errors import BadRequest, Conflict, NotFound, TaskFailed
from mediastudio.models.pull import PART, pull, wanted
from mediastudio.models.registry import ModelRegistry
from support import ApiClient, RunningServer, set_up_admin, start_server

HOSTILE_NAMES = ["../x", "../../etc", "/etc", "", ".", "..", "a/b", "a\\b", ".hidden", "x" * 101, "a\0b"]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "unet/../../../x.safetensors", "./model_index.json",
                                 "unet//x.safetensors", "unet\\..\\x.safetensors", "..", ".git/config.json"])
def test_a_hub_cannot_name_a_file_outside_the_model_folder(bad: str) -> None:
    assert not wanted(bad)


def test_only_what_diffusers_loads_is_wanted() -> None:
    assert wanted("model_index.json") and wanted("unet/diffusion_pytorch_model.safetensors")
    assert wanted("tokenizer/vocab.json") and wanted("text_encoder_2/model.safetensors")
    for skipped in ("README.md", "v1-5-pruned.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
                    "unet/diffusion_pytorch_model.bin", "unet/diffusion_pytorch_model.non_ema.safetensors",
                    "text_encoder/model.onnx", "vae/diffusion_flax_model.msgpack"):
        assert not wanted(skipped), skipped


@pytest.mark.parametrize("bad", HOSTILE_NAMES)
def test_names_that_are_paths_name_no_model(tmp_path: Path, bad: str) -> None:
    registry = ModelRegistry(tmp_path)
    with pytest.raises((BadRequest, NotFound, Conflict)):
        registry.check_name(bad)
    with pytest.raises((BadRequest, NotFound)):
        registry.get(bad)
    with pytest.raises((BadRequest, NotFound)):
        registry.remove(bad)
    assert not (tmp_path / "models").exists() or not list((tmp_path / "models").iterdir())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("model-inputs")
    server = start_server(folder, env={"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_PRELOAD_MODELS": "false",
                                       "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000",
                                       "HF_ENDPOINT": "http://127.0.0.1:9"})
    yield server
    server.stop()


def test_the_api_refuses_hostile_model_inputs(server: RunningServer, tmp_path: Path) -> None:
    admin = set_up_admin(server.url)
    (tmp_path / "not-a-model").mkdir()
    for body in ({"path": str(tmp_path / "not-a-model")}, {"path": "/etc"}, {"path": "relative/../../etc"},
                 {"path": "a\u0000b"}, {"path": "/" + "x" * 5000}):
        refused = admin.post("/api/v1/models", json=body)
        assert refused.status_code in (400, 422), (body, refused.text)
        assert refused.json()["detail"], body
    not_a_model = admin.post("/api/v1/models", json={"path": str(tmp_path / "not-a-model")}).json()
    assert "model_index.json" in not_a_model["detail"] and not_a_model["field"] == "path"
    for body in ({"catalog": "../../etc"}, {"catalog": "a/b"}, {"repo": "a/b/../c"}, {"repo": "../x"},
                 {"catalog": "sd-turbo", "name": "../x"}, {"catalog": "x" * 65}, {}):
        assert admin.post("/api/v1/models", json=body).status_code in (400, 404, 422), body
    for bad in ("..", "../x", ".partial-x", "%2e%2e"):
        assert admin.delete(f"/api/v1/models/{bad}").status_code in (400, 404, 405), bad
    for model in ("../x", "a/b", "", "x" * 101):
        made = admin.post("/api/v1/projects", json={"name": "P", "template": "text-to-image", "model": model})
        assert made.status_code in (400, 404), (model, made.text)
    assert not list((server.data_dir / "models").glob("*")) if (server.data_dir / "models").exists() else True
    bea = ApiClient(server.url)
    bea.register("bea")
    assert bea.post("/api/v1/models", json={"path": str(tmp_path)}).status_code == 403
    assert bea.post("/api/v1/models", json={"catalog": "sd-turbo"}).status_code == 403


def test_a_hub_that_sends_more_than_it_said_fills_no_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    folder = tmp_path / "repo"
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    (folder / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"w" * 300_000)
    hub = FakeHub(folder, "tester/liar")
    hub.said_sizes["unet/diffusion_pytorch_model.safetensors"] = 1000
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", hub.url)
    registry = ModelRegistry(tmp_path / "data")
    try:
        with pytest.raises(TaskFailed, match=r"more of diffusion_pytorch_model\.safetensors than its 1000 bytes"):
            pull(registry, "tester/liar", "liar", None, lambda *_: None)
    finally:
        hub.close()
    part = registry.root / ".partial-liar" / "unet" / f"diffusion_pytorch_model.safetensors{PART}"
    assert not part.exists() or part.stat().st_size <= 1000
    assert not (registry.root / "liar").exists()
