"""Serving blobs: HTTP Range (video scrubbing), ETag / If-None-Match, type and file name.

Blobs hold what users uploaded. Opened directly they would run on the studio's origin if a browser took them
for a page (HTML, SVG, XML): only picture, video and sound types a browser cannot execute are served inline
with their type; anything else is a download (application/octet-stream, attachment). Every blob answer also
carries a sandbox policy, so even a mistaken type gets no scripts, no origin and no network.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import anyio
from litestar import Request, Response
from litestar.response import Stream

CHUNK = 256 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Displayed by browsers without running anything (no image/svg+xml, no text/*, no application/*).
INLINE_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/tiff", "image/heic",
    "video/mp4", "video/webm", "video/ogg", "video/quicktime", "video/x-msvideo",
    "audio/mpeg", "audio/ogg", "audio/wav", "audio/x-wav", "audio/flac", "audio/mp4", "audio/aac", "audio/webm",
})
# Downloads that keep their own type (never shown inline: always sent as attachments).
DOWNLOAD_TYPES = frozenset({"application/zip"})
# No scripts, forms, popups or plugins, whatever the bytes are. The document keeps its origin (allow-same-origin)
# only so that a picture or video opened directly can load itself: an opaque origin's own requests for the blob
# are cross-origin (Chrome then refuses the video without CORS); with scripts off the origin is of no use to it.
BLOB_POLICY = "sandbox allow-same-origin; default-src 'none'; img-src 'self'; media-src 'self'; " \
              "style-src 'unsafe-inline'; frame-ancestors 'none'"


def served_type(mime: str, download: bool) -> tuple[str, bool]:
    """(Content-Type, inline?) for a blob of type `mime`: safe media inline, the rest as an opaque download."""
    base = mime.split(";")[0].strip().lower()
    if base in INLINE_TYPES:
        return base, not download
    if download and base in DOWNLOAD_TYPES:
        return base, False
    return "application/octet-stream", False


def _disposition(name: str, inline: bool) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


async def _read(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(start)
        while length > 0:
            chunk = await handle.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single satisfiable range; None when unsatisfiable."""
    match = RANGE.match(header.strip())
    if not match or not (match.group(1) or match.group(2)) or "," in header:
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        return (max(0, size - length), size - 1) if length > 0 else None
    start, end = int(first), int(last) if last else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


def serve_blob(request: Request, path: Path, sha256: str, mime: str, name: str, *, download: bool = False,
               cache: str = "private, max-age=3600") -> Response | Stream:
    size = path.stat().st_size
    etag = f'"{sha256}"'
    mime, inline = served_type(mime, download)
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": cache,
               "Content-Disposition": _disposition(name, inline), "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": BLOB_POLICY}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(None, status_code=304, headers=headers)
    wanted = request.headers.get("range")
    if wanted and request.headers.get("if-range", etag) == etag:
        span = _parse_range(wanted, size)
        if span is None:
            return Response(None, status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        start, end = span
        return Stream(_read(path, start, end - start + 1), status_code=206, media_type=mime,
                      headers={**headers, "Content-Range": f"bytes {start}-{end}/{size}",
                               "Content-Length": str(end - start + 1)})
    return Stream(_read(path, 0, size), status_code=200, media_type=mime,
                  headers={**headers, "Content-Length": str(size)})
