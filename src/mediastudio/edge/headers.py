"""Security headers of every answer, and the Content-Security-Policy fitted to the studio's single-page app.

The built UI (SvelteKit, adapter-static) starts from one inline <script> in index.html; its sha256 is allowed
by hash, read from the served file at start-up, so no 'unsafe-inline' is needed for scripts. Svelte sets `style`
attributes and index.html has an inline <style>: styles keep 'unsafe-inline' (styles cannot run code).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)

# Sent on every HTTP answer (UI files, API answers, errors, media) unless the answer set its own.
COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


def script_hashes(html: str) -> list[str]:
    """CSP hash sources ('sha256-…') of the inline scripts of an HTML page, in order."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
            for body in INLINE_SCRIPT.findall(html)]


def page_script_hashes(index: Path) -> list[str]:
    """The hashes for the built UI's index.html; none when it is not built (the fallback page has no script)."""
    try:
        return script_hashes(index.read_text(encoding="utf-8"))
    except OSError:
        return []


def content_policy(hashes: list[str], host: str | None) -> str:
    """The policy of the studio's pages for a request to `host` (already checked against the allowed names)."""
    sockets = ""
    if host and not host.startswith("["):  # CSP has no syntax for IPv6 literals; 'self' covers ws(s) there
        sockets = f" ws://{host} wss://{host}"
    return "; ".join([
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *hashes]),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "font-src 'self' data:",
        f"connect-src 'self'{sockets}",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


Headers = list[tuple[bytes, bytes]]


def with_security_headers(raw: Headers, hashes: list[str], host: str | None, hsts: bytes | None = None) -> Headers:
    """The ASGI header list of an answer, with the common headers and the page policy added where missing, and
    `Strict-Transport-Security: <hsts>` when given (only over HTTPS, only when the administrator asked)."""
    present = {name.lower() for name, _ in raw}
    added = [(name.encode(), value.encode()) for name, value in COMMON.items() if name.encode() not in present]
    if b"content-security-policy" not in present:
        added.append((b"content-security-policy", content_policy(hashes, host).encode()))
    if hsts and b"strict-transport-security" not in present:
        added.append((b"strict-transport-security", hsts))
    return [*raw, *added]
