"""A real `mediastudio serve` process on 127.0.0.1: start-up, data folder, GPU probe, clean stop."""

import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support import RunningServer, free_port, start_server, wait_until

GPU_PROBE_TIMEOUT_S = 60


def test_serve_creates_the_data_folder_and_a_wal_database(
        server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory()
    database = server.data_dir / "mediastudio.sqlite"
    assert database.is_file()
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert f"is running at {server.url}/" in server.log()


def test_health_reports_the_gpu_probe_result(shared_server: RunningServer) -> None:
    gpu = wait_until(lambda: httpx.get(f"{shared_server.url}/api/v1/health").json()["gpu"],
                     until=lambda gpu: gpu["state"] in ("ready", "error"), timeout=GPU_PROBE_TIMEOUT_S,
                     interval=0.2, message="the GPU probe to finish")
    assert gpu["state"] == "ready", gpu
    assert gpu["backend"] in ("cuda", "mps", "cpu")
    assert gpu["torch"]
    if gpu["backend"] == "cpu":
        assert "CPU" in str(gpu["hint"])


@pytest.mark.timing
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_server_cleanly_within_two_seconds(
        server_factory: Callable[..., RunningServer], sig: int) -> None:
    server = server_factory()
    # An open keep-alive connection must not hold the shutdown up.
    with httpx.Client() as held:
        held.get(f"{server.url}/api/v1/health")
        took = server.stop(sig)
    assert server.process.returncode == 0, server.log()
    assert took < 2.0, f"stopping took {took:.2f}s"
    assert "Mediastudio stopped." in server.log()


def test_a_busy_port_gives_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mediastudio", "serve", "--port", str(port), "--no-open",
             "--data-dir", str(tmp_path / "data")],
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"--port {port + 1}" in result.stderr


def test_an_unusable_data_folder_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "mediastudio", "serve", "--port", str(free_port()), "--no-open",
         "--data-dir", str(blocker / "data")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "cannot be written" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_data_folder_comes_from_the_environment(
        server_factory: Callable[..., RunningServer], tmp_path: Path) -> None:
    # --data-dir is always passed by the fixture; MEDIASTUDIO_DATA_DIR is checked by starting without it.
    port = free_port()
    data_dir = tmp_path / "from-env"
    process = subprocess.Popen(
        [sys.executable, "-m", "mediastudio", "serve", "--port", str(port), "--no-open"],
        env={**__import__("os").environ, "MEDIASTUDIO_DATA_DIR": str(data_dir)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_until((data_dir / "mediastudio.sqlite").exists, timeout=30, interval=0.1,
                   message=f"the database in {data_dir}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def test_an_idle_connection_is_still_open_after_a_pause_a_client_would_make(shared_server: RunningServer) -> None:
    """A client (a browser, Playwright, a proxy) reuses a connection it left idle for a few seconds; the server
    must not have dropped it meanwhile (it used to after 5 s, and a request sent just then was reset)."""
    import http.client
    import time
    from urllib.parse import urlsplit

    where = urlsplit(shared_server.url)
    connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=10)
    try:
        connection.request("GET", "/api/v1/health")
        first = connection.getresponse()
        first.read()
        assert first.status == 200 and not first.will_close
        time.sleep(6)
        connection.request("GET", "/api/v1/health")  # on the same socket: http.client does not reconnect
        again = connection.getresponse()
        again.read()
        assert again.status == 200
    finally:
        connection.close()


def test_serve_raises_its_open_files_limit_to_what_the_system_allows(
        server_factory: Callable[..., RunningServer]) -> None:
    """Every WebSocket holds a file descriptor: started with the usual soft limit (often 1,024) the server would
    refuse connections (asyncio logs 'out of system resource' and stops accepting for a second) and fail to open
    files long before the machine runs out. It raises its soft limit to the hard one at start-up."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 1024:
        pytest.skip("the hard limit here is too low to tell")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # the server inherits it
    try:
        server = server_factory()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    limits = Path(f"/proc/{server.process.pid}/limits").read_text()
    line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
    assert line.split()[3:5] == [str(hard), str(hard)], line


def test_the_mode_chosen_with_the_cli_is_what_serve_reports_and_warns_about(tmp_path: Path) -> None:
    """`serve` checks where it listens against who the studio is for (accounts/reach.py words it; its cases
    beyond loopback are unit tests, tests/unit/test_studio_modes.py: tests listen on 127.0.0.1 only)."""
    data_dir = tmp_path / "data"  # where start_server keeps its data

    def mode(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "mediastudio", "mode", *args, "--data-dir", str(data_dir)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "not chosen yet" in mode() and "Guests: off" in mode()
    assert "team (My team on our network)" in mode("team")
    # The studio's own defaults (no MEDIASTUDIO_* switches): the mode decides.
    server = start_server(tmp_path, env={"MEDIASTUDIO_REGISTRATION_OPEN": "", "MEDIASTUDIO_GUESTS_ENABLED": ""})
    try:
        assert server.data_dir == data_dir
        config = httpx.get(f"{server.url}/api/v1/auth/config").json()
        assert (config["mode"], config["registration_open"], config["guests_enabled"]) == ("team", False, False)
        assert config["listens_beyond_loopback"] is False
        note = 'this studio is for "My team on our network" but listens on 127.0.0.1 only'
        log = wait_until(server.log, until=lambda text: "Press Ctrl+C" in text, message="the start-up lines")
        assert note in log and "--host 0.0.0.0" in log

        assert "Registration: open" in mode("class")  # beside the running server: the next request sees it
        config = httpx.get(f"{server.url}/api/v1/auth/config").json()
        assert (config["mode"], config["registration_open"], config["guests_enabled"]) == ("class", True, True)
        assert subprocess.run([sys.executable, "-m", "mediastudio", "mode", "everyone", "--data-dir", str(data_dir)],
                              capture_output=True, text=True, timeout=60).returncode == 2
    finally:
        server.stop()


def _offered_compression_answer(server: RunningServer) -> str | None:
    """The extensions the server accepted on a WebSocket to /api/v1/events whose client offered permessage-deflate
    (as browsers do)."""
    from websockets.sync.client import connect

    with connect(server.url.replace("http", "ws", 1) + "/api/v1/events", compression="deflate",
                 open_timeout=10) as socket:
        assert socket.response is not None
        return socket.response.headers.get("Sec-WebSocket-Extensions")


def test_websockets_are_not_compressed_unless_the_administrator_turns_it_on(
        shared_server: RunningServer, server_factory: Callable[..., RunningServer]) -> None:
    """Compressing each message costs both ends CPU on the way of every event and edit: off by default,
    `MEDIASTUDIO_WS_COMPRESSION=true` offers it (clients on slow links)."""
    assert _offered_compression_answer(shared_server) is None
    compressed = server_factory(env={"MEDIASTUDIO_WS_COMPRESSION": "true"})
    assert "permessage-deflate" in (_offered_compression_answer(compressed) or "")
