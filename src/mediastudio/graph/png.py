"""Text chunks of a PNG file: written into every generated picture (its graph, its prompt), read back from a
picture dropped on the canvas. Only the chunk layer of the format, in plain bytes: no decoder sees the file.

Reading is bounded (a dropped file is hostile): chunks are walked by their declared lengths without reading past
the end, at most `MAX_CHUNKS` of them; a text chunk we are asked for may hold at most `limit` bytes, compressed
ones are inflated to at most that, and a chunk whose CRC does not match is refused.
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNKS = 10_000
_TEXT_KINDS = (b"tEXt", b"zTXt", b"iTXt")


class PngTextError(ValueError):
    """The file is not a PNG, or a text chunk asked for is damaged or larger than allowed (a sentence for people)."""


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def text_chunk(keyword: str, text: str) -> bytes:
    """A tEXt chunk when `text` is Latin-1 (what most tools read), else an uncompressed UTF-8 iTXt chunk."""
    key = keyword.encode("latin-1")
    try:
        return _chunk(b"tEXt", key + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        return _chunk(b"iTXt", key + b"\0\0\0\0\0" + text.encode("utf-8"))


def with_text(png: bytes, texts: dict[str, str]) -> bytes:
    """`png` with a text chunk per entry of `texts` placed right after its header chunk (IHDR), where readers that
    stop early still find them; chunks of the same keywords it held are left out. Not a PNG: unchanged."""
    if not png.startswith(SIGNATURE) or len(png) < 33:
        return png
    header_end = len(SIGNATURE) + 8 + struct.unpack(">I", png[8:12])[0] + 4
    kept, offset = [], header_end
    keywords = {key.encode("latin-1") for key in texts}
    while offset + 12 <= len(png):
        length = struct.unpack(">I", png[offset:offset + 4])[0]
        kind, end = png[offset + 4:offset + 8], offset + 12 + length
        if not (kind in _TEXT_KINDS and png[offset + 8:end].split(b"\0", 1)[0] in keywords):
            kept.append(png[offset:end])
        offset = end
    added = b"".join(text_chunk(key, value) for key, value in texts.items())
    return png[:header_end] + added + b"".join(kept)


def _inflate(data: bytes, limit: int, keyword: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise PngTextError(f"The picture's '{keyword}' text is damaged (it does not inflate).") from exc
    if len(out) > limit:
        raise PngTextError(f"The picture's '{keyword}' text is larger than {limit // 1024} KB.")
    return out


def _text_of(kind: bytes, body: bytes, limit: int) -> tuple[str, str] | None:
    key, _, rest = body.partition(b"\0")
    keyword = key.decode("latin-1")
    if kind == b"tEXt":
        return keyword, rest.decode("latin-1")
    if kind == b"zTXt":
        return keyword, _inflate(rest[1:], limit, keyword).decode("latin-1")
    if len(rest) < 2:
        return None
    compressed, rest = rest[0] == 1, rest[2:]
    _language, _, rest = rest.partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    data = _inflate(text, limit, keyword) if compressed else text
    try:
        return keyword, data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PngTextError(f"The picture's '{keyword}' text is not UTF-8.") from exc


def read_text(png: bytes, keywords: set[str], limit: int) -> dict[str, str]:
    """The text chunks of `png` named by `keywords` (the first of each), each at most `limit` bytes."""
    if not png.startswith(SIGNATURE):
        raise PngTextError("This file is not a PNG picture.")
    found: dict[str, str] = {}
    offset = len(SIGNATURE)
    for _ in range(MAX_CHUNKS):
        if offset + 12 > len(png):
            break
        length = struct.unpack(">I", png[offset:offset + 4])[0]
        kind, end = png[offset + 4:offset + 8], offset + 12 + length
        if end > len(png):
            raise PngTextError("The picture is cut short (a chunk runs past its end).")
        if kind == b"IEND":
            break
        if kind in _TEXT_KINDS:
            key = png[offset + 8:offset + 8 + min(length, 80)].split(b"\0", 1)[0].decode("latin-1")
            if key in keywords and key not in found:
                if length > limit + 200:
                    raise PngTextError(f"The picture's '{key}' text is larger than {limit // 1024} KB.")
                body = png[offset + 8:end - 4]
                if zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", png[end - 4:end])[0]:
                    raise PngTextError(f"The picture's '{key}' text is damaged (its checksum does not match).")
                text = _text_of(kind, body, limit)
                if text is not None:
                    found[text[0]] = text[1]
        offset = end
    return found
