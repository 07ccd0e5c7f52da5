"""Runs the app under uvicorn: a clear start-up line, clean stop on Ctrl+C / SIGTERM."""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable, Iterator

import uvicorn

from mediastudio import __version__
from mediastudio.edge.tls import Certificate, TlsProblem, certificate_for, server_context
from mediastudio.settings import Settings

GRACEFUL_SHUTDOWN_S = 1
KEEP_ALIVE_S = 75  # seconds an idle HTTP/1.1 connection is kept open


def desktop_present() -> bool:
    """True where opening a browser makes sense: macOS, Windows, or a Linux session with a display."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def check_port_free(host: str, port: int) -> None:
    """Fail early, with a way out, when another program holds the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SystemExit(
                    f"Port {port} on {host} is already in use (is Mediastudio running already?). "
                    f"Start on another port: mediastudio serve --port {port + 1}"
                ) from exc
            raise SystemExit(f"Cannot listen on {host}:{port}: {exc.strerror}.") from exc


class StudioServer(uvicorn.Server):
    """Announces the URL once the socket is really listening, and opens the browser if asked."""

    def __init__(self, config: uvicorn.Config, settings: Settings, open_browser: bool,
                 warnings: Callable[[], list[str]] = list, certificate: Certificate | None = None) -> None:
        super().__init__(config)
        self.settings = settings
        self.open_browser = open_browser
        self.warnings = warnings  # lines printed under the URL (accounts/reach.py)
        self.certificate = certificate

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            # uvicorn re-raises the Ctrl+C / SIGTERM it caught once shut down, so the process would
            # die by that signal; the stop was asked for and went cleanly: exit 0 instead.
            self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        url = self.settings.public_url
        print(f"Mediastudio {__version__} is running at {url}", flush=True)
        print(f"Data folder: {self.settings.data_dir}", flush=True)
        if self.certificate is not None:
            for line in certificate_lines(self.certificate):
                print(line, flush=True)
        for line in self.warnings():
            print(line, flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        if self.open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


def raise_open_files_limit() -> int:
    """Every WebSocket and keep-alive connection holds a file descriptor: raise the soft limit (often 1,024)
    to the hard one the system allows, so thousands of live sockets are not refused (asyncio stops accepting
    for a second when accept() runs out) and files still open beside them. Answers the limit now."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):  # some systems cap it below the hard limit
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def certificate_lines(certificate: Certificate) -> list[str]:
    """What `serve` says about its certificate: what a person compares with what their browser shows."""
    whose = "made by the studio (self-signed), kept in" if certificate.self_made else "yours, from"
    return [f"TLS certificate: {whose} {certificate.cert_path}",
            f"  valid for {', '.join(certificate.names) or 'no names'}, until {certificate.not_after:%Y-%m-%d}",
            f"  SHA-256 fingerprint {certificate.fingerprint_sha256}"]


def tls_options(settings: Settings) -> tuple[Certificate | None, dict[str, object]]:
    """The certificate and uvicorn's TLS options for `settings`: our own SSLContext (TLS 1.3 at least); a
    certificate or key that cannot be used stops the start with what to fix."""
    try:
        certificate = certificate_for(settings)
    except TlsProblem as exc:
        raise SystemExit(f"HTTPS: {exc}") from exc
    if certificate is None:
        return None, {}
    context = server_context(certificate)
    return certificate, {"ssl_context_factory": lambda _config, _default: context}


def run_server(settings: Settings, open_browser: bool | None = None) -> None:
    """Build the app and serve it until Ctrl+C or SIGTERM."""
    # The start makes ~180,000 objects that live as long as the process: no collection walks them meanwhile (the
    # app's start settles the heap and turns the collector back on: system/heap.py).
    gc.disable()
    from mediastudio.accounts.reach import studio_reach_warnings
    from mediastudio.app import create_app

    check_port_free(settings.host, settings.port)
    certificate, tls = tls_options(settings)
    raise_open_files_limit()
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        # An idle connection stays open longer than clients and proxies keep theirs (nginx 60 s upstream): with
        # uvicorn's 5 s, a client that reused a connection just as the server dropped it got a reset.
        timeout_keep_alive=KEEP_ALIVE_S,
        access_log=False,
        server_header=False,
        ws_per_message_deflate=settings.ws_compression,
        **tls,  # type: ignore[arg-type]
    )
    server = StudioServer(config, settings, desktop_present() if open_browser is None else open_browser,
                          lambda: studio_reach_warnings(app.state.studio.db, settings), certificate)
    server.run()
    print("Mediastudio stopped.", flush=True)
