"""Downgrade: a studio served with `--tls` speaks TLS 1.3 and nothing older, and never answers plain HTTP on its
HTTPS port (a client that falls back to TLS 1.2 or to cleartext gets no studio at all)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from support import RunningServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("tls-downgrade"), args=["--tls"])
    yield server
    server.stop()


def _handshake(server: RunningServer, context: ssl.SSLContext) -> str | None:
    """The TLS version agreed, after a health request answered over it."""
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=address.hostname) as tls:
        tls.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert tls.recv(64).startswith(b"HTTP/1.1 200")
        return tls.version()


def test_a_tls_1_3_client_is_served(server: RunningServer) -> None:
    assert _handshake(server, server.trust()) == "TLSv1.3"


def test_a_tls_1_2_client_is_refused(server: RunningServer) -> None:
    context = server.trust()  # trusts the certificate: only the version can make the handshake fail
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    # The server ends the handshake (Python's asyncio closes without an alert, so the client reads an EOF).
    with pytest.raises(ssl.SSLError):
        _handshake(server, context)
    context.maximum_version = ssl.TLSVersion.TLSv1_3  # the same client allowed 1.3: served
    assert _handshake(server, context) == "TLSv1.3"


def test_plain_http_on_the_https_port_gets_no_answer_from_the_studio(server: RunningServer) -> None:
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
        raw.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        received = b""
        try:
            while chunk := raw.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
    assert b'"status":"ok"' not in received and not received.startswith(b"HTTP/1.1 200")
