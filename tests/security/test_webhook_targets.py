"""Webhook targets: every numeric spelling of a private or link-local address is refused (read the way the OS
resolver reads it), LAN targets only when the administrator allows them, metadata never; a delivery connects
to the address that was checked (no second lookup), sends the original name for Host, SNI and the certificate
check, reads no answer body, and its log says only 'could not connect' (no port-scanner oracle)."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from mediastudio.errors import Unprocessable
from mediastudio.webhooks import service
from support import RunningServer, free_port, run_async, set_up_admin, start_server, wait_until
from support import WebhookReceiver as Receiver

SETTING = "MEDIASTUDIO_WEBHOOK_ALLOW_PRIVATE"
METADATA_FORMS = ["http://169.254.169.254/latest", "http://2852039166/", "http://0xa9fea9fe/",
                  "http://0251.0376.0251.0376/", "http://169.254.169.254./", "http://[::ffff:169.254.169.254]/",
                  "http://[::ffff:a9fe:a9fe]/", "http://0xa9.0xfe.0xa9.0xfe/", "http://169.254.43518/",
                  "http://[2002:a9fe:a9fe::1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[fe80::1]/"]
NEVER_FORMS = ["http://0.0.0.0/", "http://0/", "http://0.1.2.3/", "http://[::]/", "http://224.0.0.1/",
               "http://[ff02::1]/", "http://255.255.255.255/", "http://240.0.0.1/", "http://[2001:0:4136:e378::1]/"]
PRIVATE_FORMS = ["http://127.0.0.1:8080/", "http://127.1/", "http://0x7f.1/", "http://017700000001/",
                 "http://2130706433/", "http://127.0.0.1./", "http://localhost:8080/", "http://app.localhost/",
                 "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://10.0.0.1/",
                 "http://012.1/", "http://192.168.1.1/", "http://172.16.0.1/", "http://100.64.0.1/",
                 "http://[fd00::1]/", "http://[fec0::1]/"]
PUBLIC_FORMS = ["https://example.com/hook", "http://8.8.8.8:8080/h?x=1", "http://[2606:4700::1111]/",
                "http://[::ffff:8.8.8.8]/", "https://xn--bcher-kva.de/h", "https://hooks.invalid/in"]


# -- the URL checks at registration ------------------------------------------------------------------
@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("url", METADATA_FORMS + NEVER_FORMS)
def test_link_local_metadata_and_reserved_forms_are_always_refused(url: str, allow_private: bool) -> None:
    with pytest.raises(Unprocessable):
        service.check_url(url, allow_private)


@pytest.mark.parametrize("url", PRIVATE_FORMS)
def test_private_and_loopback_forms_are_refused_naming_the_setting_unless_allowed(url: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        service.check_url(url, False)
    assert f"{SETTING}=true" in refused.value.detail
    assert service.check_url(url, True) == url


@pytest.mark.parametrize("url", PUBLIC_FORMS)
def test_public_targets_are_accepted(url: str) -> None:
    assert service.check_url(url, False) == url


@pytest.mark.parametrize("url", ["http://x:0/", "http://x:+80/", "http://x:99999/", "http://[fe80::1%25eth0]/",
                                 "http://a b/", "http://u:p@example.com/", "http://127.0.0.1:80\\@example.com/"])
def test_malformed_hosts_and_ports_are_refused(url: str) -> None:
    with pytest.raises(Unprocessable):
        service.check_url(url, True)


# -- pinning: one lookup, the checked address is the one connected to ---------------------------------
def _resolver(*answers: list[str]) -> tuple[Callable[[str, int], list[str]], list[str]]:
    """A resolver that answers `answers` in turn (the last one again), recording the names asked."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[min(len(asked), len(answers)) - 1]

    return resolve, asked


def test_a_name_is_resolved_once_and_the_request_aims_at_the_checked_address() -> None:
    from mediastudio.webhooks.targets import pin

    resolve, asked = _resolver(["93.184.216.34"], ["127.0.0.1"])  # rebinding: public first, loopback next
    pinned = pin("https://hooks.example.com:8443/in?x=1", False, resolve)
    assert asked == ["hooks.example.com"]
    assert str(pinned.url) == "https://93.184.216.34:8443/in?x=1"
    assert pinned.host_header == "hooks.example.com:8443"
    assert pinned.extensions == {"sni_hostname": "hooks.example.com"}


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["93.184.216.34", "10.0.0.7"], ["::ffff:169.254.169.254"], []])
def test_a_name_with_any_refused_address_is_not_sent(answer: list[str]) -> None:
    from mediastudio.webhooks.targets import Refused, pin

    resolve, _ = _resolver(answer)
    with pytest.raises(Refused):
        pin("http://hooks.example.com/in", False, resolve)


def _post(url: str, resolve: Callable[[str, int], list[str]], *, allow_private: bool = True,
          client: httpx.AsyncClient | None = None) -> tuple[int | None, str | None]:
    from mediastudio.webhooks import sender

    async def go() -> tuple[int | None, str | None]:
        async with client or sender.new_client() as http:
            return await sender.post(http, url, b"{}", {"Content-Type": "application/json"},
                                     allow_private=allow_private, resolver=resolve)

    return run_async(go())  # not asyncio.run: the browser tier keeps a loop on this thread


