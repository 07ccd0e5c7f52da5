"""A file of a type the studio refuses is refused from its first bytes, while it streams: the server does not read
(and store) a large body before it says no."""

from __future__ import annotations

import os
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server

TOTAL = 200 * 1024**2  # the body the client offers
CHUNK = 256 * 1024
# What may be sent before the refusal reaches the client: what the server read (the first chunk or two) plus
# what the sockets' buffers hold on both sides. Far less than the body.
READ_AT_MOST = 16 * 1024**2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("early-sniff"), env={"MEDIASTUDIO_PROBE_GPU": "0"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@pytest.mark.parametrize(("first", "says"), [
    (b"just some text, not an image at all. " * 4, "not one the studio can use"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(120), "Linux program"),
])
def test_a_large_file_of_a_refused_type_is_refused_before_the_body_is_read(
        server: RunningServer, admin: ApiClient, first: bytes, says: str) -> None:
    project = admin.post("/api/v1/projects", json={"name": f"Sniffed {says}"}).json()
    boundary = "sn1ffb0undary"
    closing = f"\r\n--{boundary}--\r\n".encode()
    opening = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="picture.png"\r\n'
               "Content-Type: image/png\r\n\r\n").encode()
    filler = os.urandom(CHUNK)
    host, port = server.url.removeprefix("http://").split(":")
    cookies = "; ".join(f"{k}={v}" for k, v in admin.cookies.items())
    sent, answer = 0, b""
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        # Chunked, so the server learns the size only by reading; the client stops as soon as an answer comes.
        sock.sendall((f"POST /api/v1/projects/{project['id']}/assets HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      f"Cookie: {cookies}\r\nX-CSRF-Token: {admin.cookies.get('ms_csrf')}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n").encode())
        piece = opening + first
        while sent < TOTAL:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable:
                break
            if writable:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sent += len(piece)
                piece = filler
        else:
            sock.sendall(f"{len(closing):x}\r\n".encode() + closing + b"\r\n0\r\n\r\n")
        while b"}" not in answer and (received := sock.recv(65536)):  # the head, then the problem's JSON
            answer += received
    text = answer.decode(errors="replace")
    assert text.startswith("HTTP/1.1 415"), text[:300]
    assert says in text
    assert sent < READ_AT_MOST, f"{sent / 1024**2:.0f} MiB were sent before the refusal"
    incoming = Path(server.data_dir) / "blobs" / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []
    # The studio still takes uploads afterwards.
    taken = admin.post(f"/api/v1/projects/{project['id']}/assets",
                       files={"file": ("real.png", png_bytes((10, 20, 30), (16, 16)), "image/png")})
    assert taken.status_code == 201, taken.text
