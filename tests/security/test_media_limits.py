"""Decompression bombs and huge pictures: refused from their header before a pixel is decoded (uploads,
previews of imported pictures, the engine's Load image node), and previews drawn in bounded memory."""

from __future__ import annotations

import hashlib
import io
import struct
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server, wait_for_task

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}
GIB = 1024**3


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def plain_png(width: int, height: int, channels: int = 1) -> bytes:
    """A valid PNG of black pixels, made without holding them: the same fully flushed deflate blocks
    repeated (each starts with an empty dictionary), so a 40000×40000 picture is ~1.5 MB and made at once."""
    row = b"\0" * (1 + width * channels)  # filter byte 0, then the pixels
    rows_per_unit = max(1, (8 << 20) // len(row))
    units, rest = divmod(height, rows_per_unit)

    def deflated(rows: int) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(row * rows) + compressor.flush(zlib.Z_FULL_FLUSH)

    unit, checksum = deflated(rows_per_unit), 1
    for _ in range(units):
        checksum = zlib.adler32(row * rows_per_unit, checksum)
    checksum = zlib.adler32(row * rest, checksum)
    stream = b"\x78\xda" + unit * units + (deflated(rest) if rest else b"") + b"\x01\x00\x00\xff\xff" \
        + struct.pack(">I", checksum)
    header = struct.pack(">IIBBBBB", width, height, 8, 0 if channels == 1 else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")


def big_jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 200)).save(buffer, "JPEG", quality=60)
    return buffer.getvalue()


