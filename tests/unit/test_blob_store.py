"""The blob store: bytes stored once under their sha256; storing bytes it holds already writes nothing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from file_audit import opened
from mediastudio.storage.blobs import BlobStore


def test_storing_bytes_the_store_holds_touches_the_blob_and_writes_no_file(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    sha, created = blobs.store_bytes(b"a picture's bytes")
    assert created is not None and blobs.path(sha).read_bytes() == b"a picture's bytes"
    os.utime(blobs.path(sha), ns=(1_000_000_000, 1_000_000_000))

    with opened() as seen:
        again, created_again = blobs.store_bytes(b"a picture's bytes")
    assert (again, created_again) == (sha, None)
    # no temporary copy written (and fsynced) only to be thrown away
    assert [e for e in seen if e.startswith("open ")] == [], seen
    assert blobs.path(sha).stat().st_mtime_ns > 1_000_000_000  # stored again: a failed request must keep it
    assert not list((tmp_path / "blobs" / "incoming").iterdir())


def test_bytes_whose_blob_was_discarded_are_stored_anew(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    sha, created = blobs.store_bytes(b"made by a request that failed")
    assert created is not None
    assert blobs.discard(sha, created, lambda _: False)
    assert not blobs.has(sha)
    again, created_again = blobs.store_bytes(b"made by a request that failed")
    assert again == sha and created_again is not None
    assert blobs.path(sha).read_bytes() == b"made by a request that failed"


def test_new_bytes_are_fsynced_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer's file is fsynced when it is sealed; moving it into the store does not open and fsync it again
    (~0.15 ms a blob here: every upload and every picture a run makes)."""
    blobs = BlobStore(tmp_path / "blobs")
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    sha, created = blobs.store_bytes(b"a new picture's bytes")
    assert created is not None and blobs.path(sha).read_bytes() == b"a new picture's bytes"
    assert len(synced) == 1, synced
    writer = blobs.writer()
    writer.write(b"an upload's bytes")
    assert blobs.path(writer.commit()).read_bytes() == b"an upload's bytes"
    assert len(synced) == 2, synced
    # a file from elsewhere (an imported project's blob) is still fsynced before it enters the store
    outside = tmp_path / "imported"
    outside.write_bytes(b"an imported blob")
    digest = hashlib.sha256(b"an imported blob").hexdigest()
    assert blobs.adopt(outside, digest) is not None
    assert len(synced) == 3 and blobs.path(digest).read_bytes() == b"an imported blob"
