"""The edge of a real server: only allowed Host names are served (DNS rebinding), every answer carries the
security headers, the studio's pages a Content-Security-Policy that fits them, and media blobs a sandbox and a
type a browser cannot run."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import httpx
import pytest
import websockets
from litestar.testing import TestClient

from mediastudio.app import create_app
from mediastudio.settings import Settings
from support import REPO, ApiClient, RunningServer, png_bytes, run_async, set_up_admin, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("edge"), env={"MEDIASTUDIO_ALLOWED_HOSTS": '["studio.lan"]'})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def _get(server: RunningServer, path: str, host: str) -> httpx.Response:
    return httpx.get(server.url + path, headers={"Host": host}, timeout=10)


def _socket_close(server: RunningServer, host: str) -> int | None:
    """The close code of an anonymous /api/v1/events socket opened on the server naming `host` in its Host."""
    async def attempt() -> int | None:
        port = int(server.url.rsplit(":", 1)[1])
        url = f"ws://{host}:{port}/api/v1/events"
        try:
            async with websockets.connect(url, host="127.0.0.1", port=port) as socket:
                await socket.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None

    return run_async(attempt())


@pytest.mark.parametrize("path", ["/", "/projects/p1", "/api/v1/health", "/api/v1/auth/config", "/favicon.svg"])
def test_a_name_nobody_allowed_is_refused_with_how_to_allow_it(server: RunningServer, path: str) -> None:
    refused = _get(server, path, "rebound.attacker.example:8750")
    assert refused.status_code == 421
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert "rebound.attacker.example" in problem["detail"]
    assert "--allowed-host rebound.attacker.example" in problem["hint"]
    assert "MEDIASTUDIO_ALLOWED_HOSTS" in problem["hint"]


def test_a_fresh_install_cannot_be_set_up_through_a_rebound_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fresh = start_server(tmp_path)
    try:
        hijack = httpx.post(fresh.url + "/api/v1/auth/setup", headers={"Host": "rebound.attacker.example"},
                            json={"username": "mallory", "password": "copper lantern ninety"})
        assert hijack.status_code == 421
        assert httpx.get(fresh.url + "/api/v1/auth/config").json()["setup_required"] is True
    finally:
        fresh.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST:8750", "[::1]:8750", "studio.lan",
                                  "studio.lan.:8750"])
def test_loopback_names_and_allowed_names_are_served(server: RunningServer, host: str) -> None:
    assert _get(server, "/api/v1/health", host).status_code == 200


@pytest.mark.parametrize("host", ["", "studio.lan:http", "a b", "studio.lan;x", "[::1"])
def test_a_malformed_host_is_refused(server: RunningServer, host: str) -> None:
    assert _get(server, "/api/v1/health", host).status_code == 400


def test_websockets_check_the_host_too(server: RunningServer) -> None:
    assert _socket_close(server, "rebound.attacker.example") == 4421
    assert _socket_close(server, "studio.lan") == 4401  # an allowed name reaches the handler (anonymous: 4401)


def test_the_test_clients_host_is_not_allowed_by_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", probe_gpu=False))) as client:
        assert client.get("/api/v1/health").status_code == 421


def test_names_allowed_by_the_serve_flag(tmp_path) -> None:  # type: ignore[no-untyped-def]
    named = start_server(tmp_path, args=["--allowed-host", "render-box", "--allowed-host", "studio.lan"])
    try:
        assert _get(named, "/api/v1/health", "render-box").status_code == 200
        assert _get(named, "/api/v1/health", "studio.lan").status_code == 200
        assert _get(named, "/api/v1/health", "elsewhere.lan").status_code == 421
    finally:
        named.stop()


def test_names_allowed_by_the_environment_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIASTUDIO_ALLOWED_HOSTS", "studio.lan, render-box,192.168.1.20")
    assert Settings().allowed_hosts == ["studio.lan", "render-box", "192.168.1.20"]


def test_which_names_a_studio_answers_to() -> None:
    from mediastudio.edge.hosts import HostPolicy, host_name, machine_names

    local = HostPolicy([], "127.0.0.1")
    assert not local.allows("192.168.1.20") and not local.allows(machine_names().pop() if machine_names() else "x")
    lan = HostPolicy(["studio.example.org"], "0.0.0.0")
    # Every address of the machine (an IP literal cannot be rebound) and its own name; other names are not.
    assert lan.allows("192.168.1.20") and lan.allows("fd00::5") and lan.allows("studio.example.org")
    assert all(lan.allows(name) for name in machine_names())
    assert not lan.allows("attacker.example") and not lan.allows(None)
    assert HostPolicy(["*"], "127.0.0.1").allows("anything.example")
    assert HostPolicy([], "10.0.0.7").allows("10.0.0.7")
    assert host_name("Studio.LAN.:80") == "studio.lan" and host_name("[::1]:1") == "::1"


def _inline_script_hashes() -> set[str]:
    html = (REPO / "web_dist" / "index.html").read_text()
    scripts = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert scripts, "the built UI starts from an inline script"
    return {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts}


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_studio_page_has_a_policy_that_fits_it(server: RunningServer) -> None:
    page = httpx.get(server.url + "/projects/p1")
    assert page.headers["content-type"] == "text/html; charset=utf-8"  # once, not twice
    policy = _directives(page.headers["content-security-policy"])
    assert _inline_script_hashes() <= set(policy["script-src"])
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    host = server.url.removeprefix("http://")
    assert set(policy["connect-src"]) == {"'self'", f"ws://{host}", f"wss://{host}"}
    assert {"'self'", "data:", "blob:"} <= set(policy["img-src"]) and policy["worker-src"] == ["'self'"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"), ("GET", "/sw.js"), ("GET", "/api/v1/health"), ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/nothing-here"), ("DELETE", "/api/v1/health"), ("POST", "/some/page"), ("GET", "/api/docs"),
])
def test_every_answer_carries_the_security_headers(server: RunningServer, method: str, path: str) -> None:
    response = httpx.request(method, server.url + path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_pictures_are_shown_inline_in_a_sandbox(admin: ApiClient) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Edge"}).json()
    (asset,) = admin.post(f"/api/v1/projects/{project['id']}/assets",
                          files={"file": ("frame.png", png_bytes(), "image/png")}).json()
    for url in (asset["content_url"], asset["preview_url"]):
        served = admin.get(url)
        assert served.status_code == 200 and served.headers["content-type"].startswith("image/")
        assert served.headers["content-disposition"].startswith("inline")
        policy = _directives(served.headers["content-security-policy"])
        assert "sandbox" in policy and "allow-scripts" not in policy["sandbox"]
        assert policy["default-src"] == ["'none'"] and "script-src" not in policy
        assert served.headers["x-content-type-options"] == "nosniff"


def test_documents_are_downloads_of_an_opaque_type(admin: ApiClient) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Papers"}).json()
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    uploaded = admin.post(f"/api/v1/projects/{project['id']}/assets",
                          files={"file": ("script.pdf", pdf, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    served = admin.get(uploaded.json()[0]["content_url"])
    assert served.status_code == 200 and served.content == pdf
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in served.headers["content-security-policy"]


@pytest.mark.parametrize("mime", ["image/svg+xml", "text/html", "text/plain", "application/xhtml+xml",
                                  "text/xml", "application/pdf", "application/javascript", "IMAGE/SVG+XML"])
def test_types_a_browser_could_run_are_never_inline(mime: str) -> None:
    from mediastudio.storage.serving import served_type

    assert served_type(mime, download=False) == ("application/octet-stream", False)


@pytest.mark.parametrize("mime", ["image/png", "image/webp", "video/mp4", "audio/mpeg", "image/jpeg; q=1"])
def test_safe_media_keeps_its_type(mime: str) -> None:
    from mediastudio.storage.serving import served_type

    assert served_type(mime, download=False) == (mime.split(";")[0], True)
    assert served_type(mime, download=True) == (mime.split(";")[0], False)
