"""`GET /metrics` answers this machine and administrators only: a loopback peer that no proxy speaks for, or
an administrator's API token (or session). A remote peer gets 401 (403 when signed in but not an
administrator); a request a local reverse proxy passes on (loopback at the socket, with X-Forwarded-For or
Forwarded) counts as the remote client it came from."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from mediastudio.app import create_app
from mediastudio.settings import Settings
from metrics_text import parse
from support import TEST_CLIENT_HOST, ApiClient, RunningServer, run_async, set_up_admin, start_server

PASSWORD = "copper lantern ninety"


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
def studio(app: Litestar) -> Iterator[TestClient]:
    """An in-process studio with an administrator signed in (its peer is Litestar's "testclient": not loopback)."""
    with TestClient(app) as client:
        assert client.post("/api/v1/auth/setup", json={"username": "ana", "password": PASSWORD}).status_code == 201
        yield client


def _token(client: TestClient) -> str:
    made = client.post("/api/v1/auth/tokens", json={"name": "scraper"},
                       headers={"X-CSRF-Token": client.cookies["ms_csrf"]})
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def _from(app: Litestar, peer: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """GET /metrics as a client at `peer` (an address), through the app's own ASGI entry."""
    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_CLIENT_HOST}") as client:
            return await client.get("/metrics", headers=headers or {})

    return run_async(ask())  # type: ignore[no-any-return]


def test_a_remote_peer_needs_an_administrators_token(studio: TestClient) -> None:
    def sign_out() -> None:
        studio.post("/api/v1/auth/logout", headers={"X-CSRF-Token": studio.cookies["ms_csrf"]})

    admin_token = _token(studio)
    sign_out()
    studio.post("/api/v1/auth/register", json={"username": "pat", "password": PASSWORD})
    pat_token = _token(studio)
    signed_in = studio.get("/metrics")
    assert signed_in.status_code == 403  # signed in, not an administrator
    assert signed_in.json()["detail"] == "Only administrators can read the metrics."
    sign_out()

    anonymous = studio.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "The metrics are for this machine and administrators."
    assert "Authorization: Bearer" in anonymous.json()["hint"]
    assert studio.get("/metrics", headers={"Authorization": "Bearer ms_not-a-token"}).status_code == 401
    assert studio.get("/metrics", headers={"Authorization": f"Bearer {pat_token}"}).status_code == 403
    scraped = studio.get("/metrics", headers={"Authorization": f"Bearer {admin_token}"})
    assert scraped.status_code == 200
    assert scraped.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "mediastudio_http_requests_total" in parse(scraped.text)


def test_loopback_peers_read_without_a_token_unless_a_proxy_forwarded_them(app: Litestar, studio: TestClient) -> None:
    for peer in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"):
        assert _from(app, peer).status_code == 200, peer
    for peer in ("203.0.113.9", "10.0.0.7", "192.168.1.20", "::ffff:10.0.0.7", "fe80::1", "localhost"):
        assert _from(app, peer).status_code == 401, peer
    for header in ({"X-Forwarded-For": "203.0.113.9"}, {"X-Forwarded-For": "127.0.0.1"},
                   {"Forwarded": "for=127.0.0.1"}, {"X-Real-IP": "127.0.0.1"}, {"X-Forwarded-Proto": "https"}):
        assert _from(app, "127.0.0.1", header).status_code == 401, header


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("metrics-access"))
    yield server
    server.stop()


def test_a_real_server_behind_a_local_proxy(server: RunningServer) -> None:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 and makes the forwarded address the client: a proxy on the
    same machine passing a remote scraper on is refused, and so is one that claims to forward loopback."""
    assert httpx.get(f"{server.url}/metrics").status_code == 200  # this machine, straight to the socket
    for forwarded in ("203.0.113.9", "127.0.0.1", "203.0.113.9, 127.0.0.1"):
        refused = httpx.get(f"{server.url}/metrics", headers={"X-Forwarded-For": forwarded})
        assert refused.status_code == 401, forwarded
    admin = set_up_admin(server.url)
    token = admin.post("/api/v1/auth/tokens", json={"name": "prometheus"}).json()["token"]
    through_proxy = httpx.get(f"{server.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9",
                                                               "Authorization": f"Bearer {token}"})
    assert through_proxy.status_code == 200
    with ApiClient(server.url) as signed_in:  # the administrator's session, as a browser has it
        signed_in.cookies.update(admin.cookies)
        assert signed_in.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200
