"""Helpers shared by the test tiers: real `mediastudio serve` processes on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

REPO = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT_S = 30.0
TEST_CLIENT_HOST = "testserver.local"  # the Host of Litestar's TestClient, allowed in in-process studios
T = TypeVar("T")


# -- waiting ------------------------------------------------------------------------------------------
# Tests wait for a condition with these, never with a fixed sleep that hopes it is long enough. A fixed
# sleep is left only where the fixed time is the point (a window in which something must NOT happen,
# a pace, a gesture held still), with a comment that says so.

def _timed_out(message: str | Callable[[], str], timeout: float, last: object) -> AssertionError:
    text = message() if callable(message) else message
    shown = repr(last)
    return AssertionError(f"timed out after {timeout:g} s waiting for {text}; last seen: "
                          f"{shown if len(shown) <= 2000 else shown[:2000] + '…'}")


def wait_until(condition: Callable[[], T], *, until: Callable[[T], object] | None = None, timeout: float = 10.0,
               interval: float = 0.05, message: str | Callable[[], str] = "the condition",
               ignoring: tuple[type[BaseException], ...] = ()) -> T:
    """Call `condition` every `interval` s until its answer is truthy (or, given `until`, until `until(answer)`
    is) and return that answer. At `timeout` s raise AssertionError naming `message` (a string, or a callable
    for text worth computing only then, such as a server log) and the last answer. An exception of a type in
    `ignoring` counts as "not yet"; any other one (an AssertionError that says "this will never happen")
    ends the wait at once."""
    deadline = time.monotonic() + timeout
    while True:
        last: object
        try:
            answer = condition()
            if until(answer) if until is not None else answer:
                return answer
            last = answer
        except ignoring as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise _timed_out(message, timeout, last)
        time.sleep(interval)


async def wait_until_async(condition: Callable[[], T | Awaitable[T]], *, until: Callable[[T], object] | None = None,
                           timeout: float = 10.0, interval: float = 0.05,
                           message: str | Callable[[], str] = "the condition",
                           ignoring: tuple[type[BaseException], ...] = ()) -> T:
    """`wait_until` for a coroutine: the same contract, with `asyncio.sleep` between tries; `condition` may
    answer an awaitable (`lambda: asyncio.to_thread(...)` for a blocking call), which is awaited."""
    import asyncio
    import inspect

    deadline = time.monotonic() + timeout
    while True:
        last: object
        try:
            answer = condition()
            if inspect.isawaitable(answer):
                answer = await answer
            if until(answer) if until is not None else answer:  # type: ignore[arg-type]
                return answer  # type: ignore[return-value]
            last = answer
        except ignoring as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise _timed_out(message, timeout, last)
        await asyncio.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(env: dict[str, str] | None) -> dict[str, str]:
    merged = {**os.environ, **OPEN_STUDIO_ENV, **(env or {})}
    return {name: value for name, value in merged.items() if value != "" or name not in OPEN_STUDIO_ENV}


@dataclass
class RunningServer:
    """A real `mediastudio serve` subprocess on 127.0.0.1."""

    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def trust(self) -> ssl.SSLContext:
        """A client TLS context that trusts this server's own certificate (`serve --tls`) and nothing else: the
        certificate, its names and its chain are checked as a browser that accepted it would."""
        return ssl.create_default_context(cafile=self.data_dir / "tls" / "cert.pem")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> float:
        """Send `sig` and wait for the process to end; return how long that took."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return time.monotonic() - started


# A studio's own defaults close registration and guests until its administrator says who it is for; most tests
# register people or try it as guests, so their servers start open. A test of the defaults passes these as "".
OPEN_STUDIO_ENV = {"MEDIASTUDIO_REGISTRATION_OPEN": "true", "MEDIASTUDIO_GUESTS_ENABLED": "true"}


# MEDIASTUDIO_TEST_HTTPS=1 serves every test server over HTTPS (`serve --tls`), all with one certificate made once
# per test process by the studio's own code and trusted by the test clients (SSL_CERT_FILE for httpx,
# NODE_EXTRA_CA_CERTS for Playwright's requests, the key's SPKI hash for Chromium: tests/e2e/conftest.py).
# Meant for the browser tests; tests that build ws:// URLs by hand stay plain-HTTP tests.
TEST_HTTPS = os.environ.get("MEDIASTUDIO_TEST_HTTPS", "") not in ("", "0", "false")
_TEST_TLS: Path | None = None


