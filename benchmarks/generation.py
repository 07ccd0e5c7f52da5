"""Generation benchmark: the same text-to-image run through the studio and through diffusers directly.

Both use the same model folder, prompt, seed, steps and size; the studio run goes API → queue → engine →
asset (a PNG, a git commit, events), timed from the request to the `task.succeeded` event; the direct run
is `pipe(...)` plus saving the PNG. It prints both times per image, the ratio (target: studio overhead
≤ 3 % on a CUDA GPU) and whether the pictures are identical — for runs asked for one at a time (each waits
for the last: the worst case) and for a batch queued at once (`POST …/runs`, how a series is usually made).

    python benchmarks/generation.py                       # CUDA: a full-size SD 1.5 architecture with random
                                                          # weights (no download); CPU: the tiny test model
    python benchmarks/generation.py --model /models/sd15 --images 10 --steps 30 --size 512

On a CPU it runs the tiny model and says that the figure is not a GPU figure.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]

PROMPT = "a lighthouse on a cliff at dusk, cinematic, 35mm film"
SEED = 1234


def build_random_sd15(folder: Path) -> Path:
    """The SD 1.5 architecture (UNet 860M, VAE, CLIP ViT-L text encoder) with random weights, saved in fp16."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from tiny_models import _tokenizer_files

    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8)
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), latent_channels=4, sample_size=512,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        layers_per_block=2)
    text_encoder = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                                num_hidden_layers=12, vocab_size=49408, max_position_embeddings=77,
                                                bos_token_id=512, eos_token_id=513, pad_token_id=513,
                                                projection_dim=768))
    tokenizer_dir = folder.parent / ".tokenizer"
    _tokenizer_files(tokenizer_dir)
    config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text())
    config["model_max_length"] = 77
    (tokenizer_dir / "tokenizer_config.json").write_text(json.dumps(config))
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder,
                                   tokenizer=CLIPTokenizer.from_pretrained(str(tokenizer_dir)),
                                   scheduler=PNDMScheduler(beta_start=0.00085, beta_end=0.012,
                                                           beta_schedule="scaled_linear", skip_prk_steps=True,
                                                           steps_offset=1),
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.to(torch.float16).save_pretrained(str(folder))
    return folder


def direct_runs(model: Path, device: str, count: int, steps: int, size: int, out: Path) -> tuple[list[float], Any]:
    import torch
    from diffusers import DiffusionPipeline

    dtype = torch.float16 if device == "cuda" else torch.float32
    from mediastudio.models.pipelines import dtype_argument

    pipe = DiffusionPipeline.from_pretrained(str(model), local_files_only=True, **dtype_argument(dtype)).to(device)
    pipe.set_progress_bar_config(disable=True)
    times, image = [], None
    for index in range(count + 1):  # the first is a warm-up
        started = time.perf_counter()
        image = pipe(PROMPT, num_inference_steps=steps, guidance_scale=7.0, width=size, height=size,
                     generator=torch.Generator(device="cpu").manual_seed(SEED)).images[0]
        image.save(out / f"direct-{index}.png")
        if index:
            times.append(time.perf_counter() - started)
    del pipe
    if device == "cuda":
        torch.cuda.empty_cache()
    return times, image


async def studio_runs(url: str, client: Any, project_id: str, scene_id: str, count: int) -> tuple[list[float], list]:
    import websockets

    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
    times, tasks = [], []
    async with websockets.connect(url.replace("http://", "ws://") + "/api/v1/events", additional_headers=cookie,
                                  max_queue=None) as ws:
        json.loads(await ws.recv())
        for index in range(count + 1):  # the first is a warm-up (loads the model)
            started = time.perf_counter()
            made = await asyncio.to_thread(client.post, f"/api/v1/projects/{project_id}/scenes/{scene_id}/run",
                                           json={"force": True})
            task_id = made.json()["id"]
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 600))
                if event["type"].startswith("task.") and event["task"]["id"] == task_id:
                    if event["type"] == "task.failed":
                        raise RuntimeError(event["task"]["error"])
                    if event["type"] == "task.succeeded":
                        break
            if index:
                times.append(time.perf_counter() - started)
                tasks.append(event["task"])
    return times, tasks


