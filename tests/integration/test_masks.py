"""Masks painted over a picture: saved through their endpoint as greyscale PNG assets, checked against the
picture, and read by the inpaint node (a tiny Stable Diffusion pipeline on the CPU)."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server, wait_for_task

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from tiny_models import build_tiny_sd

    folder = tmp_path_factory.mktemp("masks")
    model = build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")
    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(model), "--data-dir",
                            str(folder / "data")], capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    running = start_server(folder, env=ENV)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def encoded(picture: Image.Image, kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, kind)
    return buffer.getvalue()


def painted(size: tuple[int, int], box: tuple[int, int, int, int], mode: str = "RGBA") -> bytes:
    """What a browser's canvas sends: opaque black, a white rectangle painted on it."""
    mask = Image.new(mode, size, "black")
    mask.paste("white", box)
    return encoded(mask)


def upload(client: ApiClient, project_id: str, name: str, data: bytes) -> dict[str, Any]:
    made = client.post(f"/api/v1/projects/{project_id}/assets", files={"file": (name, data)})
    assert made.status_code == 201, made.text
    return dict(made.json()[0])


def save_mask(client: ApiClient, project_id: str, asset_id: str, data: bytes, name: str = "mask.png") -> Any:
    return client.post(f"/api/v1/projects/{project_id}/assets/{asset_id}/mask", files={"file": (name, data)})


@pytest.fixture
def picture(admin: ApiClient) -> dict[str, Any]:
    project = admin.post("/api/v1/projects", json={"name": "Masks"}).json()
    return upload(admin, project["id"], "plate.png", png_bytes(size=(64, 48)))


def test_a_painted_mask_becomes_a_greyscale_asset_named_after_its_picture(admin: ApiClient,
                                                                           picture: dict[str, Any]) -> None:
    project_id = picture["project_id"]
    saved = save_mask(admin, project_id, picture["id"], painted((64, 48), (8, 8, 24, 24)))
    assert saved.status_code == 201, saved.text
    mask = saved.json()
    assert mask["name"] == "plate · mask" and mask["tags"] == ["mask"] and mask["category"] == "image"
    assert (mask["width"], mask["height"], mask["mime"]) == (64, 48, "image/png")
    detail = admin.get(f"/api/v1/projects/{project_id}/assets/{mask['id']}").json()
    assert detail["provenance"] == {"kind": "mask", "mask_of": picture["id"], "source_name": "plate.png"}
    stored = Image.open(io.BytesIO(admin.get(mask["content_url"]).content))
    assert stored.mode == "L" and stored.size == (64, 48)
    assert stored.getpixel((10, 10)) == 255 and stored.getpixel((40, 40)) == 0
    assert admin.get(f"/api/v1/projects/{project_id}/assets", params={"tag": "mask"}).json()["items"][0]["id"] \
        == mask["id"]
    assert admin.get(mask["preview_url"]).status_code == 200


def test_a_transparent_pixel_means_keep(admin: ApiClient, picture: dict[str, Any]) -> None:
    mask = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    mask.paste((255, 255, 255, 255), (0, 0, 10, 10))
    saved = save_mask(admin, picture["project_id"], picture["id"], encoded(mask))
    assert saved.status_code == 201, saved.text
    stored = Image.open(io.BytesIO(admin.get(saved.json()["content_url"]).content))
    assert stored.getpixel((5, 5)) == 255 and stored.getpixel((30, 30)) == 0


def test_a_mask_of_another_size_is_refused(admin: ApiClient, picture: dict[str, Any]) -> None:
    before = len(admin.get(f"/api/v1/projects/{picture['project_id']}/assets").json()["items"])
    refused = save_mask(admin, picture["project_id"], picture["id"], painted((32, 24), (0, 0, 8, 8)))
    assert refused.status_code == 422
    assert "32×24" in refused.json()["detail"] and "64×48" in refused.json()["detail"]
    assert len(admin.get(f"/api/v1/projects/{picture['project_id']}/assets").json()["items"]) == before


