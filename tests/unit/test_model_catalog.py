"""The built-in catalog of recommended models, the settings that suit a model (from its catalog entry, else its
pipeline), and a template that takes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mediastudio.errors import NotFound
from mediastudio.models.catalog import ORIGIN, by_pipeline, entry_for, find_entry, load_catalog, recommended_for
from mediastudio.models.pull import bytes_in, disk_problem
from mediastudio.models.registry import ModelInfo
from mediastudio.projects.templates import get_template, with_model


def model(name: str, pipeline: str, path: Path | None = None) -> ModelInfo:
    return ModelInfo(name=name, path=str(path or Path("/nowhere") / name), kind="text-to-image", pipeline=pipeline,
                     linked=False, size_bytes=0)


def test_the_built_in_catalog_names_the_recommended_models_with_what_a_person_needs() -> None:
    entries = load_catalog()
    by_id = {e.id: e for e in entries}
    assert {"sd-turbo", "sdxl-turbo", "stable-diffusion-v1-5", "stable-diffusion-xl-base-1.0", "animatediff",
            "stable-video-diffusion-img2vid-xt", "ltx-video"} <= set(by_id)
    for entry in entries:
        assert entry.size_bytes > 100_000_000 and entry.vram_gb > 0, entry.id
        assert entry.licence.url.startswith("https://") and entry.licence.name, entry.id
        assert entry.good_for and entry.recommended.steps_min <= entry.recommended.steps <= entry.recommended.steps_max
        assert entry.installable or entry.note, f"{entry.id}: say why it cannot be downloaded"
    turbo = by_id["sd-turbo"].recommended
    assert (turbo.width, turbo.steps_min, turbo.steps_max, turbo.guidance) == (512, 1, 4, 0.0)
    assert by_id["sdxl-turbo"].recommended.guidance == 0.0 and by_id["sdxl-turbo"].recommended.width == 512
    sd15 = by_id["stable-diffusion-v1-5"].recommended
    assert (sd15.width, sd15.steps_min, sd15.steps_max, sd15.guidance) == (512, 25, 30, 7.0)
    sdxl = by_id["stable-diffusion-xl-base-1.0"].recommended
    assert sdxl.width == 1024 and sdxl.steps == 30 and 6.0 <= sdxl.guidance <= 7.0
    assert by_id["stable-video-diffusion-img2vid-xt"].gated


def test_settings_come_from_the_catalog_entry_else_from_the_pipeline(tmp_path: Path) -> None:
    entries = load_catalog()
    folder = tmp_path / "my-name"
    folder.mkdir()
    (folder / ORIGIN).write_text(json.dumps({"repo": "stabilityai/sd-turbo", "catalog": "sd-turbo"}))
    pulled = model("my-name", "StableDiffusionPipeline", folder)
    assert entry_for(pulled, entries).id == "sd-turbo"  # type: ignore[union-attr]
    assert recommended_for(pulled, entries).guidance == 0.0
    assert entry_for(model("sdxl-turbo", "StableDiffusionXLPipeline"), entries).id == "sdxl-turbo"  # type: ignore[union-attr]
    assert entry_for(model("mine", "StableDiffusionPipeline"), entries) is None
    assert (by_pipeline(model("dreamshaper-turbo", "StableDiffusionXLPipeline")).steps_max,
            by_pipeline(model("dreamshaper-turbo", "StableDiffusionXLPipeline")).guidance) == (4, 0.0)
    assert by_pipeline(model("juggernaut", "StableDiffusionXLPipeline")).width == 1024
    assert by_pipeline(model("v15", "StableDiffusionPipeline")).guidance == 7.0
    assert (by_pipeline(model("svd", "StableVideoDiffusionPipeline")).width,
            by_pipeline(model("svd", "StableVideoDiffusionPipeline")).height) == (1024, 576)
    with pytest.raises(NotFound):
        find_entry(entries, "no-such-entry")


def _configs(folder: Path, sample_size: object, vae_blocks: object, unet_extra: str = "") -> Path:
    for component, config in (("unet", {"sample_size": sample_size}), ("vae", {"block_out_channels": vae_blocks})):
        (folder / component).mkdir(parents=True)
        extra = unet_extra if component == "unet" else ""
        (folder / component / "config.json").write_text(json.dumps(config) + extra)
    return folder


def test_a_folder_models_size_comes_from_its_own_configs_as_diffusers_reckons_it(tmp_path: Path) -> None:
    """A model added from a folder is drawn at the size it was trained at: a tiny test model at 64 px (512 px
    there takes minutes a step on a CPU), SD 1.5 at 512, SDXL at 1024; configs that do not say keep the
    pipeline's default; a turbo model trained small keeps its own size."""
    sd15 = _configs(tmp_path / "v15", 64, [128, 256, 512, 512])
    tiny = _configs(tmp_path / "tiny", 32, [4, 8])
    xl = _configs(tmp_path / "xl", 128, [128, 256, 512, 512])
    small_turbo = _configs(tmp_path / "small-turbo", 32, [4, 8])
    odd = _configs(tmp_path / "odd", "64", [128, 256])
    assert by_pipeline(model("v15", "StableDiffusionPipeline", sd15)).width == 512
    tiny_fit = by_pipeline(model("tiny", "StableDiffusionPipeline", tiny))
    assert (tiny_fit.width, tiny_fit.height, tiny_fit.guidance) == (64, 64, 7.0)
    assert by_pipeline(model("xl", "StableDiffusionXLPipeline", xl)).width == 1024
    assert by_pipeline(model("small-turbo", "StableDiffusionPipeline", small_turbo)).width == 64
    assert by_pipeline(model("odd", "StableDiffusionPipeline", odd)).width == 512  # a size that is not a number
    huge = _configs(tmp_path / "huge", 64, [128, 256], unet_extra=" " * 300_000)  # a config too large to read
    assert by_pipeline(model("huge", "StableDiffusionPipeline", huge)).width == 512
    svd = _configs(tmp_path / "svd", 96, [128, 256, 512, 512])
    assert by_pipeline(model("svd", "StableVideoDiffusionPipeline", svd)).width == 1024  # video keeps its own