def shared_test_tls() -> Path:
    """The folder of this test process's certificate (cert.pem, key.pem), made on first use."""
    global _TEST_TLS
    if _TEST_TLS is None:
        import tempfile

        from mediastudio.edge.tls import studio_certificate
        from mediastudio.settings import Settings

        data = Path(tempfile.mkdtemp(prefix="mediastudio-test-tls-"))
        studio_certificate(Settings(data_dir=data))
        _TEST_TLS = data / "tls"
    return _TEST_TLS


def seed_test_certificate(data_dir: Path) -> None:
    """Put the test certificate where `serve --tls` keeps its own; the server reuses it (the same names)."""
    folder = data_dir / "tls"
    if not (folder / "cert.pem").exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name in ("cert.pem", "key.pem"):
            shutil.copy2(shared_test_tls() / name, folder / name)


def add_model(model: Path, data_dir: Path) -> None:
    """Install a model folder into a studio's data folder the way a person does (`mediastudio models add`)."""
    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(model), "--data-dir",
                            str(data_dir)], capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr


def start_server(tmp: Path, *, env: dict[str, str] | None = None,
                 args: list[str] | None = None, port: int | None = None,
                 start_timeout: float = SERVER_START_TIMEOUT_S) -> RunningServer:
    """Start `mediastudio serve` on `port` (a free one by default) and wait (at most `start_timeout` s) until it
    says it is running and /api/v1/health answers. The same `tmp` and port again restart a stopped server on its
    data (the same origin for a browser). Registration and guests are open (`OPEN_STUDIO_ENV`) unless `env` says
    otherwise; a variable given as "" is left out, so the studio's own default applies."""
    port = port or free_port()
    data_dir = tmp / "data"
    log_path = tmp / f"server-{port}.log"
    args = list(args or [])
    if TEST_HTTPS and not {"--tls", "--tls-cert"} & set(args):
        args.append("--tls")
        seed_test_certificate(data_dir)
    https = bool({"--tls", "--tls-cert"} & set(args))
    command = [sys.executable, "-m", "mediastudio", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data-dir", str(data_dir), "--no-open", *args]
    log_file = log_path.open("w")
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, text=True,
                               env=_server_env(env), cwd=tmp)
    server = RunningServer(process, f"{'https' if https else 'http'}://127.0.0.1:{port}", data_dir, log_path)

    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        if READY_LINE not in server.log():  # its own word that it listens (server.py prints it once started)
            return False
        # Only "is it up": the certificate's own checks are the TLS tests' (tests/integration/test_tls.py).
        return httpx.get(f"{server.url}/api/v1/health", timeout=1, verify=not https).status_code == 200

    try:
        wait_until(healthy, timeout=start_timeout, interval=0.1, ignoring=(httpx.HTTPError,),
                   message="the server to say it is running and /api/v1/health to answer 200")
    except AssertionError as timed_out:
        said = "said it was running but /api/v1/health did not answer 200" if READY_LINE in server.log() \
            else "had not said it was running"
        cpu = process_cpu_seconds(process.pid)
        server.stop(signal.SIGKILL)
        raise RuntimeError(
            f"server {said} within {start_timeout:.0f} s (load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores; it had used {cpu:.1f} s of CPU); gave up and killed it. Its log:\n"
            f"{server.log()}") from timed_out
    return server


READY_LINE = " is running at "  # what `mediastudio serve` prints once it accepts connections (server.py)


def process_cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process has used so far, from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ApiClient(httpx.Client):
    """An httpx client for one person: keeps their cookies and sends the CSRF header on writes,
    as the studio UI does."""

    def __init__(self, base_url: str, **kwargs: object) -> None:
        super().__init__(base_url=base_url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def request(self, method: str, url: httpx.URL | str, **kwargs: object) -> httpx.Response:  # type: ignore[override]
        csrf = self.cookies.get("ms_csrf")
        if csrf and method.upper() not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
            headers.setdefault("X-CSRF-Token", csrf)
            kwargs["headers"] = headers
        return super().request(method, url, **kwargs)  # type: ignore[arg-type]

    def register(self, username: str, password: str = "violet tram sixteen", **extra: object) -> dict:
        response = self.post("/api/v1/auth/register", json={"username": username, "password": password, **extra})
        assert response.status_code == 201, response.text
        return response.json()


ADMIN_PASSWORD = "copper lantern ninety"


def set_up_admin(url: str, username: str = "admin", **client_options: object) -> ApiClient:
    """Create the first administrator on a fresh server; return their logged-in client."""
    client = ApiClient(url, **client_options)
    response = client.post("/api/v1/auth/setup", json={"username": username, "password": ADMIN_PASSWORD})
    assert response.status_code == 201, response.text
    return client


def run_async(coroutine: Any) -> Any:
    """asyncio.run in a thread of its own: Playwright's sync API (the e2e tier, same pytest process)
    keeps an event loop running on the main thread, where asyncio.run would refuse to start."""
    import asyncio
    import threading

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def project_folder(server: RunningServer, project: dict[str, Any]) -> Path:
    """Where a (not trashed) project lives on disk."""
    return server.data_dir / "workspaces" / project["workspace_id"] / "projects" / project["id"]


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True).stdout