def test_a_mask_that_is_not_a_png_is_refused(admin: ApiClient, picture: dict[str, Any]) -> None:
    jpeg = encoded(Image.new("RGB", (64, 48), "white"), "JPEG")
    refused = save_mask(admin, picture["project_id"], picture["id"], jpeg, "mask.jpg")
    assert refused.status_code == 415 and "PNG" in refused.json()["detail"]
    text = save_mask(admin, picture["project_id"], picture["id"], b"not a picture at all", "mask.png")
    assert text.status_code == 415


def test_a_mask_larger_than_its_picture_could_need_is_refused_before_it_is_read(
        admin: ApiClient, picture: dict[str, Any]) -> None:
    refused = save_mask(admin, picture["project_id"], picture["id"], painted((64, 48), (0, 0, 8, 8))
                        + b"\0" * (64 * 48 * 4 + 200_000))
    assert refused.status_code == 413


def test_only_pictures_take_a_mask(admin: ApiClient, picture: dict[str, Any]) -> None:
    project_id = picture["project_id"]
    made = admin.post(f"/api/v1/projects/{project_id}/assets",
                      files={"file": ("notes.wav", _wav())}).json()[0]
    refused = save_mask(admin, project_id, made["id"], painted((64, 48), (0, 0, 8, 8)))
    assert refused.status_code == 422 and "not a picture" in refused.json()["detail"]
    missing = save_mask(admin, project_id, "as_nothing", painted((64, 48), (0, 0, 8, 8)))
    assert missing.status_code == 404


def _wav() -> bytes:
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 800)
    return buffer.getvalue()


def node(type_: str, **params: Any) -> dict[str, Any]:
    return {"type": type_, "title": type_, "position": {"x": 0, "y": 0}, "params": params, "bypass": False}


def edge(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
    return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                                 "target_handle": into}


def test_a_saved_mask_drives_inpaint_and_the_unmasked_part_stays(admin: ApiClient, picture: dict[str, Any]) -> None:
    project_id = picture["project_id"]
    plate = Image.new("RGB", (64, 64))
    plate.putdata([(x * 4, y * 4, 128) for y in range(64) for x in range(64)])  # no two rows alike
    source = upload(admin, project_id, "gradient.png", encoded(plate))
    mask = save_mask(admin, project_id, source["id"], painted((64, 64), (16, 16, 48, 48))).json()
    nodes = {"plate": node("load_image", asset_id=source["id"]), "mask": node("load_image", asset_id=mask["id"]),
             "model": node("model_loader", model="tiny-sd"),
             "fix": node("inpaint", prompt_text="a red door", steps=2, seed=4),
             "shot": node("shot", name="Fixed")}
    edges = [edge("plate", "image", "fix", "image"), edge("mask", "mask", "fix", "mask"),
             edge("model", "model", "fix", "model"), edge("fix", "image", "shot", "images")]
    scene = admin.get(f"/api/v1/projects/{project_id}/scenes").json()["items"][0]
    put = admin.put(f"/api/v1/projects/{project_id}/scenes/{scene['id']}/graph",
                    json={"nodes": nodes, "edges": dict(edges)})
    assert put.status_code == 200, put.text
    started = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene['id']}/run", json={})
    assert started.status_code == 201, started.text
    done = wait_for_task(admin, started.json()["id"], ("succeeded",), 120)
    (made_id,) = done["result"]["assets"]
    made = admin.get(f"/api/v1/projects/{project_id}/assets/{made_id}/content").content
    result = Image.open(io.BytesIO(made)).convert("RGB")
    assert result.size == plate.size
    outside = [(x, y) for y in range(64) for x in range(64) if not (16 <= x < 48 and 16 <= y < 48)]
    assert all(result.getpixel(p) == plate.getpixel(p) for p in outside)  # kept exactly
    inside = [(x, y) for y in range(20, 44) for x in range(20, 44)]
    assert sum(result.getpixel(p) != plate.getpixel(p) for p in inside) > len(inside) // 2  # repainted
