"""Remake the sample projects in examples/samples/ with the studio itself.

    PYTHONPATH=src python scripts/make_examples.py          # writes examples/samples/

It starts a real studio (`mediastudio serve` on 127.0.0.1, in a temporary data folder), installs the tiny
Stable Diffusion model of the tests (random weights, made here: no download), and builds each sample through the
REST API as a person would: procedural pictures (drawn here with numpy, never downloaded) are uploaded as
assets, scene graphs are written, shots are run by the real engine (so every take's provenance is the one the
studio records), and each project is exported as a `.msproj` (its whole git history and its media). Beside each
bundle it writes a small cover picture and the list `samples.json`, which the studio offers.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src")]

from support import ApiClient, set_up_admin, start_server, wait_for_task  # noqa: E402
from tiny_models import build_tiny_sd  # noqa: E402

OUT = REPO / "examples" / "samples"
SIZE = (256, 144)  # 16:9, small: the samples ship in the wheel
TINY_PX = 64  # the tiny model's pictures (random weights: what it makes is noise, fast)

# -- procedural pictures ----------------------------------------------------------------------------------

DUSK = [(28, 32, 74), (112, 58, 110), (236, 124, 92), (252, 200, 120)]
NIGHT = [(8, 12, 34), (22, 34, 78), (48, 70, 130), (90, 110, 170)]
DAWN = [(60, 84, 150), (150, 150, 190), (250, 196, 160), (255, 226, 170)]


def _gradient(height: int, stops: list[tuple[int, int, int]]) -> np.ndarray:
    at = np.linspace(0, len(stops) - 1, height)
    low = np.floor(at).astype(int).clip(0, len(stops) - 2)
    frac = (at - low)[:, None]
    colours = np.array(stops, dtype=float)
    return colours[low] * (1 - frac) + colours[low + 1] * frac


def landscape(seed: int, sky: list[tuple[int, int, int]], sun: tuple[float, float], *, lighthouse: bool = False,
              beam: float | None = None, stars: bool = False, size: tuple[int, int] = SIZE) -> Image.Image:
    """A coast at some hour: a sky gradient, a sun or moon, layered hills, the sea, maybe a lighthouse."""
    width, height = size
    rng = np.random.default_rng(seed)
    scale = 4  # drawn large and shrunk: smooth edges
    w, h = width * scale, height * scale
    sky_rows = _gradient(h, sky)
    picture = np.repeat(sky_rows[:, None, :], w, axis=1)
    if stars:
        for _ in range(60):
            x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h * 0.5))
            picture[max(0, y - 2):y + 2, max(0, x - 2):x + 2] = (235, 235, 255)
    image = Image.fromarray(picture.astype(np.uint8))
    glow = Image.new("RGB", (w, h), (0, 0, 0))
    sx, sy = sun[0] * w, sun[1] * h
    radius = h * 0.09
    ImageDraw.Draw(glow).ellipse((sx - radius * 3, sy - radius * 3, sx + radius * 3, sy + radius * 3),
                                 fill=(90, 60, 40))
    glow = glow.filter(ImageFilter.GaussianBlur(radius * 1.5))
    image = Image.fromarray(np.clip(np.asarray(image, dtype=int) + np.asarray(glow, dtype=int), 0, 255)
                            .astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((sx - radius, sy - radius, sx + radius, sy + radius), fill=(255, 236, 200))
    horizon = h * 0.68
    draw.rectangle((0, horizon, w, h), fill=tuple(int(c * 0.55) for c in sky[1]))
    ridges = []
    water = tuple(int(c * 0.55) for c in sky[1])
    for row in range(int(horizon) + scale, h, scale * 2):  # the sun's path on the water
        depth = (row - horizon) / (h - horizon)
        spread = radius * (0.3 + 1.4 * depth) * rng.uniform(0.3, 1.0)
        shift = rng.uniform(-0.5, 0.5) * radius
        fade = 0.35 + 0.5 * (1 - depth)
        colour = tuple(int(a * fade + b * (1 - fade)) for a, b in zip((255, 214, 170), water, strict=True))
        draw.line((sx + shift - spread, row, sx + shift + spread, row), fill=colour, width=scale)
    xs = np.arange(w)
    for layer in range(3):  # far to near
        phase, freq = rng.uniform(0, 2 * math.pi, 3), rng.uniform(1.5, 5.0, 3)
        ridge = sum(np.sin(xs / w * f * math.pi + p) for f, p in zip(freq, phase, strict=True)) / 3
        base = h * (0.50 + 0.09 * layer)
        tops = base - ridge * h * (0.08 - 0.015 * layer)
        shade = tuple(int(c * (0.42 - 0.12 * layer)) for c in sky[0])
        polygon = [(int(x), float(tops[x])) for x in range(0, w, scale)] + [(w, horizon + h * 0.02 * layer),
                                                                             (0, horizon + h * 0.02 * layer)]
        draw.polygon(polygon, fill=shade)
        ridges.append(tops)
    if lighthouse:
        lx = w * 0.78
        ground = float(ridges[0][int(lx)]) + h * 0.01
        tower = [(lx - w * 0.018, ground), (lx + w * 0.018, ground), (lx + w * 0.011, ground - h * 0.26),
                 (lx - w * 0.011, ground - h * 0.26)]
        draw.polygon(tower, fill=(236, 228, 220))
        for band in (0.08, 0.17):
            draw.rectangle((lx - w * 0.016, ground - h * band - h * 0.03, lx + w * 0.016, ground - h * band),
                           fill=(176, 52, 60))
        top = ground - h * 0.26
        draw.rectangle((lx - w * 0.012, top - h * 0.05, lx + w * 0.012, top), fill=(255, 226, 140))
        draw.polygon([(lx - w * 0.016, top - h * 0.05), (lx + w * 0.016, top - h * 0.05), (lx, top - h * 0.09)],
                     fill=(60, 40, 50))
        if beam is not None:
            rays = Image.new("RGB", (w, h), (0, 0, 0))
            end = lx + math.cos(beam) * w, top - h * 0.025 + math.sin(beam) * w * 0.3
            ImageDraw.Draw(rays).polygon([(lx, top - h * 0.025), (end[0], end[1] - h * 0.12),
                                          (end[0], end[1] + h * 0.12)], fill=(120, 100, 60))
            rays = rays.filter(ImageFilter.GaussianBlur(scale * 4))
            image = Image.fromarray(np.clip(np.asarray(image, dtype=int) + np.asarray(rays, dtype=int), 0, 255)
                                    .astype(np.uint8))
    return image.resize(size, Image.Resampling.LANCZOS)


def webp(image: Image.Image, quality: int = 82) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=quality, method=6)
    return buffer.getvalue()


# -- the studio's API ---------------------------------------------------------------------------------------

def node(type_: str, title: str, x: int, y: int, **params: Any) -> dict[str, Any]:
    return {"type": type_, "title": title, "position": {"x": x, "y": y}, "params": params, "bypass": False}


def edge(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
    return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                                 "target_handle": into}


def ok(response: Any, status: int = 200) -> Any:
    if response.status_code != status:
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def upload(api: ApiClient, pid: str, name: str, data: bytes, tags: str = "") -> str:
    answer = ok(api.post(f"/api/v1/projects/{pid}/assets", files={"file": (name, data, "image/webp")},
                         data={"tags": tags} if tags else {}), 201)
    return str(answer[0]["id"])


def describe(api: ApiClient, pid: str, description: str, tags: list[str], cover: str) -> None:
    ok(api.patch(f"/api/v1/projects/{pid}", json={"description": description, "tags": tags, "cover_asset_id": cover}))


def run(api: ApiClient, pid: str, scene: str) -> None:
    task = ok(api.post(f"/api/v1/projects/{pid}/scenes/{scene}/run", json={}), 201)
    wait_for_task(api, task["id"], ("succeeded",), 600)


def storyboard(api: ApiClient) -> tuple[str, Image.Image]:
    """Three scenes of two shots each, every shot a frame (a picture loaded into the shot)."""
    pid = ok(api.post("/api/v1/projects", json={"name": "The Lighthouse — storyboard", "template": "blank"}), 201)["id"]
    boards = [
        ("Dusk on the cliff", [("Wide: the coast", landscape(11, DUSK, (0.3, 0.45))),
                               ("The lighthouse", landscape(12, DUSK, (0.25, 0.52), lighthouse=True))]),
        ("The beam", [("First light", landscape(21, NIGHT, (0.2, 0.2), lighthouse=True, beam=math.pi, stars=True)),
                      ("Sweep", landscape(21, NIGHT, (0.2, 0.2), lighthouse=True, beam=math.pi * 1.15, stars=True))]),
        ("Dawn", [("Morning sea", landscape(31, DAWN, (0.6, 0.6))),
                  ("Last look", landscape(32, DAWN, (0.7, 0.55), lighthouse=True))]),
    ]
    scenes = ok(api.get(f"/api/v1/projects/{pid}/scenes"))["items"]
    cover = ""
    for index, (scene_name, shots) in enumerate(boards):
        if index < len(scenes):
            scene = scenes[index]
            ok(api.patch(f"/api/v1/projects/{pid}/scenes/{scene['id']}", json={"name": scene_name}))
        else:
            scene = ok(api.post(f"/api/v1/projects/{pid}/scenes", json={"name": scene_name}), 201)
        nodes: dict[str, Any] = {}
        edges = []
        for number, (shot_name, picture) in enumerate(shots, start=1):
            asset = upload(api, pid, f"{scene_name} · {shot_name}.webp", webp(picture), "storyboard,frame")
            cover = asset  # the last frame: dawn
            nodes[f"frame{number}"] = node("load_image", f"Frame: {shot_name}", 0, (number - 1) * 260, asset_id=asset)
            nodes[f"shot{number}"] = node("shot", shot_name, 360, (number - 1) * 260, name=shot_name)
            edges.append(edge(f"frame{number}", "images", f"shot{number}", "images"))
        ok(api.put(f"/api/v1/projects/{pid}/scenes/{scene['id']}/graph", json={"nodes": nodes, "edges": dict(edges)}))
    describe(api, pid, "A short film boarded in three scenes of two shots, each shot with its frame.",
             ["storyboard", "sample"], cover)
    return pid, boards[-1][1][-1][1]


def text_to_image(api: ApiClient) -> tuple[str, Image.Image]:
    """The text-to-image template, run three times (seeds 42, 43, 44) by the tiny model: three takes."""
    pid = ok(api.post("/api/v1/projects", json={"name": "Dusk — text to image",
                                                "template": "text-to-image"}), 201)["id"]
    scene = ok(api.get(f"/api/v1/projects/{pid}/scenes"))["items"][0]
    graph = ok(api.get(f"/api/v1/projects/{pid}/scenes/{scene['id']}/graph"))
    graph["nodes"]["generate"]["params"].update({"width": TINY_PX, "height": TINY_PX, "steps": 8})
    graph["nodes"]["prompt"]["params"]["text"] = "A lighthouse at dusk"
    mood = landscape(41, DUSK, (0.3, 0.5), lighthouse=True, beam=math.pi * 1.1)
    reference = upload(api, pid, "Mood board · lighthouse at dusk.webp", webp(mood), "reference")
    for seed in (42, 43, 44):
        graph["nodes"]["seed"]["params"]["value"] = seed
        ok(api.put(f"/api/v1/projects/{pid}/scenes/{scene['id']}/graph",
                   json={"nodes": graph["nodes"], "edges": graph["edges"]}))
        run(api, pid, scene["id"])
    describe(api, pid, "A prompt, a seed and a model make a shot: three takes, each with the model, prompt, seed and "
             "steps that made it. Run it again with your own model.", ["text-to-image", "sample"], reference)
    return pid, mood


def image_sequence(api: ApiClient) -> tuple[str, Image.Image]:
    """Twelve frames of a sunset made into a clip by the studio's image-sequence node."""
    pid = ok(api.post("/api/v1/projects", json={"name": "Sunset — frames to clip",
                                                "template": "image-sequence-to-clip"}), 201)["id"]
    frames = []
    cover: Image.Image | None = None
    for index in range(12):
        t = index / 11
        sky = [tuple(int(a * (1 - t) + b * t) for a, b in zip(day, night, strict=True))
               for day, night in zip(DUSK, NIGHT, strict=True)]
        picture = landscape(51, sky, (0.55, 0.38 + 0.34 * t), lighthouse=True,
                            beam=math.pi * (0.95 + 0.3 * t) if t > 0.5 else None, stars=t > 0.6)
        cover = picture if index == 8 else cover  # night falls, the beam turns
        frames.append(upload(api, pid, f"Sunset frame {index + 1:02d}.webp", webp(picture, 78), "frame"))
    scene = ok(api.get(f"/api/v1/projects/{pid}/scenes"))["items"][0]
    graph = ok(api.get(f"/api/v1/projects/{pid}/scenes/{scene['id']}/graph"))
    graph["nodes"]["frames"]["params"]["asset_ids"] = frames
    graph["nodes"]["clip"]["params"].update({"fps": 6, "codec": "h264", "quality": 28})
    ok(api.put(f"/api/v1/projects/{pid}/scenes/{scene['id']}/graph",
               json={"nodes": graph["nodes"], "edges": graph["edges"]}))
    run(api, pid, scene["id"])
    describe(api, pid, "Twelve frames of a sunset, in order, made into an MP4 clip by the image-sequence node.",
             ["video", "sample"], frames[8])
    assert cover is not None
    return pid, cover


