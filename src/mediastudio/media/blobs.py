"""Content-addressed blob store: data_dir/blobs/sha256/ab/cd/<sha256>.

Bytes are hashed while they stream into a temporary file, which is fsynced and renamed into place:
identical bytes are stored once, a crash never leaves a half blob under a real name.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobWriter:
    """Receives one blob's bytes in chunks; `commit()` moves it into the store."""

    def __init__(self, store: BlobStore, limit: int | None = None) -> None:
        self.store = store
        self.limit = limit
        self.size = 0
        self.head = b""
        self._digest = hashlib.sha256()
        store.incoming.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=store.incoming, prefix="upload-")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            raise OverflowError(self.size)
        if len(self.head) < 64:
            self.head += chunk[: 64 - len(self.head)]
        self._digest.update(chunk)
        self._file.write(chunk)

    def commit(self) -> str:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        sha = self._digest.hexdigest()
        self.store.adopt(self.path, sha)
        return sha

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root / "sha256"
        self.incoming = root / "incoming"

    def path(self, sha256: str) -> Path:
        if not SHA256.match(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def writer(self, limit: int | None = None) -> BlobWriter:
        return BlobWriter(self, limit)

    def put_bytes(self, data: bytes) -> str:
        writer = self.writer()
        try:
            writer.write(data)
            return writer.commit()
        except BaseException:
            writer.abort()
            raise

    def adopt(self, file: Path, sha256: str) -> None:
        """Move a file whose content hash is `sha256` into the store (atomic; the first copy wins)."""
        target = self.path(sha256)
        if target.is_file():
            file.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        with file.open("rb") as handle:
            os.fsync(handle.fileno())
        try:
            os.replace(file, target)
        except OSError:  # another filesystem: copy next to the target, then rename
            tmp = target.with_name(f".{sha256}.tmp")
            shutil.copyfile(file, tmp)
            os.replace(tmp, target)
            file.unlink(missing_ok=True)

    def all_hashes(self) -> Iterable[str]:
        for path in self.root.glob("??/??/*"):
            if SHA256.match(path.name):
                yield path.name

    def verify(self, sha256: str) -> bool:
        digest = hashlib.sha256()
        with self.path(sha256).open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest() == sha256

    def remove(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)
