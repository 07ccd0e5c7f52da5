"""Base families of each kind of installed thing (a model, a LoRA, a VAE, an IP-Adapter), told from their files
without loading them, and the planning problem for one made for another base than its node's model."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from mediastudio.engine.fit import BASE_MISMATCH, NOT_INSTALLED, Installed
from mediastudio.engine.graph import GraphInvalid, plan
from mediastudio.engine.registry import build_node_registry
from mediastudio.graph import Graph
from mediastudio.models.bases import fits, label, model_family, vae_family
from mediastudio.models.ipadapters import IpAdapterFiles
from mediastudio.models.loras import LoraFiles
from mediastudio.models.registry import ModelRegistry
from mediastudio.models.vaes import list_vaes


def _safetensors(path: Path, shapes: dict[str, list[int]], metadata: dict[str, str] | None = None) -> Path:
    import torch
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: torch.zeros(*v) for k, v in shapes.items()}, str(path), metadata=metadata)
    return path


def _model(root: Path, name: str, pipeline: str, cross_attention: int | None = None) -> None:
    folder = root / "models" / name
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": pipeline}))
    if cross_attention:
        (folder / "unet" / "config.json").write_text(json.dumps({"cross_attention_dim": cross_attention}))


def test_a_model_s_family_comes_from_its_pipeline_and_its_unet(tmp_path: Path) -> None:
    _model(tmp_path, "one", "StableDiffusionPipeline", 768)
    _model(tmp_path, "two", "StableDiffusionPipeline", 1024)
    _model(tmp_path, "odd", "StableDiffusionPipeline", 32)
    _model(tmp_path, "xl", "StableDiffusionXLPipeline")
    _model(tmp_path, "three", "StableDiffusion3Pipeline")
    _model(tmp_path, "flux", "FluxPipeline")
    _model(tmp_path, "clip", "AnimateDiffPipeline")
    families = ModelRegistry(tmp_path).families()
    assert families == {"clip": None, "flux": "flux", "odd": "sd_v", "one": "sd_v1", "three": "sd3",
                        "two": "sd_v2", "xl": "sdxl"}
    assert model_family("StableDiffusionUpscalePipeline") is None


def test_a_lora_s_family_from_its_metadata_else_its_shapes(tmp_path: Path) -> None:
    loras = tmp_path / "loras"
    down = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight"
    _safetensors(loras / "kohya-v1.safetensors", {down: [2, 768]})
    _safetensors(loras / "diffusers-xl.safetensors",
                 {"unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight": [2, 2048]})
    _safetensors(loras / "v2.safetensors", {down: [2, 1024]})
    _safetensors(loras / "flux.safetensors", {"transformer.single_transformer_blocks.0.proj_out.lora_A.weight": [2, 4]})
    _safetensors(loras / "said.safetensors", {down: [2, 768]}, {"ss_base_model_version": "sdxl_base_v1-0"})
    _safetensors(loras / "tiny.safetensors", {down: [2, 32]})
    found = {i.name: (i.family, i.base) for i in LoraFiles(tmp_path).list()}
    assert found == {"diffusers-xl.safetensors": ("sdxl", None), "flux.safetensors": ("flux", None),
                     "kohya-v1.safetensors": ("sd_v1", None), "said.safetensors": ("sdxl", "Stable Diffusion XL"),
                     "tiny.safetensors": (None, None), "v2.safetensors": ("sd_v2", None)}


def test_a_vae_s_family_from_its_config(tmp_path: Path) -> None:
    assert vae_family({"latent_channels": 4}) == "sd_v"  # diffusers' default scaling factor: 1.x/2.x
    assert vae_family({"latent_channels": 4, "scaling_factor": 0.13025}) == "sdxl"
    assert vae_family({"latent_channels": 16, "scaling_factor": 1.5305, "shift_factor": 0.0609}) == "sd3"
    assert vae_family({"latent_channels": 16, "scaling_factor": 0.3611, "shift_factor": 0.1159}) == "flux"
    assert vae_family({"latent_channels": 8, "scaling_factor": 0.5}) is None
    folder = tmp_path / "models" / "xl-vae"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"_class_name": "AutoencoderKL", "latent_channels": 4,
                                                    "scaling_factor": 0.13025}))
    (info,) = list_vaes(tmp_path / "models")
    assert (info.name, info.family) == ("xl-vae", "sdxl")


def test_ip_adapters_are_found_in_diffusers_layout_with_their_family(tmp_path: Path) -> None:
    root = tmp_path / "ipadapters"
    proj = {"image_proj.proj.weight": [4 * 768, 16], "image_proj.norm.weight": [768]}
    _safetensors(root / "models" / "ip-adapter_sd15.safetensors", {**proj, "ip_adapter.1.to_k_ip.weight": [320, 768]})
    (root / "models" / "image_encoder").mkdir()
    (root / "models" / "image_encoder" / "config.json").write_text("{}")
    _safetensors(root / "sdxl_models" / "ip-adapter_sdxl.safetensors",
                 {**proj, "ip_adapter.1.to_k_ip.weight": [640, 2048]})
    _safetensors(root / "models" / "not-an-adapter.safetensors", {"something.weight": [2, 2]})
    (root / "models" / "image_encoder" / "model.safetensors").write_bytes(b"")  # the encoder's own weights
    found = {i.name: (i.family, i.image_encoder) for i in IpAdapterFiles(tmp_path).list()}
    assert found == {"models/ip-adapter_sd15.safetensors": ("sd_v1", True),
                     "sdxl_models/ip-adapter_sdxl.safetensors": ("sdxl", False)}


def test_families_fit_alike_or_when_unknown() -> None:
    assert fits("sd_v1", "sd_v") and fits("sd_v", "sd_v2") and fits(None, "sdxl") and fits("flux", None)
    assert not fits("sd_v1", "sd_v2") and not fits("sdxl", "sd_v") and not fits("sd3", "flux")
    assert label("sdxl") == "Stable Diffusion XL" and label(None) == "unknown"


def _node(type_: str, **params: Any) -> dict[str, Any]:
    return {"type": type_, "title": type_, "position": {"x": 0, "y": 0}, "params": params, "bypass": False}


def _graph(*, lora: str = "", vae: str = "", adapter: str | None = None, model: str = "one") -> Graph:
    """Model → [IP-Adapter] → [LoRA] → Text to image → shot."""
    nodes = {"model": _node("model_loader", model=model),
             "make": _node("text_to_image", vae=vae, steps=2, prompt_text="a"),
             "shot": _node("shot", name="Take"), "ref": _node("load_image", asset_id="a")}
    chain = ["model"]
    if adapter is not None:
        nodes["ip"] = _node("ip_adapter", adapter=adapter)
        chain.append("ip")
    if lora:
        nodes["lora"] = _node("lora", lora=lora)
        chain.append("lora")
    chain.append("make")
    edges = {f"{a}:model->{b}:model": {"source": a, "source_handle": "model", "target": b, "target_handle": "model"}
             for a, b in itertools.pairwise(chain)}
    edges["make:image->shot:images"] = {"source": "make", "source_handle": "image", "target": "shot",
                                        "target_handle": "images"}
    if adapter is not None:
        edges["ref:image->ip:image"] = {"source": "ref", "source_handle": "image", "target": "ip",
                                        "target_handle": "image"}
    return Graph.model_validate({"nodes": nodes, "edges": edges})


INSTALLED = Installed(models={"one": "sd_v1", "xl": "sdxl", "odd": None}, default_model="one",
                      loras={"xl.safetensors": "sdxl", "v1.safetensors": "sd_v1", "who.safetensors": None},
                      vaes={"xl-vae": "sdxl", "sd-vae": "sd_v"},
                      ipadapters={"models/ip-adapter_sd15.safetensors": "sd_v1"})


def _issues(graph: Graph, installed: Installed = INSTALLED) -> list[dict[str, Any]]:
    registry = build_node_registry()
    kinds = {name: "text-to-image" for name in installed.models}
    return [i.as_dict() for i in plan(graph, registry, None, kinds, whole=True, installed=installed).issues]


def test_a_lora_or_vae_for_another_base_is_a_problem_on_its_node_naming_both_families() -> None:
    (issue,) = _issues(_graph(lora="xl.safetensors"))
    assert issue == {"node_id": "lora", "field": "lora", "edge": None, "code": BASE_MISMATCH,
                     "message": "This LoRA ('xl.safetensors', on 'LoRA') is for Stable Diffusion XL; the model "
                                "'one' is Stable Diffusion 1.x."}
    (issue,) = _issues(_graph(vae="xl-vae"))
    assert (issue["node_id"], issue["field"]) == ("make", "vae")
    assert issue["message"].endswith("is for Stable Diffusion XL; the model 'one' is Stable Diffusion 1.x.")
    # the model is found through the nodes that add to it, and the default one when none is picked
    issues = _issues(_graph(lora="v1.safetensors", vae="sd-vae", model="xl", adapter=""))
    assert [(i["node_id"], i["field"]) for i in issues] == [("ip", "adapter"), ("lora", "lora"), ("make", "vae")]
    assert issues[0]["message"] == ("'IP-Adapter': pick an IP-Adapter (installed: "
                                    "models/ip-adapter_sd15.safetensors).")
    assert all("the model 'xl' is Stable Diffusion XL" in i["message"] for i in issues[1:])
    assert [i["node_id"] for i in _issues(_graph(lora="xl.safetensors", model=""))] == ["lora"]


def test_what_fits_or_cannot_be_told_is_allowed() -> None:
    assert _issues(_graph(lora="v1.safetensors", vae="sd-vae")) == []
    assert _issues(_graph(lora="who.safetensors")) == []  # unknown base: allowed
    assert _issues(_graph(lora="xl.safetensors", model="odd")) == []  # the model's base unknown
    assert _issues(_graph(lora="gone.safetensors")) == []  # refused when it runs, naming the folder
    assert _issues(_graph(adapter="models/ip-adapter_sd15.safetensors")) == []


def test_an_ip_adapter_not_installed_is_a_problem_naming_where_its_weights_go() -> None:
    (issue,) = _issues(_graph(adapter=""), Installed(models={"one": "sd_v1"}, default_model="one"))
    assert issue["node_id"] == "ip" and issue["code"] == NOT_INSTALLED and issue["field"] == "adapter"
    assert issue["message"].startswith("'IP-Adapter': no IP-Adapter is installed. Put IP-Adapter weights in the "
                                       "data folder's ipadapters/")
    (issue,) = _issues(_graph(adapter="elsewhere.safetensors"))
    assert issue["message"].startswith("'IP-Adapter': no IP-Adapter 'elsewhere.safetensors' is installed.")
    (issue,) = _issues(_graph(adapter="models/ip-adapter_sd15.safetensors", model="xl"))
    assert issue["code"] == BASE_MISMATCH and "is for Stable Diffusion 1.x; the model 'xl'" in issue["message"]


def test_a_run_with_a_misfit_is_refused_naming_the_node() -> None:
    with pytest.raises(GraphInvalid) as refused:
        plan(_graph(lora="xl.safetensors"), build_node_registry(), None, {"one": "text-to-image"},
             installed=INSTALLED)
    assert [i.node_id for i in refused.value.issues] == ["lora"]
