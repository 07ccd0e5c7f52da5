"""Studio overhead on a CUDA GPU at full size: the Stable Diffusion 1.5 architecture with random weights.

Nothing is downloaded: the UNet (860M), the VAE and the CLIP ViT-L text encoder are built from the SD 1.5
configurations written below and saved in fp16. Then, as the `generation` section does with the tiny model,
the same picture is made by plain diffusers in this process and by a real studio (API → queue → engine →
asset), rounds alternating, at 512² × 30 steps and 512² × 1 step; one table: per image, overhead in percent
(target ≤ +3 % at 30 steps), fixed cost per run in ms, and whether the pictures match.

    PYTHONPATH=src:tests:. python benchmarks/gpu_generation.py              # needs a CUDA GPU
    PYTHONPATH=src:tests:. python benchmarks/gpu_generation.py --rounds 10
    PYTHONPATH=src:tests:. python benchmarks/gpu_generation.py --cpu-tiny   # the same path on the CPU, tiny

On a machine without CUDA it says so and exits with status 2 (unless --cpu-tiny).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for extra in (REPO / "tests", REPO):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

# Stable Diffusion 1.5 (runwayml/stable-diffusion-v1-5), as its config files state them.
SD15_UNET: dict[str, Any] = {
    "sample_size": 64, "in_channels": 4, "out_channels": 4, "layers_per_block": 2,
    "block_out_channels": (320, 640, 1280, 1280),
    "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    "cross_attention_dim": 768, "attention_head_dim": 8, "norm_num_groups": 32,
}
SD15_VAE: dict[str, Any] = {
    "in_channels": 3, "out_channels": 3, "latent_channels": 4, "sample_size": 512, "layers_per_block": 2,
    "block_out_channels": (128, 256, 512, 512), "norm_num_groups": 32,
    "down_block_types": ("DownEncoderBlock2D",) * 4, "up_block_types": ("UpDecoderBlock2D",) * 4,
}
SD15_TEXT: dict[str, Any] = {
    "hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12,
    "vocab_size": 49408, "max_position_embeddings": 77, "projection_dim": 768, "hidden_act": "quick_gelu",
}
SD15_SCHEDULER: dict[str, Any] = {
    "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "skip_prk_steps": True,
    "steps_offset": 1,
}
# The same shapes scaled down until a CPU builds and runs it in a second (what the tests exercise).
TINY_UNET = {**SD15_UNET, "sample_size": 8, "block_out_channels": (8, 8, 16, 16), "layers_per_block": 1,
             "cross_attention_dim": 32, "attention_head_dim": 2, "norm_num_groups": 4}
TINY_VAE = {**SD15_VAE, "sample_size": 64, "block_out_channels": (4, 4, 8, 8), "layers_per_block": 1,
            "norm_num_groups": 2}
TINY_TEXT = {**SD15_TEXT, "hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4,
             "num_hidden_layers": 2, "max_position_embeddings": 77, "projection_dim": 32}


def build_sd15(folder: Path, tiny: bool = False, fp16: bool = True) -> Path:
    """An SD 1.5-architecture pipeline with random weights saved as a diffusers folder (`tiny`: scaled down)."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from tiny_models import _tokenizer_files

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**(TINY_UNET if tiny else SD15_UNET))
    vae = AutoencoderKL(**(TINY_VAE if tiny else SD15_VAE))
    # The test tokenizer's ids (< 520) fit any vocabulary; its special tokens are 512 and 513.
    text_encoder = CLIPTextModel(CLIPTextConfig(**(TINY_TEXT if tiny else SD15_TEXT), bos_token_id=512,
                                                eos_token_id=513, pad_token_id=513))
    tokenizer_dir = folder.parent / f".{folder.name}-tokenizer"
    _tokenizer_files(tokenizer_dir)
    config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text())
    config["model_max_length"] = 77
    (tokenizer_dir / "tokenizer_config.json").write_text(json.dumps(config))
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder,
                                   tokenizer=CLIPTokenizer.from_pretrained(str(tokenizer_dir)),
                                   scheduler=PNDMScheduler(**SD15_SCHEDULER), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    if fp16:
        pipe = pipe.to(torch.float16)
    pipe.save_pretrained(str(folder))
    return folder


def measure(ctx: Any, model: Path, device: str, size: int, steps_list: tuple[int, ...], rounds: int) -> list[Any]:
    from benchmarks import harness
    from benchmarks.sections.generation import Direct, Studio, _alternate, identical, in_task_seconds

    direct = Direct(model, device)
    studio = Studio(ctx, model, steps_list[0], size)
    out = ctx.folder("out")
    found = []
    for steps in steps_list:
        studio.set_steps(steps, size)
        measured = asyncio.run(_alternate(studio, direct, steps, size, rounds, out))
        direct_times, studio_times, tasks = measured.direct_s, measured.studio_s, measured.tasks
        same = identical(studio.picture(tasks[-1]), measured.image)
        direct_each, studio_each = statistics.median(direct_times), statistics.median(studio_times)
        overhead = studio_each / direct_each - 1
        label = f"{size}² × {steps} step{'s' if steps > 1 else ''}"
        detail = {"direct_s": direct_times, "studio_s": studio_times, "identical": same,
                  "in_task_median_s": statistics.median(in_task_seconds(t) for t in tasks)}
        found.append(harness.Measure("gpu-generation", f"per image ({label})", studio_each * 1000, "ms", "lower",
                                     target="≤ +3 %" if steps >= 30 else "", anchor=direct_each * 1000,
                                     anchor_name="plain diffusers",
                                     passed=overhead <= 0.03 if steps >= 30 else None, detail=detail))
        fixed = measured.fixed_ms()
        found.append(harness.Measure("gpu-generation", f"fixed cost per run ({label})", fixed, "ms", "lower",
                                     target="< 10 ms" if steps == 1 else "", passed=fixed < 10 if steps == 1 else None,
                                     detail={"overhead_percent": round(overhead * 100, 2), "identical": same,
                                             "stages_ms": measured.stages_ms()}))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per size (after a warm-up)")
    parser.add_argument("--cpu-tiny", action="store_true", help="run the path on the CPU with a tiny model")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("gpu_generation needs torch (pip install mediastudio[ml]) and a CUDA GPU.", file=sys.stderr)
        return 2
    if not args.cpu_tiny and not torch.cuda.is_available():
        print("gpu_generation needs a CUDA GPU, and torch sees none here "
              f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}). Run it on a machine with "
              "an NVIDIA GPU, or use --cpu-tiny to check the path on this CPU with a tiny model.", file=sys.stderr)
        return 2
    from benchmarks import harness

    device = "cpu" if args.cpu_tiny else "cuda"
    size, steps_list = (64, (2, 1)) if args.cpu_tiny else (512, (30, 1))
    with harness.context(quick=False) as ctx:
        model = build_sd15(ctx.folder("models") / "sd15-random", tiny=args.cpu_tiny, fp16=not args.cpu_tiny)
        found = measure(ctx, model, device, size, steps_list, args.rounds)
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else "CPU (tiny model: not a GPU figure)"
    print(f"\n{gpu}; SD 1.5 architecture, random weights; median of {args.rounds} rounds\n")
    print(harness.table(found))
    for m in found:
        if m.name.startswith("per image"):
            print(f"{m.name}: pictures {'identical' if m.detail['identical'] else 'DIFFERENT'} (studio vs direct)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
