"""Content-addressed blob store: data_dir/blobs/sha256/ab/cd/<sha256>. Writes are atomic."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root / "sha256"

    def path(self, sha256: str) -> Path:
        if not SHA256.match(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if not self.has(sha):
            tmp = self.root / f".incoming-{os.getpid()}-{sha}"
            tmp.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            self.adopt(tmp, sha)
        return sha

    def adopt(self, file: Path, sha256: str) -> None:
        """Move a file whose content hash is `sha256` into the store (fsynced, atomic)."""
        target = self.path(sha256)
        if target.is_file():
            file.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        with file.open("rb") as handle:
            os.fsync(handle.fileno())
        try:
            os.replace(file, target)
        except OSError:  # another filesystem: copy then rename
            tmp = target.with_name(f".{sha256}.tmp")
            shutil.copyfile(file, tmp)
            os.replace(tmp, target)
            file.unlink(missing_ok=True)