def test_the_delivery_connects_to_the_pinned_address_with_the_original_host_header() -> None:
    receiver = Receiver()
    try:
        port = receiver.http.server_address[1]
        resolve, asked = _resolver(["127.0.0.1"])  # hooks.invalid resolves nowhere else: only the pin reaches it
        assert _post(f"http://hooks.invalid:{port}/hooks/mediastudio", resolve) == (204, None)
        assert asked == ["hooks.invalid"]
        assert receiver.received[0]["headers"]["Host"] == f"hooks.invalid:{port}"
        # The same name, when private targets are not allowed: refused before any connection.
        status, error = _post(f"http://hooks.invalid:{port}/hooks/mediastudio", resolve, allow_private=False)
        assert status is None and error is not None and "Errno" not in error
        assert len(receiver.received) == 1
    finally:
        receiver.close()


def test_closed_ports_and_silent_hosts_read_the_same_in_the_log() -> None:
    from mediastudio.webhooks import sender

    status, error = _post(f"http://127.0.0.1:{free_port()}/", _resolver(["127.0.0.1"])[0])
    assert (status, error) == (None, sender.COULD_NOT_CONNECT)


class _Answer(http.server.BaseHTTPRequestHandler):
    """POST /redirect answers 302 to /landed; /endless answers 200 and drips a body that never ends;
    any other path answers 204. The Host header of each request is kept."""

    hosts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        _Answer.hosts.append(f"{self.path} {self.headers['Host']}")
        if self.path in ("/redirect", "/endless"):
            self.send_response(302 if self.path == "/redirect" else 200)
            self.send_header("Location", "/landed")
        else:
            self.send_response(204)
        self.end_headers()
        deadline = time.monotonic() + 30
        try:
            while self.path == "/endless" and time.monotonic() < deadline:
                self.wfile.write(b"x" * 65536)
                self.wfile.flush()
                time.sleep(0.05)  # a pace, not a wait: a slow drip of an endless body
        except OSError:
            pass  # the studio hung up, as it should

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[ssl.SSLContext | None], int]]:
    """Starts answering servers on 127.0.0.1 (with TLS when given a context); answers their ports."""
    servers: list[http.server.ThreadingHTTPServer] = []
    _Answer.hosts = []

    def start(tls: ssl.SSLContext | None = None) -> int:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
        server.daemon_threads = True
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return int(server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_redirects_are_not_followed_and_the_body_is_not_read(serve: Callable[..., int]) -> None:
    port, loopback = serve(), _resolver(["127.0.0.1"])[0]
    assert _post(f"http://127.0.0.1:{port}/redirect", loopback) == (302, "The receiver answered 302")
    started = time.monotonic()
    assert _post(f"http://127.0.0.1:{port}/endless", loopback) == (200, None)
    assert time.monotonic() - started < 3
    assert [h.split()[0] for h in _Answer.hosts] == ["/redirect", "/endless"]  # /landed: never


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl makes the test certificate")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}"], check=True, capture_output=True, timeout=30)
    return key, cert


def test_https_checks_the_certificate_for_the_original_name_at_the_pinned_address(
        tmp_path: Path, serve: Callable[..., int]) -> None:
    from mediastudio.webhooks import sender

    key, cert = _certificate(tmp_path, "hooks.test")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    port, loopback = serve(tls), _resolver(["127.0.0.1"])[0]
    trusting = ssl.create_default_context(cafile=str(cert))
    for name, expected in [("hooks.test", (204, None)), ("other.test", (None, sender.TLS_FAILED))]:
        client = httpx.AsyncClient(verify=trusting, trust_env=False, follow_redirects=False)
        assert _post(f"https://{name}:{port}/in", loopback, client=client) == expected, name
    assert _Answer.hosts == [f"/in hooks.test:{port}"]


# -- a real server: the defaults and the administrator's setting --------------------------------------
@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("webhooks-strict"), env={"MEDIASTUDIO_PROBE_GPU": "0"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lenient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("webhooks-lan"), env={
        "MEDIASTUDIO_PROBE_GPU": "0", SETTING: "true", "MEDIASTUDIO_WEBHOOK_RETRY_SECONDS": "5"})
    yield server
    server.stop()


def test_by_default_loopback_in_any_spelling_is_refused_at_registration(strict: RunningServer) -> None:
    admin = set_up_admin(strict.url)
    port = free_port()
    for host in ["127.0.0.1", "127.1", "0x7f.1", "2130706433", "localhost", "[::1]", "[::ffff:127.0.0.1]"]:
        refused = admin.post("/api/v1/webhooks", json={"url": f"http://{host}:{port}/hook"})
        assert refused.status_code == 422, host
        assert f"{SETTING}=true" in refused.json()["detail"], refused.json()
    assert admin.get("/api/v1/webhooks").json()["items"] == []


def test_with_lan_targets_allowed_a_local_receiver_works_and_metadata_stays_refused(lenient: RunningServer) -> None:
    admin = set_up_admin(lenient.url)
    for url in METADATA_FORMS:
        refused = admin.post("/api/v1/webhooks", json={"url": url})
        assert refused.status_code == 422, url
    receiver = Receiver()
    try:
        hook = admin.post("/api/v1/webhooks", json={"url": receiver.url}).json()
        assert admin.post(f"/api/v1/webhooks/{hook['id']}/ping").status_code == 202
        assert len(receiver.wait(1)) == 1
        closed = admin.post("/api/v1/webhooks", json={"url": f"http://127.0.0.1:{free_port()}/hook"}).json()
        admin.post(f"/api/v1/webhooks/{closed['id']}/ping")
        (entry,) = wait_until(lambda: admin.get(f"/api/v1/webhooks/{closed['id']}/deliveries").json()["items"],
                              until=lambda log: bool(log) and log[0]["attempts"] >= 1,
                              message="the first attempt in the log")
        assert entry["error"] == "Could not connect to the receiver", entry
    finally:
        receiver.close()
