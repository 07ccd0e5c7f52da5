"""Streaming multipart uploads: every file goes straight to the blob store in constant memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from anyio import to_thread
from multipart import ParserError, ParserLimitReached

from mediastudio import bodies
from mediastudio.errors import BadRequest, MediastudioError, Unprocessable
from mediastudio.media.probe import Probe, probe
from mediastudio.media.quota import Budget
from mediastudio.storage.blobs import BlobStore, BlobWriter
from mediastudio.storage.sniff import HEAD_BYTES, Sniffed, sniff

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
    created: list[tuple[str, int]] = field(default_factory=list)  # (sha256, mtime) of blobs new to the store
    stored: int = 0  # file bytes received so far


def _too_large(limit: int) -> PayloadTooLarge:
    size = f"{limit / 1024**3:.1f} GiB" if limit >= 1024**3 else f"{limit / 1024**2:.0f} MiB"
    return PayloadTooLarge(f"The file is larger than this server accepts ({size} per file).",
                           hint="Ask the administrator to raise MEDIASTUDIO_UPLOAD_MAX_BYTES.", limit=limit)


def _header_too_long(exc: ParserLimitReached) -> BadRequest:
    return BadRequest(f"A part of the upload breaks this server's multipart limits ({exc}).",
                      hint="Shorten the file name (a part's headers may hold "
                           f"{bodies.MAX_HEADER_BYTES} bytes) and send at most 1000 parts.", field="file")


async def _finish(blobs: BlobStore, writer: BlobWriter, filename: str | None, upload: Upload,
                  max_pixels: int) -> None:
    """Check the file where it was received (sniffed, probed: a refused picture never enters the store),
    then move it into the store."""
    try:
        if writer.size == 0:
            raise Unprocessable(f"The file '{filename or 'upload'}' is empty (0 bytes).", field="file",
                                hint="Pick the file again: an empty one holds no media.")
        sniffed = sniff(writer.head)
        await to_thread.run_sync(writer.seal)
        probed = await to_thread.run_sync(lambda: probe(writer.path, sniffed.category, sniffed.mime,
                                                        max_pixels=max_pixels))
        sha = await to_thread.run_sync(writer.commit)
    except BaseException:
        writer.abort()
        raise
    if writer.created is not None:
        upload.created.append((sha, writer.created))
    upload.files.append(Received(filename, sha, writer.size, sniffed, probed))


def _write(writer: BlobWriter, chunk: bytes, upload: Upload, room: Budget | None) -> None:
    upload.stored += len(chunk)
    remaining = room.remaining if room is not None else None
    if room is not None and remaining is not None and upload.stored > remaining:
        raise room.refusal(upload.stored, "more than ")  # while streaming, before the bytes are kept
    sniffed_before = len(writer.head) >= HEAD_BYTES
    writer.write(chunk)
    if not sniffed_before and len(writer.head) >= HEAD_BYTES:
        sniff(writer.head)  # a refused type is refused from its first bytes, not after the whole body arrived


async def receive_upload(content_type: str, stream: AsyncIterator[bytes], blobs: BlobStore, upload: Upload, *,
                         limit: int, max_pixels: int, room: Budget | None = None) -> Upload:
    """Parse a multipart body as it arrives (bodies.py): `file` fields stream into blobs, small fields are kept.

    `upload` fills as it goes: on an error the caller still knows which blobs this request created."""
    boundary = bodies.boundary(content_type)
    if boundary is None:
        raise BadRequest("Upload files as multipart/form-data in the field 'file'.", field="file")
    writer, part, text = None, None, b""
    try:
        async for event in bodies.parts(boundary, stream, max_parts=1000):
            if isinstance(event, bodies.Part):
                part, text = event, b""
                writer = blobs.writer(limit) if event.name == "file" else None
            elif event is bodies.PART_END:
                if writer is not None:
                    done, writer = writer, None
                    await _finish(blobs, done, part.filename if part else None, upload, max_pixels)
                elif part is not None:
                    upload.fields[part.name] = text.decode("utf-8", "replace")
            elif writer is not None:
                _write(writer, event, upload, room)
            elif len(text) + len(event) <= MAX_FIELD_BYTES:
                text += event
    except OverflowError:
        raise _too_large(limit) from None
    except ParserLimitReached as exc:
        raise _header_too_long(exc) from None
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
