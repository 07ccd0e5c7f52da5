"""Media over a real server: streaming uploads in constant memory, limits, sniffing, damaged and
lying files, dedup, concurrent uploads, Range / ETag serving, previews, blob upkeep."""

import hashlib
import io
import os
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server

LIMIT = 64 << 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("media"), env={"MEDIASTUDIO_UPLOAD_MAX_BYTES": str(LIMIT)})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@pytest.fixture
def project(admin: ApiClient) -> dict:
    return admin.post("/api/v1/projects", json={"name": "Media test"}).json()




def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((256, 256), 60).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _upload(client: ApiClient, project: dict, name: str, data: bytes, **fields: str) -> httpx.Response:
    return client.post(
        f"/api/v1/projects/{project['id']}/assets", files={"file": (name, data, "image/png")}, data=fields
    )


def test_an_image_upload_becomes_an_asset_with_metadata_and_a_commit(
    server: RunningServer, admin: ApiClient, project: dict
) -> None:
    response = _upload(admin, project, "hero frame.png", png_bytes(), tags="hero, day")
    assert response.status_code == 201, response.text
    (asset,) = response.json()
    assert (asset["name"], asset["category"], asset["mime"]) == ("hero frame.png", "image", "image/png")
    assert (asset["width"], asset["height"], asset["tags"]) == (320, 180, ["day", "hero"])
    folder = server.data_dir / "workspaces" / project["workspace_id"] / "projects" / project["id"]
    assert (folder / "assets" / f"{asset['id']}.json").is_file()
    history = admin.get(f"/api/v1/projects/{project['id']}/history").json()["items"]
    assert history[0]["message"] == "Uploaded 'hero frame.png'"
    answer = admin.get(asset["preview_url"])
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/webp"
    preview = Image.open(io.BytesIO(answer.content))
    assert preview.format == "WEBP" and max(preview.size) <= 256


def test_a_small_picture_is_answered_with_its_previews_and_starts_no_task(
    server: RunningServer, admin: ApiClient, project: dict
) -> None:
    """A picture no larger than the smallest preview is its own preview at every size: it is drawn in the upload,
    before the answer, and only the other files of the upload go to a previews task."""
    small, large = png_bytes((12, 200, 90), (48, 32)), png_bytes((12, 200, 91), (320, 180))
    files = [("file", ("small.png", small, "image/png")), ("file", ("large.png", large, "image/png"))]
    answer = admin.post(f"/api/v1/projects/{project['id']}/assets", files=files)
    assert answer.status_code == 201, answer.text
    drawn, waiting = answer.json()
    for size in (256, 1024):  # on disk when the upload is answered
        path = server.data_dir / "previews" / drawn["sha256"][:2] / f"{drawn['sha256']}-{size}.webp"
        with Image.open(path) as preview:
            assert preview.format == "WEBP" and preview.size == (48, 32)

    def previews_tasks() -> list[dict]:
        listed = admin.get("/api/v1/tasks", params={"project": project["id"]}).json()["items"]
        return [t for t in listed if t["kind"] == "media.previews"]

    (task,) = previews_tasks()
    assert task["params"]["asset_ids"] == [waiting["id"]]
    again = _upload(admin, project, "small again.png", png_bytes((12, 200, 92), (200, 256)))
    assert again.status_code == 201, again.text
    assert len(previews_tasks()) == 1  # an upload of small pictures only starts no task
    assert admin.get(again.json()[0]["preview_url"], params={"size": 1024}).status_code == 200


def test_range_requests_etags_and_headers(admin: ApiClient, project: dict) -> None:
    data = png_bytes((10, 20, 30), (400, 300))
    (asset,) = _upload(admin, project, "shot.png", data).json()
    url = asset["content_url"]
    whole = admin.get(url)
    assert whole.content == data and whole.headers["content-type"] == "image/png"
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["etag"] == f'"{asset["sha256"]}"'
    assert "shot.png" in whole.headers["content-disposition"]
    assert whole.headers["x-content-type-options"] == "nosniff"
    for header, expected, content_range in [
        ("bytes=0-9", data[:10], f"bytes 0-9/{len(data)}"),
        ("bytes=-5", data[-5:], f"bytes {len(data) - 5}-{len(data) - 1}/{len(data)}"),
        ("bytes=100-", data[100:], f"bytes 100-{len(data) - 1}/{len(data)}"),
    ]:
        part = admin.get(url, headers={"Range": header})
        assert part.status_code == 206 and part.content == expected and part.headers["content-range"] == content_range
    unsatisfiable = admin.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert unsatisfiable.status_code == 416 and unsatisfiable.headers["content-range"] == f"bytes */{len(data)}"
    assert admin.get(url, headers={"If-None-Match": whole.headers["etag"]}).status_code == 304
    assert "attachment" in admin.get(url, params={"download": True}).headers["content-disposition"]


