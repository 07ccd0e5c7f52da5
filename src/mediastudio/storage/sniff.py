"""What a file really is, from its first bytes — never from its name."""

from __future__ import annotations

from dataclasses import dataclass

from mediastudio.errors import MediastudioError

HEAD_BYTES = 64


class UnsupportedMedia(MediastudioError):
    status = 415
    title = "Unsupported media"


@dataclass(frozen=True)
class Sniffed:
    mime: str
    category: str  # image | video | audio | model | reference
    extension: str


def _riff(head: bytes) -> Sniffed | None:
    kind = head[8:12]
    return {b"WEBP": Sniffed("image/webp", "image", "webp"), b"WAVE": Sniffed("audio/wav", "audio", "wav"),
            b"AVI ": Sniffed("video/x-msvideo", "video", "avi")}.get(kind)


def _iso_media(head: bytes) -> Sniffed:
    brand = head[8:12]
    if brand in (b"qt  ",):
        return Sniffed("video/quicktime", "video", "mov")
    if brand in (b"M4A ", b"M4B "):
        return Sniffed("audio/mp4", "audio", "m4a")
    if brand in (b"avif", b"avis"):
        return Sniffed("image/avif", "image", "avif")
    if brand in (b"heic", b"heix", b"mif1"):
        return Sniffed("image/heic", "image", "heic")
    return Sniffed("video/mp4", "video", "mp4")


SIGNATURES: list[tuple[bytes, Sniffed]] = [
    (b"\x89PNG\r\n\x1a\n", Sniffed("image/png", "image", "png")),
    (b"\xff\xd8\xff", Sniffed("image/jpeg", "image", "jpg")),
    (b"GIF87a", Sniffed("image/gif", "image", "gif")),
    (b"GIF89a", Sniffed("image/gif", "image", "gif")),
    (b"II*\x00", Sniffed("image/tiff", "image", "tif")),
    (b"MM\x00*", Sniffed("image/tiff", "image", "tif")),
    (b"BM", Sniffed("image/bmp", "image", "bmp")),
    (b"\x1aE\xdf\xa3", Sniffed("video/webm", "video", "webm")),
    (b"fLaC", Sniffed("audio/flac", "audio", "flac")),
    (b"OggS", Sniffed("audio/ogg", "audio", "ogg")),
    (b"ID3", Sniffed("audio/mpeg", "audio", "mp3")),
    (b"%PDF-", Sniffed("application/pdf", "reference", "pdf")),
]
PROGRAMS = [(b"MZ", "a Windows program"), (b"\x7fELF", "a Linux program"), (b"\xcf\xfa\xed\xfe", "a macOS program"),
            (b"\xfe\xed\xfa\xcf", "a macOS program"), (b"#!", "a script")]


def sniff(head: bytes) -> Sniffed:
    """The type of a file from its first bytes; refuses programs and what no studio reads."""
    for magic, what in PROGRAMS:
        if head.startswith(magic):
            raise UnsupportedMedia(f"This file is {what}, not media: it was refused whatever its name says.",
                                   hint="Upload images, video, audio, models (.safetensors) or PDFs.")
    for magic, found in SIGNATURES:
        if head.startswith(magic):
            return found
    if head[:4] == b"RIFF" and (riff := _riff(head)):
        return riff
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return Sniffed("audio/mpeg", "audio", "mp3")
    if _is_safetensors(head):
        return Sniffed("application/vnd.safetensors", "model", "safetensors")
    raise UnsupportedMedia("This file's type is not one the studio can use.",
                           hint="Upload images, video, audio, models (.safetensors) or PDFs.")


def _is_safetensors(head: bytes) -> bool:
    if len(head) < 10:
        return False
    header_length = int.from_bytes(head[:8], "little")
    return 0 < header_length < 100_000_000 and head[8:9] == b"{"