async def studio_batch(url: str, client: Any, project_id: str, scene_id: str, count: int) -> tuple[float, list]:
    """`count` runs queued at once (POST …/runs): seconds from the request to the last `task.succeeded`."""
    import websockets

    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
    async with websockets.connect(url.replace("http://", "ws://") + "/api/v1/events", additional_headers=cookie,
                                  max_queue=None) as ws:
        json.loads(await ws.recv())
        started = time.perf_counter()
        made = await asyncio.to_thread(client.post, f"/api/v1/projects/{project_id}/scenes/{scene_id}/runs",
                                       json={"force": True, "repeat": count})
        waiting = {t["id"] for t in made.json()["items"]}
        done = []
        while waiting:
            event = json.loads(await asyncio.wait_for(ws.recv(), 600))
            if event["type"] == "task.failed" and event["task"]["id"] in waiting:
                raise RuntimeError(event["task"]["error"])
            if event["type"] == "task.succeeded" and event["task"]["id"] in waiting:
                waiting.discard(event["task"]["id"])
                done.append(event["task"])
        return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="A diffusers folder (default: see above)")
    parser.add_argument("--images", type=int, default=5)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--size", type=int)
    parser.add_argument("--random-sd15", action="store_true", help="Build the full-size random model on a CPU too")
    args = parser.parse_args()

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        import os

        if (os.cpu_count() or 1) <= 2:
            torch.set_num_threads(1)  # as the studio does on small machines (same sums, same pixels)
    steps = args.steps or (30 if device == "cuda" else 4)
    size = args.size or (512 if device == "cuda" else 64)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        model = args.model
        if model is None:
            made_at = time.perf_counter()
            if device == "cuda" or args.random_sd15:
                model = build_random_sd15(tmp / "sd15-random")
            else:
                from tiny_models import build_tiny_sd

                model = build_tiny_sd(tmp / "tiny-sd")
            print(f"built {model.name} in {time.perf_counter() - made_at:.1f} s (random weights)")
        (tmp / "out").mkdir()
        direct, direct_image = direct_runs(model, device, args.images, steps, size, tmp / "out")
        print(f"direct: {[round(t, 3) for t in direct]}")

        from support import set_up_admin, start_server

        data = tmp / "studio" / "data"
        subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(model), "--name", "bench",
                        "--data-dir", str(data)], check=True, capture_output=True)
        server = start_server(tmp / "studio", env={"MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"})
        try:
            client = set_up_admin(server.url)
            project = client.post("/api/v1/projects", json={"name": "Benchmark"}).json()
            scene = client.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
            node = {"position": {"x": 0, "y": 0}, "bypass": False}
            graph = {
                "nodes": {
                    "prompt": {**node, "type": "prompt", "title": "Prompt", "params": {"text": PROMPT}},
                    "seed": {**node, "type": "seed", "title": "Seed", "params": {"value": SEED}},
                    "model": {**node, "type": "model_loader", "title": "Model", "params": {"model": "bench"}},
                    "generate": {**node, "type": "text_to_image", "title": "Generate",
                                 "params": {"steps": steps, "width": size, "height": size, "guidance_scale": 7.0}},
                    "shot": {**node, "type": "shot", "title": "Shot", "params": {"name": "bench"}},
                },
                "edges": {f"{s}:{o}->{t}:{i}": {"source": s, "source_handle": o, "target": t, "target_handle": i}
                          for s, o, t, i in [("prompt", "text", "generate", "prompt"),
                                             ("seed", "seed", "generate", "seed"),
                                             ("model", "model", "generate", "model"),
                                             ("generate", "image", "shot", "images")]},
            }
            assert client.put(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph",
                              json=graph).status_code == 200
            studio, tasks = asyncio.run(studio_runs(server.url, client, project["id"], scene["id"], args.images))
            print(f"studio: {[round(t, 3) for t in studio]}")
            batch_seconds, batch_tasks = asyncio.run(studio_batch(server.url, client, project["id"], scene["id"],
                                                                  args.images))
            batch_contents = {client.get(f"/api/v1/projects/{project['id']}/assets/{t['result']['assets'][0]}"
                                         "/content").content for t in batch_tasks}
            asset_id = tasks[-1]["result"]["assets"][0]
            content = client.get(f"/api/v1/projects/{project['id']}/assets/{asset_id}/content").content
        finally:
            server.stop()

    from PIL import Image, ImageChops

    studio_image = Image.open(io.BytesIO(content)).convert("RGB")
    difference = ImageChops.difference(studio_image, direct_image.convert("RGB")).getextrema()
    identical = all(high == 0 for _, high in difference)
    direct_median, studio_median = statistics.median(direct), statistics.median(studio)
    in_task = [(_t(t["finished_at"]) - _t(t["started_at"])) for t in tasks]
    overhead = studio_median / direct_median - 1
    batch_each = batch_seconds / args.images
    batch_same = len(batch_contents) == 1 and content in batch_contents
    rows = [("measure", "value"),
            ("device", f"{device} ({torch.cuda.get_device_name(0) if device == 'cuda' else 'no GPU'})"),
            ("model", f"{model.name}: {steps} steps, {size}×{size}, seed {SEED}"),
            ("diffusers directly, per image (median)", f"{direct_median:.3f} s"),
            ("studio API → queue → asset, per image (median)", f"{studio_median:.3f} s"),
            ("  of which inside the task (median)", f"{statistics.median(in_task):.3f} s"),
            ("studio / direct, one run at a time", f"{studio_median / direct_median:.4f} ({overhead:+.2%}; "
                                                   "target ≤ +3%)"),
            (f"studio, a batch of {args.images} queued at once, per image", f"{batch_each:.3f} s"),
            ("studio batch / direct", f"{batch_each / direct_median:.4f} ({batch_each / direct_median - 1:+.2%})"),
            ("batch pictures identical to the one-at-a-time one", "yes" if batch_same else "NO"),
            ("images identical", "yes" if identical else f"NO (max channel difference {difference})")]
    width = max(len(r[0]) for r in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if device != "cuda":
        print("\nThis ran on the CPU with a tiny random model: it checks the path, it is NOT a GPU figure.")


def _t(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()


if __name__ == "__main__":
    main()
