"""benchmarks/gpu_generation.py runs only on a CUDA GPU; here its model building runs at a tiny size on the CPU,
and without CUDA it stops with a message a person can act on."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_generation.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_generation", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_generation"] = module
    spec.loader.exec_module(module)
    return module


def test_the_sd15_builder_makes_a_pipeline_diffusers_loads_and_runs(tmp_path: Path) -> None:
    import torch
    from diffusers import DiffusionPipeline

    script = load()
    folder = script.build_sd15(tmp_path / "sd15-tiny", tiny=True, fp16=False)
    pipe = DiffusionPipeline.from_pretrained(str(folder), local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    assert type(pipe).__name__ == "StableDiffusionPipeline"
    # The tiny model keeps SD 1.5's layout: four UNet levels, the same block types, CLIP's 77 positions.
    assert pipe.unet.config.down_block_types == list(script.SD15_UNET["down_block_types"])
    assert pipe.text_encoder.config.max_position_embeddings == 77
    image = pipe("a lighthouse", num_inference_steps=1, width=64, height=64,
                 generator=torch.Generator().manual_seed(1)).images[0]
    assert image.size == (64, 64)


def test_without_cuda_it_says_what_it_needs_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the script would run")
    assert load().main([]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().err