def png_bytes(color: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (320, 180)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def wait_for_task(client: ApiClient, task_id: str, statuses: tuple[str, ...] = ("succeeded",),
                  timeout: float = 20.0) -> dict[str, Any]:
    """Poll GET /api/v1/tasks/{id} (bounded) until the task reaches one of `statuses`; answer it.
    A task that ended otherwise (succeeded, failed, cancelled) fails the wait at once, with its error."""
    def reached(task: dict[str, Any]) -> bool:
        if task.get("status") in statuses:
            return True
        if task.get("status") in ("succeeded", "failed", "cancelled"):
            raise AssertionError(f"task {task_id} ended {task['status']}, not {statuses}: {task.get('error')}")
        return False

    return wait_until(lambda: client.get(f"/api/v1/tasks/{task_id}").json(), until=reached, timeout=timeout,
                      interval=0.03, message=f"task {task_id} to reach {statuses}")


class WebhookReceiver:
    """A webhook receiver on 127.0.0.1 (a port of its own) that records each POST with its arrival time and
    answers `status`, or 500 to the first `fail_first` requests (the first answer `slow_first` seconds late). `close()`
    stops it."""

    def __init__(self, status: int = 204, fail_first: int = 0, slow_first: float = 0.0) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[dict[str, Any]] = []
        self.status, self.fail_first = status, fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = {"headers": dict(self.headers), "body": body, "at": time.monotonic()}
                receiver.received.append(request)
                failing = len(receiver.received) <= receiver.fail_first
                if len(receiver.received) == 1 and slow_first:
                    time.sleep(slow_first)  # the first answer comes late
                request["answered"] = time.monotonic()
                self.send_response(500 if failing else receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hooks/mediastudio"
        import threading

        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def wait(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The requests so far, once there are at least `count` (bounded wait)."""
        wait_until(lambda: len(self.received) >= count, timeout=timeout, interval=0.02,
                   message=lambda: f"{count} requests (the receiver got {len(self.received)})")
        return self.received

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()



def make_team(server: RunningServer, ana: ApiClient, tag: int) -> dict[str, Any]:
    """A team workspace with a text-to-image project: Ana owns it, Bob edits (the workspace default), Vic views.
    Answers {workspace, project, scene, bob, bob_id, vic, vic_id}; `tag` keeps names unique on a shared server."""
    workspace = ana.post("/api/v1/workspaces", json={"name": f"Crew {tag}"}).json()
    project = ana.post("/api/v1/projects", json={"name": "Live", "template": "text-to-image",
                                                 "workspace_id": workspace["id"]}).json()
    people: dict[str, Any] = {}
    for name in ("bob", "vic"):
        client = ApiClient(server.url)
        client.register(f"{name}{tag}", display_name=name.title())
        ana.post(f"/api/v1/workspaces/{workspace['id']}/members", json={"username": f"{name}{tag}"})
        people[name] = client
        people[f"{name}_id"] = client.get("/api/v1/auth/me").json()["user"]["id"]
    ana.put(f"/api/v1/projects/{project['id']}/roles/{people['vic_id']}", json={"role": "viewer"})
    scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    return {"workspace": workspace, "project": project, "scene": scene, **people}


@contextmanager
def sql_statements(engine: Any, keep: Callable[[str], bool] = lambda _: True) -> Iterator[list[str]]:
    """The SQL statements (those `keep` accepts) an in-process app runs on `engine` while the block runs."""
    from sqlalchemy import event

    found: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if keep(statement):
            found.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", seen)
