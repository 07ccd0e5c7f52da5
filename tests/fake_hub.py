"""A tiny stand-in for the Hugging Face hub on 127.0.0.1, for tests that download models (`HF_ENDPOINT`).

It serves one folder as a repo at commit `SHA`, through the few endpoints a pull uses: the model's info with its
files and sizes (`/api/models/{repo}/revision/{rev}`) and each file (`GET /{repo}/resolve/{rev}/{path}`, with
`Range`); also its tree and `HEAD` of a file, which `huggingface_hub.snapshot_download` asks for. It can send
files slowly (one at a time, `delay` seconds before each file's last byte) or stall one file half way (`stall`)
until `release()`, and it records the first byte each file GET asks for (`gets`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SHA = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, folder: Path, repo: str = "tester/tiny-sd", extra: dict[str, bytes] | None = None) -> None:
        self.repo, self.folder = repo, folder
        self.files: dict[str, bytes] = {p.relative_to(folder).as_posix(): p.read_bytes()
                                        for p in sorted(folder.rglob("*")) if p.is_file()}
        self.files.update(extra or {})
        self.repos: dict[str, dict[str, bytes]] = {repo: self.files}  # more with add_repo()
        self.said_sizes: dict[str, int] = {}  # sizes the model info claims instead of the true ones (a lying hub)
        self.delay = 0.0
        self.stall: str | None = None  # a file path: its GET sends half, then waits for release()
        self.released = threading.Event()
        self.stalled = threading.Event()  # set once the stalled file's first half went out
        self.gets: list[tuple[str, int]] = []  # (path, first byte asked) of each file GET
        self.lock = threading.Lock()
        self.one_at_a_time = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _json(self, value: object) -> None:
                body = json.dumps(value).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _missing(self) -> None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.send_header("X-Error-Code", "RepoNotFound")
                self.end_headers()

            def _file(self, head: bool) -> None:
                path = unquote(urlsplit(self.path).path)
                repo = next((r for r in hub.repos if path.startswith(f"/{r}/resolve/")), None)
                if repo is None:
                    return self._missing()
                _, _, name = path[len(f"/{repo}/resolve/"):].partition("/")
                data = hub.repos[repo].get(name)
                if data is None:
                    return self._missing()
                if repo != hub.repo:
                    name = f"{repo}/{name}"  # as recorded in `gets`
                start = 0
                ranged = self.headers.get("Range")
                if ranged and ranged.startswith("bytes="):
                    start = int(ranged[6:].split("-")[0] or 0)
                body = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Repo-Commit", SHA)
                self.send_header("ETag", f'"{hashlib.sha1(data).hexdigest()}"')
                self.send_header("Accept-Ranges", "bytes")
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if head:
                    return None
                with hub.lock:
                    hub.gets.append((name, start))
                half = len(body) // 2
                if hub.stall == name and half:
                    self.wfile.write(body[:half])
                    self.wfile.flush()
                    hub.stalled.set()
                    hub.released.wait(60)
                    self.close_connection = True  # the connection ends short: the client sees a cut download
                    return None
                if hub.delay and len(body) > 1:
                    with hub.one_at_a_time:  # files in turn, as over a slow line
                        self.wfile.write(body[:-1])
                        self.wfile.flush()
                        time.sleep(hub.delay)
                        self.wfile.write(body[-1:])
                else:
                    self.wfile.write(body)
                return None

            def do_HEAD(self) -> None:
                self._file(head=True)

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                for repo, files in hub.repos.items():
                    api = f"/api/models/{repo}"
                    if path == api or path.startswith(f"{api}/revision/"):
                        return self._json({"id": repo, "modelId": repo, "sha": SHA, "private": False,
                                           "siblings": [{"rfilename": n, "size": hub.said_sizes.get(n, len(d))}
                                                        for n, d in files.items()]})
                    if path.startswith(f"{api}/tree/"):
                        return self._json([{"type": "file", "path": n, "size": len(d),
                                            "oid": hashlib.sha1(d).hexdigest()} for n, d in files.items()])
                if path.startswith("/api/"):
                    return self._missing()
                return self._file(head=False)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def add_repo(self, repo: str, folder: Path) -> None:
        """Serve `folder` as `repo` too (its file GETs are recorded as `repo/path`)."""
        self.repos[repo] = {p.relative_to(folder).as_posix(): p.read_bytes()
                            for p in sorted(folder.rglob("*")) if p.is_file()}

    def release(self) -> None:
        self.stall = None
        self.released.set()

    def fetched(self, name: str) -> list[int]:
        """The first byte asked by each GET of file `name`."""
        with self.lock:
            return [start for path, start in self.gets if path == name]

    def close(self) -> None:
        self.release()
        self.http.shutdown()
        self.http.server_close()
