"""Storage quotas (uploads, imports, generated results; per user and per guest), guests' imports, the usage a
user can see, and over-long upload fields answered with a 400 instead of a 500."""

from __future__ import annotations

import hashlib
import io
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server, wait_for_task

QUOTA = 1_000_000
GUEST_QUOTA = 500_000
ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000",
       "MEDIASTUDIO_STORAGE_QUOTA_BYTES": str(QUOTA), "MEDIASTUDIO_GUEST_STORAGE_QUOTA_BYTES": str(GUEST_QUOTA)}


def picture(size: int, seed: int) -> bytes:
    """A valid PNG of about `size` bytes (trailing bytes after IEND are kept, and every copy is distinct)."""
    head = png_bytes((seed % 256, 40, 90), (32, 32))
    return head + hashlib.sha256(str(seed).encode()).digest() + os.urandom(max(0, size - len(head) - 32))


def upload(client: ApiClient, project: dict, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/projects/{project['id']}/assets", files={"file": (name, data, "image/png")})


def blob_exists(server: RunningServer, data: bytes) -> bool:
    sha = hashlib.sha256(data).hexdigest()
    return (server.data_dir / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha).exists()


def usage(client: ApiClient) -> dict:
    answer = client.get("/api/v1/auth/me/usage")
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("quotas"), env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def member(server: RunningServer, name: str, admin: ApiClient) -> tuple[ApiClient, dict]:
    assert admin.get("/api/v1/auth/me").status_code == 200  # registration opens once the admin exists
    client = ApiClient(server.url)
    client.register(name)
    return client, client.post("/api/v1/projects", json={"name": f"{name}'s"}).json()


def test_uploads_count_once_per_distinct_file_and_stop_at_the_quota(server: RunningServer,
                                                                    admin: ApiClient) -> None:
    ana, project = member(server, "ana3", admin)
    assert usage(ana) == {"used_bytes": 0, "quota_bytes": QUOTA, "remaining_bytes": QUOTA}
    first = picture(600_000, 1)
    assert upload(ana, project, "first.png", first).status_code == 201
    assert usage(ana)["used_bytes"] == len(first)
    second = picture(600_000, 2)
    refused = upload(ana, project, "second.png", second)
    assert refused.status_code == 507, refused.text
    problem = refused.json()
    assert problem["title"] == "Storage quota reached"
    assert "585.9 KiB of 976.6 KiB stored" in problem["detail"] and problem["quota_bytes"] == QUOTA
    assert "would add about 586" in problem["detail"]  # the declared size, refused before the bytes came
    assert problem["used_bytes"] == len(first) and "administrator" in problem["hint"]
    assert not blob_exists(server, second)
    assert list((server.data_dir / "blobs" / "incoming").iterdir()) == []
    # The same file in another project of hers costs nothing more.
    other = ana.post("/api/v1/projects", json={"name": "Other"}).json()
    small = picture(100_000, 3)
    assert upload(ana, other, "small.png", small).status_code == 201
    assert upload(ana, project, "small again.png", small).status_code == 201
    assert usage(ana)["used_bytes"] == len(first) + len(small)


def test_a_declared_size_over_the_quota_is_refused_before_the_body_is_read(server: RunningServer,
                                                                           admin: ApiClient) -> None:
    bo, project = member(server, "bob", admin)
    host, port = server.url.removeprefix("http://").split(":")
    cookies = "; ".join(f"{k}={v}" for k, v in bo.cookies.items())
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall((f"POST /api/v1/projects/{project['id']}/assets HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      f"Cookie: {cookies}\r\nX-CSRF-Token: {bo.cookies.get('ms_csrf')}\r\n"
                      "Content-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: 50000000\r\n\r\n"
                      "--b0undary\r\n").encode())  # and nothing more: the answer comes without the 50 MB
        answer = ""
        while "}" not in answer and (chunk := sock.recv(65536)):  # the head, then the problem's JSON
            answer += chunk.decode(errors="replace")
    assert answer.startswith("HTTP/1.1 507"), answer[:200]
    assert "Storage quota reached" in answer


def test_a_streamed_upload_is_stopped_when_it_passes_the_quota(server: RunningServer, admin: ApiClient) -> None:
    cy, project = member(server, "cyd", admin)
    data = picture(1_500_000, 4)
    boundary = "str3amb0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stream.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is learned as the bytes arrive
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    refused = cy.post(f"/api/v1/projects/{project['id']}/assets", content=chunks(),
                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert refused.status_code == 507, refused.text
    assert refused.json()["title"] == "Storage quota reached"
    assert not blob_exists(server, data) and list((server.data_dir / "blobs" / "incoming").iterdir()) == []
    assert usage(cy)["used_bytes"] == 0


def test_imports_count_for_the_importer(server: RunningServer, admin: ApiClient) -> None:
    source = admin.post("/api/v1/projects", json={"name": "Shared reel"}).json()
    reel = picture(600_000, 5)
    assert upload(admin, source, "reel.png", reel).status_code == 201
    bundle = admin.get(f"/api/v1/projects/{source['id']}/export").content
    di, project = member(server, "dina", admin)
    mine = picture(600_000, 6)
    assert upload(di, project, "mine.png", mine).status_code == 201
    before = {p["id"] for p in di.get("/api/v1/projects").json()["items"]}
    refused = di.post("/api/v1/projects/import", content=bundle, headers={"Content-Type": "application/zip"})
    assert refused.status_code == 507, refused.text
    assert refused.json()["title"] == "Storage quota reached"
    assert {p["id"] for p in di.get("/api/v1/projects").json()["items"]} == before
    assert usage(di)["used_bytes"] == len(mine)
    # Its media is the admin's already: importing it again adds nothing to the admin's usage.
    used = usage(admin)["used_bytes"]
    again = admin.post("/api/v1/projects/import", content=bundle, headers={"Content-Type": "application/zip"})
    assert again.status_code == 201, again.text
    assert usage(admin)["used_bytes"] == used


def test_guests_have_their_own_quota_and_cannot_import(server: RunningServer, admin: ApiClient) -> None:
    guest = ApiClient(server.url)
    assert guest.post("/api/v1/auth/guest").status_code in (200, 201)
    project = guest.post("/api/v1/projects", json={"name": "Trying it"}).json()
    assert usage(guest)["quota_bytes"] == GUEST_QUOTA
    refused = upload(guest, project, "big.png", picture(600_000, 7))
    assert refused.status_code == 507 and "Register" in refused.json()["hint"], refused.text
    source = admin.post("/api/v1/projects", json={"name": "Tiny"}).json()
    bundle = admin.get(f"/api/v1/projects/{source['id']}/export").content
    for path in ("/api/v1/projects/import", "/api/v1/projects/import/background"):
        answer = guest.post(path, content=bundle, headers={"Content-Type": "application/zip"})
        assert answer.status_code == 403, answer.text
        assert "Register" in answer.json()["hint"]


def test_over_long_names_and_fields_answer_400(server: RunningServer, admin: ApiClient) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Long names"}).json()
    data = png_bytes((9, 9, 9), (16, 16))
    for name in ("a" * 5000 + ".png", "é" * 3000 + ".png"):
        answer = admin.post(f"/api/v1/projects/{project['id']}/assets", files={"file": (name, data, "image/png")})
        assert answer.status_code == 400, answer.text
        assert "Shorten the file name" in answer.json()["hint"]
    fine = admin.post(f"/api/v1/projects/{project['id']}/assets", files={"file": ("b" * 1000 + ".png", data)})
    assert fine.status_code == 201 and len(fine.json()[0]["name"]) == 200  # kept, shortened for display
    category = admin.post(f"/api/v1/projects/{project['id']}/assets", files={"file": ("c.png", data)},
                          data={"category": "x" * 5000})
    assert category.status_code == 400 and len(category.json()["detail"]) < 200, category.text
    tags = admin.post(f"/api/v1/projects/{project['id']}/assets", files={"file": ("t.png", data)},
                      data={"tags": "y" * 5000})
    assert tags.status_code == 400, tags.text
    renamed = admin.patch(fine.json()[0]["content_url"].removesuffix("/content"), json={"category": "z" * 5000})
    assert renamed.status_code == 400 and len(renamed.json()["detail"]) < 200, renamed.text


def test_generated_results_count_against_the_quota(tmp_path: Path) -> None:
    server = start_server(tmp_path, env={**ENV, "MEDIASTUDIO_STORAGE_QUOTA_BYTES": "1000000"})
    try:
        ed = ApiClient(server.url)
        set_up_admin(server.url, "root")
        ed.register("eddie")
        project = ed.post("/api/v1/projects", json={"name": "Upscaled"}).json()
        buffer = io.BytesIO()
        Image.effect_noise((300, 300), 80).convert("RGB").save(buffer, "PNG")  # noise: ~270 KB, ×16 when upscaled
        (plate,) = upload(ed, project, "noise.png", buffer.getvalue()).json()
        scene = ed.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
        nodes = {"plate": {"type": "load_image", "title": "Plate", "position": {"x": 0, "y": 0},
                           "params": {"asset_id": plate["id"]}, "bypass": False},
                 "big": {"type": "upscale", "title": "Big", "position": {"x": 100, "y": 0},
                         "params": {"factor": 4.0, "method": "bicubic"}, "bypass": False},
                 "shot": {"type": "shot", "title": "Shot", "position": {"x": 200, "y": 0},
                          "params": {"name": "Big"}, "bypass": False}}
        edges = {"plate:image->big:image": {"source": "plate", "source_handle": "image", "target": "big",
                                            "target_handle": "image"},
                 "big:image->shot:images": {"source": "big", "source_handle": "image", "target": "shot",
                                            "target_handle": "images"}}
        url = f"/api/v1/projects/{project['id']}/scenes/{scene['id']}"
        assert ed.put(f"{url}/graph", json={"nodes": nodes, "edges": edges}).status_code == 200
        started = ed.post(f"{url}/run", json={})
        assert started.status_code == 201, started.text
        task = wait_for_task(ed, started.json()["id"], ("failed", "succeeded"), timeout=120)
        assert task["status"] == "failed" and "Your storage quota is used up" in task["error"]["message"], task
        assert len(ed.get(f"/api/v1/projects/{project['id']}/assets").json()["items"]) == 1
        assert usage(ed)["used_bytes"] == plate["size"]
    finally:
        server.stop()