def test_the_same_bytes_are_stored_once_even_when_uploaded_at_the_same_time(
    server: RunningServer, admin: ApiClient, project: dict
) -> None:
    other = admin.post("/api/v1/projects", json={"name": "Other"}).json()
    data = png_bytes((1, 2, 3), (640, 360))
    sha = hashlib.sha256(data).hexdigest()
    results: list[int] = []

    def send(target: dict) -> None:
        with httpx.Client(
            base_url=server.url, cookies=admin.cookies, headers={"X-CSRF-Token": admin.cookies["ms_csrf"]}, timeout=60
        ) as http:
            results.append(
                http.post(
                    f"/api/v1/projects/{target['id']}/assets", files={"file": ("same.png", data, "image/png")}
                ).status_code
            )

    threads = [threading.Thread(target=send, args=(p,)) for p in (project, other, project, other, project)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [201] * 5
    assert [p.name for p in (server.data_dir / "blobs" / "sha256").rglob(sha)] == [sha]
    assert list((server.data_dir / "blobs" / "incoming").iterdir()) == []


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("cute-cat.png", b"MZ\x90\x00\x03" + os.urandom(2000), 415, "Windows program"),
        ("run.png", b"\x7fELF\x02\x01\x01" + os.urandom(2000), 415, "Linux program"),
        ("notes.png", b"just some text, not an image at all", 415, "not one the studio can use"),
        ("half.jpg", None, 422, "damaged or incomplete"),
        ("empty.png", b"", 422, "empty (0 bytes)"),
    ],
)
def test_lying_damaged_and_empty_files_are_refused_clearly(
    server: RunningServer, admin: ApiClient, project: dict, name: str, data: bytes | None, status: int, message: str
) -> None:
    if data is None:
        whole = _jpeg()
        data = whole[: len(whole) // 2]  # a truncated JPEG
    response = _upload(admin, project, name, data)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"] and response.json().get("hint", "") is not None
    assert str(server.data_dir) not in response.text
    names = [a["name"] for a in admin.get(f"/api/v1/projects/{project['id']}/assets").json()["items"]]
    assert name not in names


def test_file_names_lose_folders_and_control_characters(admin: ApiClient, project: dict) -> None:
    raw = "../../etc/passwd\x00\x1b[31m frame\t.png"
    boundary = "XyZ"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{raw}"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + png_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = admin.post(
        f"/api/v1/projects/{project['id']}/assets",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 201, response.text
    name = response.json()[0]["name"]
    assert "/" not in name and "\x00" not in name and "\x1b" not in name and ".." not in name
    assert name.endswith("frame .png") or name.endswith("frame.png")


def test_the_size_limit_answers_413_with_the_limit(server: RunningServer, admin: ApiClient, project: dict) -> None:
    too_big = b"\x89PNG\r\n\x1a\n" + b"\0" * (LIMIT + 1)
    response = _upload(admin, project, "huge.png", too_big)
    assert response.status_code == 413
    assert "64 MiB" in response.json()["detail"] and "MEDIASTUDIO_UPLOAD_MAX_BYTES" in response.json()["hint"]
    assert list((server.data_dir / "blobs" / "incoming").iterdir()) == []


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_a_large_upload_streams_in_constant_memory(tmp_path: Path) -> None:
    total = 2 << 30  # 2 GiB, sent in 1 MiB chunks
    server = start_server(tmp_path, env={"MEDIASTUDIO_UPLOAD_MAX_BYTES": str(3 << 30)})
    try:
        client = set_up_admin(server.url)
        project = client.post("/api/v1/projects", json={"name": "Big"}).json()
        header = b'{"__metadata__":{"format":"pt"}}'
        first = len(header).to_bytes(8, "little") + header
        boundary = "BigBoundary"
        opening = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="weights.safetensors"'
            f"\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode()
        closing = f"\r\n--{boundary}--\r\n".encode()
        chunk = os.urandom(1 << 20)

        def body() -> Iterator[bytes]:
            yield opening + first
            sent = len(first)
            while sent < total:
                piece = chunk[: min(len(chunk), total - sent)]
                sent += len(piece)
                yield piece
            yield closing

        baseline = _rss_kib(server.process.pid)
        peak = [baseline]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_kib(server.process.pid))
                time.sleep(0.05)  # a sampling rate, not a wait: the peak is read until the upload ends

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            response = client.post(
                f"/api/v1/projects/{project['id']}/assets",
                content=body(),
                timeout=300,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
        finally:
            done.set()
            watcher.join()
        assert response.status_code == 201, response.text
        asset = response.json()[0]
        assert asset["size"] == total and asset["category"] == "model"
        grew_mib = (peak[0] - baseline) / 1024
        print(f"\n2 GiB upload: server RSS grew by {grew_mib:.1f} MiB")
        assert grew_mib < 50
    finally:
        server.stop()


def test_video_and_audio_get_duration_and_previews(admin: ApiClient, project: dict, tmp_path: Path) -> None:
    import av
    import numpy as np

    video = tmp_path / "clip.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for i in range(48):
            frame = av.VideoFrame.from_ndarray(np.full((96, 160, 3), (i * 5) % 255, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    audio = io.BytesIO()
    with wave.open(audio, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        tone = (np.sin(np.linspace(0, 2 * np.pi * 440, 8000)) * 12000).astype("<i2")
        wav.writeframes(tone.tobytes())
    (clip,) = _upload(admin, project, "clip.mp4", video.read_bytes()).json()
    (sound,) = _upload(admin, project, "tone.wav", audio.getvalue()).json()
    assert (clip["category"], clip["mime"], clip["width"], clip["height"]) == ("video", "video/mp4", 160, 96)
    assert 1.5 < clip["duration"] < 2.5
    assert (sound["category"], sound["mime"]) == ("audio", "audio/wav") and 0.9 < sound["duration"] < 1.1
    for asset in (clip, sound):
        preview = admin.get(asset["preview_url"])
        assert preview.status_code == 200 and Image.open(io.BytesIO(preview.content)).format == "WEBP"
    strip = Image.open(io.BytesIO(admin.get(clip["preview_url"], params={"kind": "strip"}).content))
    assert strip.format == "WEBP" and strip.width >= 5 * strip.height  # frames side by side
    assert admin.get(sound["preview_url"], params={"kind": "strip"}).status_code == 404


def test_assets_rename_tag_trash_and_search(admin: ApiClient, project: dict) -> None:
    (asset,) = _upload(admin, project, "plate.png", png_bytes((5, 5, 5))).json()
    base = f"/api/v1/projects/{project['id']}/assets"
    assert admin.patch(f"{base}/{asset['id']}", json={"name": "clean plate.png", "tags": ["plate"]}).status_code == 200
    assert [a["name"] for a in admin.get(base, params={"q": "clean"}).json()["items"]] == ["clean plate.png"]
    assert admin.get(base, params={"q": "clean"}).json()["items"][0]["created_by_name"] == "admin"
    assert {"tag": "plate", "count": 1} in admin.get(f"{base}/tags").json()
    assert admin.get(base, params={"category": "video", "q": "clean"}).json()["items"] == []
    admin.patch(f"{base}/{asset['id']}", json={"trashed": True})
    assert admin.get(base, params={"q": "clean"}).json()["items"] == []
    assert [a["id"] for a in admin.get(base, params={"trashed": True}).json()["items"]] == [asset["id"]]
    assert admin.get(asset["content_url"]).status_code == 200  # its bytes stay: history still points at them


def test_blob_upkeep_keeps_referenced_media_and_collects_orphans(
    server: RunningServer, admin: ApiClient, project: dict
) -> None:
    (asset,) = _upload(admin, project, "keep.png", png_bytes((7, 7, 7))).json()
    blobs = server.data_dir / "blobs" / "sha256"
    orphan = hashlib.sha256(b"orphan").hexdigest()
    path = blobs / orphan[:2] / orphan[2:4] / orphan
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"orphan")
    old = time.time() - 7200
    os.utime(path, (old, old))
    run = [sys.executable, "-m", "mediastudio", "blobs"]
    verify = subprocess.run([*run, "verify", "--data-dir", str(server.data_dir)], capture_output=True, text=True)
    assert verify.returncode == 0 and "0 damaged" in verify.stdout
    dry = subprocess.run([*run, "gc", "--dry-run", "--data-dir", str(server.data_dir)], capture_output=True, text=True)
    assert "Would remove 1 " in dry.stdout and path.exists()
    gc = subprocess.run([*run, "gc", "--data-dir", str(server.data_dir)], capture_output=True, text=True)
    assert gc.returncode == 0 and "Removed 1 " in gc.stdout, gc.stdout + gc.stderr
    assert not path.exists()
    assert admin.get(asset["content_url"]).status_code == 200


def test_the_gallery_cover_is_the_chosen_asset_else_the_newest_image(admin: ApiClient) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Covered"}).json()
    assert admin.get(f"/api/v1/projects/{project['id']}").json()["cover_url"] is None
    (first,) = _upload(admin, project, "first.png", png_bytes((90, 0, 0))).json()
    (second,) = _upload(admin, project, "second.png", png_bytes((0, 90, 0))).json()
    listed = next(p for p in admin.get("/api/v1/projects").json()["items"] if p["id"] == project["id"])
    assert second["id"] in listed["cover_url"]
    admin.patch(f"/api/v1/projects/{project['id']}", json={"cover_asset_id": first["id"]})
    detail = admin.get(f"/api/v1/projects/{project['id']}").json()
    assert first["id"] in detail["cover_url"] and admin.get(detail["cover_url"]).status_code == 200
    refused = admin.patch(f"/api/v1/projects/{project['id']}", json={"cover_asset_id": "as_not_here"})
    assert refused.status_code == 422 and "no asset" in refused.json()["detail"]
