"""Serves the built studio (web_dist) as a single-page app, with cache headers that fit each file."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from litestar import Request, Response, get, route
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.response import File

from mediastudio.errors import problem

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
SHORT = "public, max-age=3600"
# The copies the build writes beside its text files, in the order they are preferred (smallest first).
PRECOMPRESSED = {".br": "br", ".gz": "gzip"}
# Files that name the current build: a browser must revalidate them on every load.
ALWAYS_REVALIDATE = {"index.html", "sw.js", "registerSW.js", "manifest.webmanifest", "_app/version.json"}

# The system's mime table may be missing or old (no /etc/mime.types in slim images): the types a
# browser insists on (module scripts, manifests, wasm) are fixed here. Litestar adds "; charset=utf-8" to text/*.
MEDIA_TYPES = {
    ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
    ".css": "text/css", ".json": "application/json", ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".webp": "image/webp",
    ".woff2": "font/woff2", ".wasm": "application/wasm", ".txt": "text/plain",
}

MISSING_UI_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mediastudio — UI not built</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;background:#111318;color:#e6e8ee;max-width:44rem;
margin:4rem auto;padding:0 1rem}}code,pre{{background:#1d2029;padding:.15rem .35rem;border-radius:4px}}
pre{{padding:1rem}}a{{color:#8ab4ff}}</style></head>
<body><h1>The studio UI is not built</h1>
<p>The API is running (<a href="/api/docs">API docs</a>, <a href="/api/v1/health">health</a>),
but no built UI was found at <code>{where}</code>.</p>
<p>From a source checkout, build it once with Node.js 20+:</p>
<pre>cd web &amp;&amp; npm install &amp;&amp; npm run build</pre>
<p>then reload this page. A wheel installed with <code>pip install mediastudio</code> ships the UI built;
if you see this after such an install, reinstall it.</p></body></html>
"""


def find_web_dist(configured: Path | None) -> Path:
    """The configured folder, else the one inside the installed package, else the checkout's."""
    if configured is not None:
        return configured.expanduser().resolve()
    packaged = Path(__file__).parent / "web_dist"
    if (packaged / "index.html").is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "web_dist"


class WebUI:
    """Resolves request paths to files of the built UI."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @property
    def present(self) -> bool:
        return (self.root / "index.html").is_file()

    def resolve(self, path: str) -> Path | None:
        """The file for a URL path, or None. Never escapes the root."""
        candidate = (self.root / path.lstrip("/")).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None
        return candidate if candidate.is_file() else None

    @staticmethod
    def cache_control(relative: str) -> str:
        if relative.startswith("_app/immutable/"):
            return IMMUTABLE
        if relative in ALWAYS_REVALIDATE or relative.endswith(".html"):
            return NO_CACHE
        return SHORT


def accepted_encodings(header: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (RFC 9110 §12.5.3): those named with a q above 0,
    and with `*` any other not refused by name."""
    named: dict[str, float] = {}
    for part in header[:1024].split(","):
        coding, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            named[coding.strip().lower()] = weight
    allowed = {coding for coding, weight in named.items() if weight > 0}
    if "*" in allowed:
        allowed |= {coding for coding in PRECOMPRESSED.values() if coding not in named}
    return allowed - {"*"}


def _file(ui: WebUI, file: Path, accept_encoding: str = "") -> File:
    relative = file.relative_to(ui.root).as_posix()
    media_type = MEDIA_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0]
    headers = {"Cache-Control": ui.cache_control(relative)}
    sent = file
    copies = [(suffix, coding) for suffix, coding in PRECOMPRESSED.items()
              if file.with_name(file.name + suffix).is_file()]
    if copies:  # the build wrote smaller copies of this file (web/scripts/precompress.mjs)
        headers["Vary"] = "Accept-Encoding"
        allowed = accepted_encodings(accept_encoding)
        for suffix, coding in copies:
            if coding in allowed:
                sent = file.with_name(file.name + suffix)
                headers["Content-Encoding"] = coding
                break
    return File(sent, filename=file.name, content_disposition_type="inline", media_type=media_type,
                headers=headers)


@get(["/", "/{path:path}"], include_in_schema=False, sync_to_thread=False)
def serve_ui(request: Request) -> Response | File:
    """A file of the build when it exists; index.html for every other page (SPA fallback)."""
    ui: WebUI = request.app.state.studio.ui
    path: str = request.path_params.get("path", "/")
    if not ui.present:
        return Response(MISSING_UI_PAGE.format(where=ui.root), status_code=503,
                        media_type="text/html", headers={"Cache-Control": NO_CACHE})
    accept_encoding = request.headers.get("accept-encoding", "")
    found = ui.resolve(path)
    if found is not None:
        return _file(ui, found, accept_encoding)
    if path.lstrip("/").startswith("_app/"):
        return Response("Not found", status_code=404, media_type="text/plain")
    return _file(ui, ui.root / "index.html", accept_encoding)


@route("/api/{path:path}", http_method=list(HttpMethod), include_in_schema=False, sync_to_thread=False)
def unknown_api_path(request: Request) -> Response:
    """API paths never fall back to the UI: they answer a problem document."""
    return problem(404, f"There is no API endpoint at {request.url.path}.",
                   hint="See /api/docs for the paths this server offers.")


UIDep = NamedDependency[WebUI]
