"""Request bodies as they arrive, within limits: the one reader of every upload and import.

Nothing is buffered: a body is read chunk by chunk, counted against its limit as the bytes arrive (and
refused from its Content-Length before a byte is read when that already says too much), and a
multipart form is parsed as it streams. Callers decide where the bytes go (the blob store for media
uploads, a spool file for project imports) and what a person reads when a body is refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

from multipart import MultipartSegment, PushMultipartParser

MULTIPART = "multipart/form-data"
MAX_HEADER_BYTES = 4224  # per part header line (the parser's default): a file name of ~4000 bytes at most

TooLarge = Callable[[], Exception]


@dataclass(frozen=True)
class Part:
    """A multipart part begins: its field name and, for a file, the file name the client gave."""

    name: str
    filename: str | None


PART_END = None  # what `parts()` yields when a part ends


def boundary(content_type: str) -> str | None:
    """The boundary of a multipart/form-data body, or None for any other body."""
    if not content_type.startswith(MULTIPART):
        return None
    return next((p.split("=", 1)[1].strip().strip('"') for p in content_type.split(";")
                 if p.strip().startswith("boundary=")), None) or None


def refuse_declared(headers: Mapping[str, str], limit: int, too_large: TooLarge) -> None:
    """Refuse a body whose Content-Length already says more than `limit`, before reading it."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large()


async def counted(stream: AsyncIterator[bytes], limit: int, too_large: TooLarge) -> AsyncIterator[bytes]:
    """The body's chunks; `too_large()` is raised as soon as more than `limit` bytes have arrived."""
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise too_large()
        yield chunk


async def parts(boundary: str, stream: AsyncIterator[bytes], *, max_parts: int,
                max_header_size: int = MAX_HEADER_BYTES) -> AsyncIterator[Part | bytes | None]:
    """A multipart form (its `boundary()`) as it streams: `Part` when a part begins, its bytes in chunks,
    `PART_END` when it ends. A malformed form raises the parser's `ParserError` (`ParserLimitReached` for a
    part header or a part count over the limits) for the caller to word."""
    with PushMultipartParser(boundary, max_header_size=max_header_size, max_segment_count=max_parts) as parser:
        async for chunk in stream:
            for event in parser.parse(chunk):
                yield Part(event.name or "", event.filename) if isinstance(event, MultipartSegment) else event
        for event in parser.parse(b""):
            yield Part(event.name or "", event.filename) if isinstance(event, MultipartSegment) else event
