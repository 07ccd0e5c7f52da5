"""Leftovers: what a refused request or a crash leaves on disk is removed (on failure, and at start), and
nothing anyone still needs is (a blob stored before the request, the result of a task that succeeded)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kinds_for_tests import ENV as TEST_KINDS
from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server, wait_for_task, wait_until

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", **TEST_KINDS,
       "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000", "MEDIASTUDIO_RATE_LIMIT_IP_PER_MINUTE": "100000"}
PROGRAM = b"MZ\x90\x00" + b"\x00" * 200  # refused by the upload's sniffing (a Windows program)


def blob_path(server: RunningServer, data: bytes) -> Path:
    sha = hashlib.sha256(data).hexdigest()
    return server.data_dir / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha


def upload(client: ApiClient, project: dict, *files: tuple[str, bytes]):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/projects/{project['id']}/assets",
                       files=[("file", (name, data, "application/octet-stream")) for name, data in files])


def incoming(server: RunningServer) -> list[Path]:
    folder = server.data_dir / "blobs" / "incoming"
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("leftovers"), env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@pytest.fixture
def project(admin: ApiClient) -> dict:
    return admin.post("/api/v1/projects", json={"name": "Leftovers"}).json()


def test_the_first_file_of_a_refused_multi_file_upload_is_not_kept(server: RunningServer, admin: ApiClient,
                                                                   project: dict) -> None:
    first = png_bytes((1, 2, 3), (64, 48))
    refused = upload(admin, project, ("first.png", first), ("tool.exe", PROGRAM))
    assert refused.status_code == 415, refused.text
    assert admin.get(f"/api/v1/projects/{project['id']}/assets").json()["items"] == []
    assert not blob_path(server, first).exists()
    assert incoming(server) == []


def test_a_blob_stored_before_the_request_stays_when_the_request_fails(server: RunningServer, admin: ApiClient,
                                                                       project: dict) -> None:
    kept = png_bytes((4, 5, 6), (64, 48))
    assert upload(admin, project, ("kept.png", kept)).status_code == 201
    refused = upload(admin, project, ("again.png", kept), ("empty.png", b""))
    assert refused.status_code == 422, refused.text
    assert blob_path(server, kept).is_file()  # deduplicated: the asset that names it still works
    (asset,) = admin.get(f"/api/v1/projects/{project['id']}/assets").json()["items"]
    assert admin.get(asset["content_url"]).content == kept


def test_a_damaged_picture_leaves_nothing_in_the_store(server: RunningServer, admin: ApiClient,
                                                       project: dict) -> None:
    cut = png_bytes((7, 8, 9), (300, 200))[:-40]
    refused = upload(admin, project, ("cut.png", cut))
    assert refused.status_code == 422, refused.text
    assert not blob_path(server, cut).exists() and incoming(server) == []


def test_a_refused_bulk_export_leaves_no_temporary_zip(server: RunningServer, admin: ApiClient,
                                                       project: dict) -> None:
    exports = server.data_dir / "tmp" / "exports"
    refused = admin.post("/api/v1/projects/bulk", json={"action": "export", "ids": [project["id"], "p_nosuch"]})
    assert refused.status_code == 404, refused.text
    assert not exports.exists() or list(exports.iterdir()) == []
    via_get = admin.get("/api/v1/projects/export", params={"ids": f"{project['id']},p_nosuch"})
    assert via_get.status_code == 404
    assert not exports.exists() or list(exports.iterdir()) == []


def _wait_running_with_output(client: ApiClient, server: RunningServer, task_id: str) -> None:
    output = server.data_dir / "tasks" / task_id / "scratch" / "output.txt"
    wait_until(lambda: client.get(f"/api/v1/tasks/{task_id}").json()["status"] == "running" and output.is_file(),
               timeout=20, message="the task to start writing")


def _upload_cut_off(server: RunningServer, project: dict, client: ApiClient) -> socket.socket:
    """Send half of a multipart upload and keep the connection open (the server is killed meanwhile)."""
    boundary = "leftoverboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + png_bytes()[:64] + os.urandom(256 * 1024)
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    cookies = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    request = (f"POST /api/v1/projects/{project['id']}/assets HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Cookie: {cookies}\r\nX-CSRF-Token: {client.cookies.get('ms_csrf')}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 10000000\r\n\r\n")
    sock.sendall(request.encode() + head)
    wait_until(lambda: incoming(server), message="the upload to start")
    return sock


def _backdate(*paths: Path, seconds: float = 600) -> None:
    then = time.time() - seconds
    for path in paths:
        for inner in [path, *path.rglob("*")] if path.is_dir() else [path]:
            os.utime(inner, (then, then))


def test_what_crashes_leave_behind_is_swept_at_start(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=ENV)
    admin = set_up_admin(server.url)
    project = admin.post("/api/v1/projects", json={"name": "Crashes"}).json()
    kept = admin.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": 2, "step_seconds": 0.01,
                                                                                "write_output": True}}).json()
    wait_for_task(admin, kept["id"])  # succeeded: its result stays downloadable
    task = admin.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {
        "steps": 400, "step_seconds": 0.05, "write_output": True}}).json()
    _wait_running_with_output(admin, server, task["id"])
    sock = _upload_cut_off(server, project, admin)
    port = int(server.url.rsplit(":", 1)[1])
    server.stop(signal.SIGKILL)  # a crash mid-task and mid-upload
    sock.close()
    partial = incoming(server)
    server = start_server(tmp_path, env=ENV, port=port)  # the task runs once more…
    _wait_running_with_output(admin, server, task["id"])
    server.stop(signal.SIGKILL)  # …and the server dies again: the task fails, its folder is left
    data = server.data_dir
    stale_export = data / "tmp" / "exports" / "tmpx1y2z3.zip"
    stale_unpacked = data / "tmp" / "import-abc123"
    stale_upload = data / "tmp" / "imports" / "u_someone-0123.msproj"
    half_preview = data / "previews" / "ab" / ".ab12-256.webp.x1y2.tmp"
    for path in (stale_export, stale_upload, half_preview, stale_unpacked / "unpacked" / "blobs" / "x"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    fresh = data / "blobs" / "incoming" / "upload-fresh"  # a worker process may be writing this one
    fresh.write_bytes(b"being written")
    _backdate(*partial, stale_unpacked, half_preview)  # the server stayed down a while
    server = start_server(tmp_path, env=ENV, port=port)
    try:
        assert admin.get(f"/api/v1/tasks/{task['id']}").json()["status"] == "failed"
        assert not (data / "tasks" / task["id"]).exists()
        assert (data / "tasks" / kept["id"] / "result" / "output.txt").is_file()
        assert admin.get(f"/api/v1/tasks/{kept['id']}/result").status_code == 200
        assert partial and not any(p.exists() for p in partial)
        for path in (stale_export, stale_unpacked, stale_upload, half_preview):
            assert not path.exists(), path
        assert fresh.is_file()
        assert "Removed leftovers" in server.log()
    finally:
        server.stop()
