"""Content-addressed blob store: data_dir/blobs/sha256/ab/cd/<sha256>.

Bytes are hashed while they stream into a temporary file, which is fsynced and renamed into place:
identical bytes are stored once, a crash never leaves a half blob under a real name.

A blob's mtime is the last time anyone stored its bytes (storing existing bytes touches it): a request that
created a blob and then failed removes it only when nobody stored or indexed the same bytes since.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from litestar.di import NamedDependency

from mediastudio.storage.sniff import HEAD_BYTES

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobWriter:
    """Receives one blob's bytes in chunks; `commit()` moves it into the store."""

    def __init__(self, store: BlobStore, limit: int | None = None) -> None:
        self.store = store
        self.limit = limit
        self.size = 0
        self.head = b""
        self._digest = hashlib.sha256()
        self.created: int | None = None  # the blob's mtime (ns) when this writer put new bytes in the store
        store.incoming.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=store.incoming, prefix="upload-")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        store.writing(self.path, True)

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            raise OverflowError(self.size)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self._digest.update(chunk)
        self._file.write(chunk)

    def seal(self) -> str:
        """Flush and close the file (it can be examined at `path` before it enters the store); its sha256."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        return self._digest.hexdigest()

    def commit(self) -> str:
        sha = self.seal()
        try:
            self.created = self.store.adopt(self.path, sha, synced=True)
        finally:
            self.store.writing(self.path, False)
        return sha

    def abort(self) -> None:
        try:
            if not self._file.closed:
                self._file.close()  # flushes what is buffered: fails again on a full disk
        except OSError:
            pass  # the bytes are thrown away anyway
        finally:
            self.path.unlink(missing_ok=True)
            self.store.writing(self.path, False)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root / "sha256"
        self.incoming = root / "incoming"
        self.open_files: set[Path] = set()  # temporary files of this process's writers (a sweep spares them)
        self._lock = threading.Lock()

    def writing(self, path: Path, busy: bool) -> None:
        with self._lock:
            (self.open_files.add if busy else self.open_files.discard)(path)

    def path(self, sha256: str) -> Path:
        if not SHA256.match(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def writer(self, limit: int | None = None) -> BlobWriter:
        return BlobWriter(self, limit)

    def put_bytes(self, data: bytes) -> str:
        return self.store_bytes(data)[0]

    def store_bytes(self, data: bytes) -> tuple[str, int | None]:
        """(sha256, the new blob's mtime — None when the bytes were stored already).

        Bytes the store holds already only touch their blob (as `adopt` does): no temporary copy is written and
        fsynced to be thrown away (a run's result, whose PNG the node cache stored a moment before)."""
        sha = hashlib.sha256(data).hexdigest()
        try:
            os.utime(self.path(sha))
            return sha, None
        except FileNotFoundError:  # new bytes (or discarded this instant by a failed request): stored below
            pass
        writer = self.writer()
        try:
            writer.write(data)
            return writer.commit(), writer.created
        except BaseException:
            writer.abort()
            raise

    def adopt(self, file: Path, sha256: str, synced: bool = False) -> int | None:
        """Move a file whose content hash is `sha256` into the store (atomic; the first copy wins).
        Returns the new blob's mtime (ns) when this call created it, None when the bytes were there already.
        `synced`: the caller fsynced the file already (a `BlobWriter` seals its file so), it is not done again."""
        target = self.path(sha256)
        if target.is_file():
            try:
                os.utime(target)  # stored again: a request that created it and failed must keep it now
            except FileNotFoundError:  # discarded this instant by such a request: store this copy after all
                return self.adopt_fresh(file, sha256, synced)
            file.unlink(missing_ok=True)
            return None
        return self.adopt_fresh(file, sha256, synced)

    def adopt_fresh(self, file: Path, sha256: str, synced: bool = False) -> int:
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not synced:
            with file.open("rb") as handle:
                os.fsync(handle.fileno())
        try:
            os.replace(file, target)
        except OSError:  # another filesystem: copy next to the target, then rename
            tmp = target.with_name(f".{sha256}.tmp")
            shutil.copyfile(file, tmp)
            os.replace(tmp, target)
            file.unlink(missing_ok=True)
        return target.stat().st_mtime_ns

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

    def discard(self, sha256: str, created: int, in_use: Callable[[str], bool]) -> bool:
        """Remove a blob a failed request created (`created`: its mtime then), unless someone stored the
        same bytes since (the mtime moved) or `in_use` says an asset names it. The blob is first moved
        aside atomically, so a writer storing the same bytes meanwhile makes a fresh copy instead."""
        target = self.path(sha256)
        aside = self.incoming / f"discard-{sha256}-{uuid.uuid4().hex[:8]}"
        self.writing(aside, True)  # a sweep of incoming spares it
        try:
            os.replace(target, aside)
        except FileNotFoundError:
            self.writing(aside, False)
            return False
        unused = False
        try:
            unused = aside.stat().st_mtime_ns == created and not in_use(sha256)
        finally:
            if unused:
                aside.unlink()
            else:  # put back (identical bytes: replacing a fresh copy stored meanwhile is harmless)
                os.replace(aside, target)
            self.writing(aside, False)
        return unused


BlobsDep = NamedDependency[BlobStore]
