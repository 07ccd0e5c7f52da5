"""The zip layer of a .msproj import: entries, manifest, sizes, checksums — everything before git.

Every way a zip can be broken or hostile becomes a `BadRequest` (400) with a message a person can act
on: not a zip, corrupt deflate data, bad CRC, encrypted or oddly compressed entries, duplicate or
foreign names, symbolic links, a manifest of the wrong shape, sizes that lie, too many entries or media
files, too many bytes once expanded (counted from the manifest's sizes, each entry cut off as soon as it
passes its declared size).
"""

from __future__ import annotations

import errno
import hashlib
import json
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediastudio.errors import BadRequest
from mediastudio.storage.blobs import SHA256

FORMAT = "mediastudio-project"
FORMAT_VERSION = 1
MAX_ENTRIES = 100_000
MAX_RATIO = 200  # uncompressed / compressed, for single entries over 1 MiB
MAX_TOTAL_RATIO = 20  # the whole archive: exports store media as is, so they barely shrink
MAX_MANIFEST = 16 << 20
CHUNK = 1 << 20
# What a damaged or hostile zip raises from the standard library (besides BadRequest from our checks).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, ValueError,
              struct.error, OverflowError, KeyError, IndexError, OSError)


class Entry(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class ProjectInfo(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    name: str | None = Field(None, max_length=1000)


class Manifest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    format: str
    format_version: int
    entries: dict[str, Entry]
    project: ProjectInfo = ProjectInfo()


class _Version(BaseModel):
    """Read first, so a file of another format or version says so instead of 'wrong shape'."""

    model_config = ConfigDict(extra="ignore")
    format: Literal["mediastudio-project"]
    format_version: Literal[1]


def refuse(message: str, hint: str | None = None) -> BadRequest:
    return BadRequest(f"This file cannot be imported: {message}",
                      hint=hint or "Export the project again with Mediastudio and import that file.")


def _too_big(max_bytes: int) -> BadRequest:
    return refuse(f"it expands to more than {max_bytes // (1 << 20)} MiB.",
                  hint="Raise MEDIASTUDIO_IMPORT_MAX_BYTES if this project really is that large.")


@contextmanager
def reading_zip() -> Iterator[None]:
    """Turn whatever a broken zip raises into a 400; our own disk running full stays a server error."""
    try:
        yield
    except BadRequest:
        raise
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise refuse("it is damaged (the zip archive cannot be read).") from None
    except ZIP_ERRORS:
        raise refuse("it is damaged (the zip archive cannot be read).") from None


def source_size(source: BinaryIO | Path) -> int:
    if isinstance(source, Path):
        return source.stat().st_size
    here = source.tell()
    end = source.seek(0, 2)
    source.seek(here)
    return end


def _check_name(info: zipfile.ZipInfo) -> None:
    name = info.filename
    if name.startswith(("/", "\\")) or ".." in name.split("/") or "\\" in name or ":" in name:
        raise refuse(f"the entry '{name[:100]}' points outside the project.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise refuse(f"the entry '{name[:100]}' is a symbolic link.")
    if name not in ("manifest.json", "repo.bundle") and not (
            name.startswith("blobs/") and SHA256.match(name.removeprefix("blobs/"))):
        raise refuse(f"the entry '{name[:100]}' does not belong in a project file.")
    if info.flag_bits & 0x1:
        raise refuse(f"the entry '{name[:100]}' is encrypted.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise refuse(f"the entry '{name[:100]}' uses a compression this server does not read.")
    if info.file_size > CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise refuse(f"the entry '{name[:100]}' expands suspiciously (a zip bomb?).")


def _check_infos(infos: list[zipfile.ZipInfo], max_bytes: int, max_blobs: int) -> None:
    if len(infos) > MAX_ENTRIES:
        raise refuse(f"it holds {len(infos)} entries (at most {MAX_ENTRIES}).")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise refuse("it holds the same entry twice.")
    for info in infos:
        _check_name(info)
    blobs = sum(name.startswith("blobs/") for name in names)
    if blobs > max_blobs:
        raise refuse(f"it holds {blobs} media files (at most {max_blobs}).",
                     hint="Raise MEDIASTUDIO_IMPORT_MAX_BLOBS if this project really holds that many.")
    total, packed = sum(i.file_size for i in infos), sum(i.compress_size for i in infos)
    if total > max_bytes:
        raise _too_big(max_bytes)
    if total > CHUNK and total > MAX_TOTAL_RATIO * max(packed, 1):
        raise refuse("it expands suspiciously (a zip bomb?).")


def _read_manifest(archive: zipfile.ZipFile) -> Manifest:
    try:
        info = archive.getinfo("manifest.json")
    except KeyError:
        raise refuse("it has no manifest.json (is it a .msproj file?).") from None
    if info.file_size > MAX_MANIFEST:
        raise refuse("its manifest.json is too large.")
    with archive.open(info) as handle:
        raw = handle.read(MAX_MANIFEST + 1)
    try:
        value: Any = json.loads(raw)
        _Version.model_validate(value)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, ValidationError):
            raise refuse("it is not a Mediastudio project file of a version this server reads.") from None
        raise refuse("its manifest.json is not valid JSON.") from None
    try:
        return Manifest.model_validate(value)
    except ValidationError:
        raise refuse("its manifest.json does not describe its entries the way a project file does.") from None


def check(archive: zipfile.ZipFile, max_bytes: int, max_blobs: int) -> Manifest:
    """Every check that needs no unpacking; returns the manifest, which matches the entries one to one."""
    infos = archive.infolist()
    _check_infos(infos, max_bytes, max_blobs)
    manifest = _read_manifest(archive)
    sizes = {info.filename: info.file_size for info in infos if info.filename != "manifest.json"}
    if "repo.bundle" not in manifest.entries or set(manifest.entries) != set(sizes):
        raise refuse("its manifest does not match its contents.")
    for name, entry in manifest.entries.items():
        if entry.size != sizes[name] or (name.startswith("blobs/") and entry.sha256 != name.removeprefix("blobs/")):
            raise refuse(f"the entry '{name[:100]}' is not what its manifest says.")
    if sum(entry.size for entry in manifest.entries.values()) > max_bytes:
        raise _too_big(max_bytes)
    return manifest


def extract(archive: zipfile.ZipFile, name: str, expected: Entry, target: Path) -> None:
    """Copy one entry out, cut off as soon as it is longer than declared; its checksum must match."""
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as source, target.open("wb") as sink:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > expected.size:
                raise refuse(f"the entry '{name[:100]}' is larger than its manifest says.")
            digest.update(chunk)
            sink.write(chunk)
    if size != expected.size or digest.hexdigest() != expected.sha256:
        raise refuse(f"the entry '{name[:100]}' is damaged (checksum mismatch).")


def unpack(source: BinaryIO | Path, target: Path, max_bytes: int, max_blobs: int) -> Manifest:
    """Check the archive and unpack its entries into `target` (repo.bundle, blobs/<sha256>)."""
    if source_size(source) > max_bytes:
        raise refuse(f"it is larger than {max_bytes // (1 << 20)} MiB.",
                     hint="Raise MEDIASTUDIO_IMPORT_MAX_BYTES if this project really is that large.")
    with reading_zip():
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
            raise refuse("it is not a zip archive (a .msproj file is one).") from None
        with archive:
            manifest = check(archive, max_bytes, max_blobs)
            (target / "blobs").mkdir(parents=True)
            for name, expected in manifest.entries.items():
                extract(archive, name, expected, target / name)
    return manifest
