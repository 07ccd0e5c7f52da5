"""A PDF of pictures, one per page, written as it goes: each page is a JPEG placed over the whole page (PDF reads
JPEG as it is, `DCTDecode`), so a long sheet never holds more than one page in memory."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from PIL import Image

A4_LANDSCAPE = (842, 595)  # points


def _text(value: str) -> bytes:
    """A PDF text string (UTF-16, hex), safe for any characters."""
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode() + b">"


class PdfWriter:
    """Add pages with `page(image)`, then `close()`; objects 1 (catalog), 2 (pages) and 3 (info) are written
    last, their places kept in the cross-reference table like every other object."""

    def __init__(self, path: Path, title: str) -> None:
        self._out: BinaryIO = path.open("wb")
        self._offsets: dict[int, int] = {}
        self._pages: list[int] = []
        self._next = 4
        self._title = title
        self._out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _object(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        self._offsets[number] = self._out.tell()
        self._out.write(f"{number} 0 obj\n".encode() + body)
        if stream is not None:
            self._out.write(b"\nstream\n" + stream + b"\nendstream")
        self._out.write(b"\nendobj\n")

    def page(self, image: Image.Image, quality: int = 90) -> None:
        picture = io.BytesIO()
        image.convert("RGB").save(picture, "JPEG", quality=quality, optimize=True)
        jpeg = picture.getvalue()
        number, self._next = self._next, self._next + 3
        width, height = A4_LANDSCAPE
        self._object(number + 1, (f"<< /Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
                                  f"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode "
                                  f"/Length {len(jpeg)} >>").encode(), jpeg)
        draw = f"q {width} 0 0 {height} 0 0 cm /Im0 Do Q".encode()
        self._object(number + 2, f"<< /Length {len(draw)} >>".encode(), draw)
        self._object(number, (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
                              f"/Resources << /XObject << /Im0 {number + 1} 0 R >> >> "
                              f"/Contents {number + 2} 0 R >>").encode())
        self._pages.append(number)

    def close(self) -> None:
        kids = " ".join(f"{n} 0 R" for n in self._pages)
        self._object(2, f"<< /Type /Pages /Kids [{kids}] /Count {len(self._pages)} >>".encode())
        self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        self._object(3, b"<< /Title " + _text(self._title) + b" /Producer " + _text("Mediastudio") + b" >>")
        table = self._out.tell()
        count = self._next
        lines = [b"xref\n", f"0 {count}\n".encode(), b"0000000000 65535 f \n"]
        lines += [f"{self._offsets.get(n, 0):010d} 00000 n \n".encode() for n in range(1, count)]
        self._out.write(b"".join(lines))
        self._out.write(f"trailer\n<< /Size {count} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{table}\n%%EOF\n"
                        .encode())
        self._out.close()

    def abandon(self) -> None:
        self._out.close()