def peak_memory(server: RunningServer) -> int:
    """The server process's peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM line")


def upload(client: ApiClient, project: dict, name: str, data: bytes, mime: str = "image/png"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/projects/{project['id']}/assets", files={"file": (name, data, mime)})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("media-limits"), env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@pytest.fixture
def project(admin: ApiClient) -> dict:
    return admin.post("/api/v1/projects", json={"name": "Limits"}).json()


def test_the_bomb_is_a_real_png_of_forty_thousand_pixels_square() -> None:
    data = plain_png(40_000, 40_000)
    assert len(data) < 2_000_000
    assert struct.unpack(">II", data[16:24]) == (40_000, 40_000)  # IHDR: what a decoder would allocate
    small = plain_png(300, 200, channels=3)
    with Image.open(io.BytesIO(small)) as image:
        image.load()  # and its pixels decode: the stream and its checksum are valid
        assert image.getpixel((299, 199)) == (0, 0, 0)


def test_a_decompression_bomb_is_refused_from_its_header_naming_the_limit(server: RunningServer, admin: ApiClient,
                                                                           project: dict) -> None:
    before = peak_memory(server)
    started = time.monotonic()
    bomb = plain_png(40_000, 40_000)
    refused = upload(admin, project, "bomb.png", bomb)
    assert refused.status_code in (413, 422), refused.text
    problem = refused.json()
    assert "1,600 megapixels" in problem["detail"] and "at most 100 megapixels" in problem["detail"]
    assert "MEDIASTUDIO_MAX_IMAGE_PIXELS" in problem["hint"] and problem["limit_pixels"] == 100_000_000
    assert time.monotonic() - started < 10  # read, hashed, refused: never decoded (1.6 GB, many seconds)
    assert peak_memory(server) - before < 200 * 1024**2
    assert admin.get(f"/api/v1/projects/{project['id']}/assets").json()["items"] == []
    # Nothing of it stays: not in the store, not half-received.
    sha = hashlib.sha256(bomb).hexdigest()
    assert not (server.data_dir / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha).exists()
    assert list((server.data_dir / "blobs" / "incoming").iterdir()) == []


def test_a_picture_just_over_the_limit_is_refused_and_one_under_it_is_taken(tmp_path: Path) -> None:
    server = start_server(tmp_path, env={**ENV, "MEDIASTUDIO_MAX_IMAGE_PIXELS": "2000000"})
    try:
        admin = set_up_admin(server.url)
        project = admin.post("/api/v1/projects", json={"name": "Edge"}).json()
        over = upload(admin, project, "over.png", plain_png(2001, 1000))
        assert over.status_code == 413 and "2001×1000" in over.json()["detail"], over.text
        assert "2.0 megapixels" in over.json()["detail"]
        at = upload(admin, project, "at.png", plain_png(2000, 1000))
        assert at.status_code == 201, at.text
    finally:
        server.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the server's peak memory in /proc")
def test_a_96_megapixel_picture_is_previewed_in_bounded_memory(server: RunningServer, admin: ApiClient,
                                                                project: dict) -> None:
    """12000×8000 is under the limit: accepted, and its previews drawn without holding several decoded
    copies (a PNG: one decoded copy, ~290 MB; a JPEG: decoded at 1/8 scale)."""
    for name, data, mime, bound in (("wide.jpg", big_jpeg(12_000, 8_000), "image/jpeg", 256 * 1024**2),
                                    ("wide.png", plain_png(12_000, 8_000, channels=3), "image/png", int(1.5 * GIB))):
        before = peak_memory(server)
        made = upload(admin, project, name, data, mime)
        assert made.status_code == 201, made.text
        (asset,) = made.json()
        assert (asset["width"], asset["height"]) == (12_000, 8_000)
        for size in (256, 1024):
            preview = admin.get(f"{asset['preview_url']}?size={size}")
            assert preview.status_code == 200, preview.text
            with Image.open(io.BytesIO(preview.content)) as picture:
                assert max(picture.size) == size
        tasks = admin.get("/api/v1/tasks", params={"project": project["id"]}).json()["items"]
        for task in tasks:
            wait_for_task(admin, task["id"], timeout=60)
        grew = peak_memory(server) - before
        print(f"{name}: the server's peak memory grew by {grew / 1024**2:.0f} MiB (bound {bound / 1024**2:.0f})")
        assert grew < bound


def _run(client: ApiClient, project_id: str, nodes: dict, edges: dict) -> dict:
    scene = client.get(f"/api/v1/projects/{project_id}/scenes").json()["items"][0]
    put = client.put(f"/api/v1/projects/{project_id}/scenes/{scene['id']}/graph",
                     json={"nodes": nodes, "edges": edges})
    assert put.status_code == 200, put.text
    started = client.post(f"/api/v1/projects/{project_id}/scenes/{scene['id']}/run", json={})
    assert started.status_code == 201, started.text
    return wait_for_task(client, started.json()["id"], ("succeeded", "failed"), timeout=120)


def test_imported_pictures_over_the_limit_get_no_preview_and_do_not_load_in_a_graph(tmp_path: Path) -> None:
    """Pictures that never passed this server's upload probe (an imported project, made where the limit was
    higher) are checked again wherever they are opened: previews and the Load image node."""
    (tmp_path / "a").mkdir()
    first = start_server(tmp_path / "a", env=ENV)
    try:
        admin = set_up_admin(first.url)
        project = admin.post("/api/v1/projects", json={"name": "Made elsewhere"}).json()
        (asset,) = upload(admin, project, "plate.png", png_bytes((10, 200, 30), (3000, 2000))).json()
        bundle = admin.get(f"/api/v1/projects/{project['id']}/export").content
    finally:
        first.stop()
    (tmp_path / "b").mkdir()
    second = start_server(tmp_path / "b", env={**ENV, "MEDIASTUDIO_MAX_IMAGE_PIXELS": "1000000"})
    try:
        admin = set_up_admin(second.url)
        imported = admin.post("/api/v1/projects/import", content=bundle, headers={"Content-Type": "application/zip"})
        assert imported.status_code == 201, imported.text
        project_id = imported.json()["id"]
        (asset,) = admin.get(f"/api/v1/projects/{project_id}/assets").json()["items"]
        preview = admin.get(asset["preview_url"])
        assert preview.status_code == 422, preview.text
        assert "3000×2000" in preview.json()["detail"] and "1.0 megapixels" in preview.json()["detail"]
        node = {"type": "load_image", "title": "Plate", "position": {"x": 0, "y": 0},
                "params": {"asset_id": asset["id"]}, "bypass": False}
        shot = {"type": "shot", "title": "Shot", "position": {"x": 200, "y": 0}, "params": {"name": "Out"},
                "bypass": False}
        edges = {"plate:image->shot:images": {"source": "plate", "source_handle": "image", "target": "shot",
                                              "target_handle": "images"}}
        task = _run(admin, project_id, {"plate": node, "shot": shot}, edges)
        assert task["status"] == "failed", task
        assert "3000×2000" in task["error"]["message"] and "1.0 megapixels" in task["error"]["message"], task
    finally:
        second.stop()
