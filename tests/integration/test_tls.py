"""`mediastudio serve --tls` and `--tls-cert/--tls-key` on 127.0.0.1: HTTPS with the studio's own certificate
(checked by its fingerprint, kept across restarts) or an administrator's, Secure cookies, wss sockets, HSTS only
when asked, and clear errors for files that cannot be used. The refused downgrade is in
tests/security/test_tls_downgrade.py."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from support import ApiClient, RunningServer, free_port, run_async, set_up_admin, start_server
from tls_kit import fingerprint, new_key, self_signed, write_key


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("tls"), args=["--tls"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(tls_server: RunningServer) -> ApiClient:
    return set_up_admin(tls_server.url, verify=tls_server.trust())


def test_the_studio_serves_https_with_its_own_certificate_and_prints_its_fingerprint(tls_server: RunningServer) -> None:
    assert tls_server.url.startswith("https://")
    cert = tls_server.data_dir / "tls" / "cert.pem"
    log = tls_server.log()
    assert f"is running at {tls_server.url}/" in log
    assert f"SHA-256 fingerprint {fingerprint(cert)}" in log
    assert "made by the studio (self-signed)" in log
    # Checked as a browser that accepted this certificate checks it: names and all, by address and by name.
    port = tls_server.url.rsplit(":", 1)[1]
    for url in (tls_server.url, f"https://localhost:{port}"):
        assert httpx.get(f"{url}/api/v1/health", verify=tls_server.trust()).status_code == 200
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_server.url}/api/v1/health", verify=True)  # nobody trusts it before they compared it


def test_the_admin_api_shows_the_fingerprint_to_administrators_only(tls_server: RunningServer,
                                                                     admin: ApiClient) -> None:
    status = admin.get("/api/v1/admin/server").json()
    assert status["https"] is True and status["hsts"] is False and status["url"] == f"{tls_server.url}/"
    assert status["tls"]["fingerprint_sha256"] == fingerprint(tls_server.data_dir / "tls" / "cert.pem")
    assert status["tls"]["self_made"] is True and "127.0.0.1" in status["tls"]["names"]
    person = ApiClient(tls_server.url, verify=tls_server.trust())
    person.register("tls-reader")
    assert person.get("/api/v1/admin/server").status_code == 403


def test_session_cookies_are_secure_over_https_and_no_hsts_unless_asked(tls_server: RunningServer,
                                                                        admin: ApiClient) -> None:
    client = ApiClient(tls_server.url, verify=tls_server.trust())
    answer = client.post("/api/v1/auth/register", json={"username": "tls-cookie", "password": "violet tram sixteen"})
    assert answer.status_code == 201, answer.text
    cookies = answer.headers.get_list("set-cookie")
    assert len(cookies) == 2 and all(re.search(r";\s*Secure", c, re.IGNORECASE) for c in cookies), cookies
    assert "strict-transport-security" not in answer.headers
    assert "strict-transport-security" not in client.get("/").headers


def test_the_live_sockets_work_over_wss(tls_server: RunningServer, admin: ApiClient) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Over TLS"}).json()
    scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in admin.cookies.items())}
    base = tls_server.url.replace("https://", "wss://")

    async def greeted(path: str) -> bytes:
        async with websockets.connect(base + path, additional_headers=cookie, origin=tls_server.url,  # type: ignore[arg-type]
                                      ssl=tls_server.trust()) as socket:
            return await asyncio.wait_for(socket.recv(decode=False), 10)  # type: ignore[no-any-return]

    for path in ("/api/v1/events", f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/sync",
                 f"/api/v1/projects/{project['id']}/presence"):
        assert run_async(greeted(path)), path


def test_hsts_is_sent_over_https_only_when_asked(server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory(args=["--tls", "--hsts"])
    for path in ("/", "/api/v1/health", "/api/v1/auth/config", "/api/v1/nowhere"):
        answer = httpx.get(f"{server.url}{path}", verify=server.trust())
        assert answer.headers.get("strict-transport-security") == "max-age=31536000", path


def test_plain_http_keeps_working_without_secure_cookies_or_hsts(server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory(args=["--hsts"])  # asked, but nothing is HTTPS: browsers ignore it there anyway
    assert server.url.startswith("http://")
    client = ApiClient(server.url)
    answer = client.post("/api/v1/auth/setup", json={"username": "plain", "password": "violet tram sixteen"})
    assert answer.status_code == 201, answer.text
    assert not any("secure" in c.lower() for c in answer.headers.get_list("set-cookie"))
    assert "strict-transport-security" not in client.get("/api/v1/health").headers


def test_the_certificate_is_kept_across_restarts(tmp_path: Path) -> None:
    port = free_port()
    first = start_server(tmp_path, args=["--tls"], port=port)
    made = fingerprint(first.data_dir / "tls" / "cert.pem")
    first.stop()
    second = start_server(tmp_path, args=["--tls"], port=port)
    try:
        assert fingerprint(second.data_dir / "tls" / "cert.pem") == made
        assert f"SHA-256 fingerprint {made}" in second.log()
        assert httpx.get(f"{second.url}/api/v1/health", verify=second.trust()).status_code == 200
    finally:
        second.stop()


def test_an_administrators_own_certificate_is_served(tmp_path: Path) -> None:
    key = new_key()
    cert, key_file = tmp_path / "studio.crt", write_key(key, tmp_path / "studio.key")
    self_signed(key, cert, names=("studio.test",), addresses=("127.0.0.1",))
    server = start_server(tmp_path, args=["--tls-cert", str(cert), "--tls-key", str(key_file)])
    try:
        import ssl

        assert httpx.get(f"{server.url}/api/v1/health",
                         verify=ssl.create_default_context(cafile=cert)).status_code == 200
        assert f"SHA-256 fingerprint {fingerprint(cert)}" in server.log() and "yours, from" in server.log()
        assert not (server.data_dir / "tls").exists()  # nothing of its own is made
    finally:
        server.stop()


def _serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mediastudio", "serve", "--port", str(free_port()), "--no-open",
                           "--data-dir", str(tmp_path / "data"), *args],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)


@pytest.mark.parametrize("case", ["missing", "not-pem", "other-key", "alone"])
def test_certificate_files_that_cannot_be_used_stop_the_start_with_what_is_wrong(tmp_path: Path, case: str) -> None:
    key = new_key()
    cert, key_file = tmp_path / "studio.crt", write_key(key, tmp_path / "studio.key")
    self_signed(key, cert)
    args, expected = {
        "missing": (["--tls-cert", str(tmp_path / "nope.crt"), "--tls-key", str(key_file)],
                    "Cannot read the TLS certificate"),
        "not-pem": (["--tls-cert", str(key_file), "--tls-key", str(key_file)], "holds no PEM certificate"),
        "other-key": (["--tls-cert", str(cert), "--tls-key", str(write_key(new_key(), tmp_path / "other.key"))],
                      "does not belong to the certificate"),
        "alone": (["--tls-cert", str(cert)], "--tls-cert and --tls-key go together"),
    }[case]
    result = _serve(tmp_path, *args)
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_local_proxys_forwarded_headers_make_the_request_https_from_the_client(
        server_factory: Callable[..., RunningServer]) -> None:
    """What docs/deploy.md says of proxies: from 127.0.0.1 (uvicorn's default trusted proxy) X-Forwarded-Proto and
    X-Forwarded-For are taken, so cookies are Secure and the audit log names the client's address."""
    server = server_factory()
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    client = ApiClient(server.url, headers=proxied)
    answer = client.post("/api/v1/auth/setup", json={"username": "proxied", "password": "violet tram sixteen"})
    assert answer.status_code == 201, answer.text
    assert all(re.search(r";\s*Secure", c, re.IGNORECASE) for c in answer.headers.get_list("set-cookie"))
    # A Secure cookie is not sent back over http:// by the client: send it as the proxy would pass it on.
    cookie = "; ".join(f"{k}={v}" for k, v in answer.cookies.items())
    entries = httpx.get(f"{server.url}/api/v1/admin/audit", params={"action": "auth.login"},
                        headers={**proxied, "Cookie": cookie}).json()["items"]
    assert entries[0]["ip"] == "203.0.113.9", entries