def test_a_template_takes_a_models_settings_and_leaves_the_template_itself_alone() -> None:
    spec = get_template("text-to-image")
    fitted = with_model(spec, "sd-turbo", {"width": 512, "height": 512, "steps": 1, "guidance_scale": 0.0})
    nodes = fitted["scenes"][0]["graph"]["nodes"]
    assert nodes["model"]["params"]["model"] == "sd-turbo"
    assert {k: nodes["generate"]["params"][k] for k in ("width", "height", "steps", "guidance_scale")} == {
        "width": 512, "height": 512, "steps": 1, "guidance_scale": 0.0}
    assert spec["scenes"][0]["graph"]["nodes"]["generate"]["params"]["width"] == 1024  # the cached template


def test_the_disk_check_says_what_is_needed_and_what_is_free() -> None:
    assert disk_problem(5_000_000_000, 10_000_000_000, 2_000_000_000) is None
    said = disk_problem(5_200_000_000, 3_000_000_000, 2_000_000_000)
    assert said is not None and "5.2 GB plus 2.0 GB" in said and "3.0 GB free" in said


def test_a_partial_folder_that_a_finishing_download_moves_away_counts_as_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog sums each partial download's bytes while downloads run: a download that ends moves its partial
    folder away, maybe between a look at the folder and its listing (the catalog answered 500 then)."""
    folder = tmp_path / ".partial-tiny"
    (folder / "unet").mkdir(parents=True)
    (folder / "unet" / "weights.safetensors").write_bytes(b"x" * 300)
    (folder / ".cache" / "huggingface").mkdir(parents=True)
    (folder / ".cache" / "huggingface" / "note.lock").write_bytes(b"y" * 50)  # the hub's bookkeeping: not counted
    assert bytes_in(folder) == 300
    gone = tmp_path / ".partial-finished"
    monkeypatch.setattr(Path, "is_dir", lambda self: True)  # it was there when looked at, then moved away
    assert bytes_in(gone) == 0