SAMPLES = [
    ("storyboard", "Storyboard", "Three scenes of two shots, each shot with its frame.", storyboard),
    ("text-to-image", "Text-to-image shot", "A prompt, a seed and a model: three takes with their provenance.",
     text_to_image),
    ("image-sequence", "Image sequence to clip", "Twelve frames of a sunset made into a clip.", image_sequence),
]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="make-examples-") as tmp:
        folder = Path(tmp)
        model = build_tiny_sd(folder / "models-src" / "tiny-sd")
        subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(model), "--data-dir",
                        str(folder / "data")], check=True, capture_output=True, timeout=120)
        server = start_server(folder, env={"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_COMMIT_WINDOW_S": "0"})
        try:
            api = set_up_admin(server.url, "mediastudio")
            ok(api.patch("/api/v1/auth/me", json={"display_name": "Mediastudio samples"}))
            OUT.mkdir(parents=True, exist_ok=True)
            listed = []
            for order, (sample_id, name, line, make) in enumerate(SAMPLES, start=1):
                pid, cover = make(api)
                exported = api.get(f"/api/v1/projects/{pid}/export")
                if exported.status_code != 200:
                    raise SystemExit(f"export of {sample_id}: {exported.status_code} {exported.text}")
                (OUT / f"{sample_id}.msproj").write_bytes(exported.content)
                (OUT / f"{sample_id}.webp").write_bytes(webp(cover, 75))
                listed.append({"id": sample_id, "name": name, "description": line, "order": order,
                               "bundle": f"{sample_id}.msproj", "cover": f"{sample_id}.webp"})
                print(f"{sample_id}: {len(exported.content) // 1024} KiB")
            (OUT / "samples.json").write_text(json.dumps({"samples": listed}, indent=2) + "\n")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
