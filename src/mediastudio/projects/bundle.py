"""The portable project file, `.msproj`: a zip holding a manifest, a git bundle of the whole history
and every media blob any commit references. Import refuses anything corrupted, oversized or malicious
(path traversal, symlinks, zip bombs, lying sizes — projects/archive.py; local clones, gitfiles, links
and stray files in the history — projects/unbundle.py; media that is not media, or that the file does
not carry — here) and leaves nothing behind."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from mediastudio import __version__
from mediastudio.projects.archive import CHUNK, FORMAT, FORMAT_VERSION, refuse, unpack
from mediastudio.projects.repo import ProjectRepo
from mediastudio.projects.unbundle import UnsafeHistory
from mediastudio.storage.blobs import SHA256, BlobStore
from mediastudio.storage.sniff import HEAD_BYTES, UnsupportedMedia, sniff

NAME_MAX = 120  # as projects/service.py's
TAG_MAX = 32


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def referenced_blobs(repo: ProjectRepo) -> set[str]:
    """sha256 of every media blob that any version of any asset file names."""
    shas = set()
    for data in repo.every_version_of("assets/"):
        try:
            value = json.loads(data).get("sha256")
        except (ValueError, AttributeError, RecursionError):
            continue
        if isinstance(value, str) and SHA256.match(value):
            shas.add(value)
    return shas


def export_bundle(folder: Path, blobs: BlobStore, target: Path, project_name: str) -> Path:
    """Write the project at `folder` as a .msproj file at `target`."""
    repo = ProjectRepo(folder)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        bundle = Path(tmp) / "repo.bundle"
        repo.bundle(bundle)
        entries = {"repo.bundle": bundle}
        for sha in sorted(referenced_blobs(repo)):
            if blobs.has(sha):
                entries[f"blobs/{sha}"] = blobs.path(sha)
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "mediastudio": __version__,
            "exported_at": datetime.now(UTC).isoformat(), "project": {"name": project_name},
            "entries": {name: {"sha256": _sha256_file(path), "size": path.stat().st_size}
                        for name, path in entries.items()},
        }
        partial = target.with_name(f".{target.name}.partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True),
                             compress_type=zipfile.ZIP_DEFLATED)
            for name, path in entries.items():
                archive.write(path, name)
        partial.replace(target)
    return target


class _Meta(BaseModel):
    """What project.json must look like for the index (sync_index) to take it."""

    model_config = ConfigDict(strict=True, extra="allow")
    name: str = Field(min_length=1, max_length=NAME_MAX)
    description: str | None = Field(None, max_length=10_000)
    tags: list[Annotated[str, Field(max_length=TAG_MAX)]] | None = Field(None, max_length=20)
    settings: dict[str, Any] | None = None
    cover_asset_id: str | None = Field(None, max_length=64)
    archived: bool | None = None
    template: str | None = Field(None, max_length=64)
    created_by: str | None = Field(None, max_length=64)
    created_at: str | None = Field(None, max_length=64)


def _check_meta(project: Path) -> str:
    try:
        return _Meta.model_validate(json.loads((project / "project.json").read_bytes())).name
    except (OSError, ValueError, RecursionError):  # missing, not JSON, or not the shape of a project.json
        raise refuse("its project.json is missing or damaged.") from None


def _sniffed_blobs(repo: ProjectRepo, unpacked: Path) -> list[Path]:
    """The shipped media every version of every asset names: all must be there, and all must be media
    the studio accepts (sniffed like an upload). Shipped files no asset names are left out."""
    try:
        wanted = referenced_blobs(repo)
    except Exception:  # a damaged object that fsck let through
        raise refuse("its history is damaged (an asset file cannot be read).") from None
    missing = [sha for sha in wanted if not (unpacked / "blobs" / sha).is_file()]
    if missing:
        raise refuse(f"its assets name {len(missing)} media file(s) it does not hold ({missing[0][:12]}…).")
    files = [unpacked / "blobs" / sha for sha in sorted(wanted)]
    for file in files:
        with file.open("rb") as handle:
            try:
                sniff(handle.read(HEAD_BYTES))
            except UnsupportedMedia:
                raise refuse(f"the media file {file.name[:12]}… is not a kind of media the studio accepts.",
                             hint="Only images, video, audio, models (.safetensors) and PDFs can be imported."
                             ) from None
    return files


def import_bundle(source: BinaryIO | Path, staging_root: Path, blobs: BlobStore, max_bytes: int,
                  max_blobs: int = 10_000) -> tuple[Path, str]:
    """Unpack and verify a .msproj into a new folder under `staging_root`; returns (folder, name).
    The caller moves the folder into place. On any error nothing is left behind and no blob is adopted."""
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=staging_root, prefix="import-"))
    try:
        unpacked, project = staging / "unpacked", staging / "project"
        unpack(source, unpacked, max_bytes, max_blobs)
        try:
            repo = ProjectRepo.from_bundle(unpacked / "repo.bundle", project)
        except UnsafeHistory as exc:
            raise refuse(str(exc)) from None
        name = _check_meta(project)
        for blob in _sniffed_blobs(repo, unpacked):
            blobs.adopt(blob, blob.name)
        shutil.rmtree(unpacked)
        return project, name
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
