"""The files of a backup folder, stored once each by the sha256 of their bytes: `<dest>/objects/ab/<sha256>`.

Blobs keep their own name (it is already their hash); the database, bundles, logs and other files get theirs
when they are copied in. A file is copied to a temporary name while it is hashed, fsynced, and renamed into place,
so a stopped backup never leaves half an object under a real name, and a second snapshot of the same bytes
copies nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from mediastudio.backups.manifest import BadBackup

CHUNK = 1 << 20
_SHA = re.compile(r"^[0-9a-f]{64}$")


def _hash(source: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class Objects:
    def __init__(self, dest: Path) -> None:
        self.root = dest / "objects"
        self.staging = dest / "tmp"
        self.copied_bytes = 0
        self.copied_files = 0

    def path(self, sha256: str) -> Path:
        if not _SHA.match(sha256):
            raise BadBackup(f"Not a sha256: {sha256[:80]!r}.")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str, size: int) -> bool:
        path = self.path(sha256)
        return not path.is_symlink() and path.is_file() and path.stat().st_size == size

    def scratch(self) -> Path:
        """A fresh temporary file name in the backup folder (for a database copy or a bundle being made)."""
        self.staging.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.staging, prefix="part-")
        os.close(fd)
        return Path(name)

    def put(self, source: Path, expected: str | None = None) -> tuple[str, int]:
        """Copy `source` in (unless its bytes are there already): (sha256, size). `expected`: the sha256 the bytes
        must have (a blob's name); ValueError when they do not. Bytes the folder holds already are only read:
        a second snapshot writes nothing for them."""
        if expected is not None and self.has(expected, source.stat().st_size):
            return expected, source.stat().st_size
        if expected is None:
            sha, size = _hash(source)
            if self.has(sha, size):
                return sha, size
        part = self.scratch()
        digest, size = hashlib.sha256(), 0
        try:
            with source.open("rb") as reader, part.open("wb") as writer:
                while chunk := reader.read(CHUNK):
                    digest.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
                writer.flush()
                os.fsync(writer.fileno())
            sha = digest.hexdigest()  # of the bytes copied (the file may have been replaced since it was hashed)
            if expected is not None and sha != expected:
                raise ValueError(f"{source} no longer holds the bytes its name says (sha256 {sha})")
            if self.has(sha, size):
                return sha, size
            self.path(sha).parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, self.path(sha))
            self.copied_bytes += size
            self.copied_files += 1
            return sha, size
        finally:
            part.unlink(missing_ok=True)

    def copy_out(self, sha256: str, size: int, target: Path) -> None:
        """Write the object to `target` (a new file), reading no more than `size` bytes and checking its sha256:
        `BadBackup` when it is missing, a link, longer or shorter, or other bytes."""
        path = self.path(sha256)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            raise BadBackup(f"The backup lacks the file {sha256[:16]}… (objects/{sha256[:2]}/{sha256}).") from None
        digest, written = hashlib.sha256(), 0
        target.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(fd, "rb") as reader, target.open("xb") as writer:
            while chunk := reader.read(min(CHUNK, size - written + 1)):
                written += len(chunk)
                if written > size:
                    break
                digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        if written != size or digest.hexdigest() != sha256:
            raise BadBackup(f"The backup's file {sha256[:16]}… does not match its checksum: the backup is damaged.")
