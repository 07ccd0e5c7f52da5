"""Streaming multipart uploads: every file goes straight to the blob store in constant memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from anyio import to_thread
from multipart import MultipartSegment, ParserError, PushMultipartParser

from mediastudio.errors import BadRequest, MediastudioError
from mediastudio.media.blobs import BlobStore, BlobWriter
from mediastudio.media.probe import Probe, probe
from mediastudio.media.sniff import Sniffed, sniff

MAX_FIELD_BYTES = 64 * 1024


class PayloadTooLarge(MediastudioError):
    status = 413
    title = "File too large"


@dataclass
class Received:
    filename: str | None
    sha256: str
    size: int
    sniffed: Sniffed
    probed: Probe


@dataclass
class Upload:
    files: list[Received] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


def _too_large(limit: int) -> PayloadTooLarge:
    size = f"{limit / 1024**3:.1f} GiB" if limit >= 1024**3 else f"{limit / 1024**2:.0f} MiB"
    return PayloadTooLarge(f"The file is larger than this server accepts ({size} per file).",
                           hint="Ask the administrator to raise MEDIASTUDIO_UPLOAD_MAX_BYTES.", limit=limit)


async def _finish(blobs: BlobStore, writer: BlobWriter, filename: str | None) -> Received:
    if writer.size == 0:
        writer.abort()
        raise BadRequest(f"The file '{filename or 'upload'}' is empty (0 bytes).", field="file")
    try:
        sniffed = sniff(writer.head)
    except MediastudioError:
        writer.abort()
        raise
    sha = await to_thread.run_sync(writer.commit)
    probed = await to_thread.run_sync(probe, blobs.path(sha), sniffed.category, sniffed.mime)
    return Received(filename, sha, writer.size, sniffed, probed)


async def receive_upload(content_type: str, stream: AsyncIterator[bytes], blobs: BlobStore, limit: int) -> Upload:
    """Parse a multipart body as it arrives: `file` fields stream into blobs, small fields are kept."""
    boundary = next((p.split("=", 1)[1].strip('"') for p in content_type.split(";")
                     if p.strip().startswith("boundary=")), None)
    if not content_type.startswith("multipart/form-data") or not boundary:
        raise BadRequest("Upload files as multipart/form-data in the field 'file'.", field="file")
    upload, writer, segment, text = Upload(), None, None, b""
    try:
        with PushMultipartParser(boundary, max_segment_count=1000) as parser:
            async for chunk in stream:
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment, text = event, b""
                        writer = blobs.writer(limit) if event.name == "file" else None
                    elif event is None:
                        if writer is not None:
                            upload.files.append(await _finish(blobs, writer, segment.filename))  # type: ignore[union-attr]
                            writer = None
                        elif segment is not None:
                            upload.fields[segment.name or ""] = text.decode("utf-8", "replace")
                    elif writer is not None:
                        writer.write(event)
                    elif len(text) + len(event) <= MAX_FIELD_BYTES:
                        text += event
            for _ in parser.parse(b""):
                pass
    except OverflowError:
        raise _too_large(limit) from None
    except ParserError as exc:
        raise BadRequest(f"The upload was cut off or is not valid multipart ({exc}).",
                         hint="Try the upload again.") from None
    finally:
        if writer is not None:
            writer.abort()
    if not upload.files:
        raise BadRequest("The upload holds no file.", hint="Send each file in a multipart field named 'file'.",
                         field="file")
    return upload
