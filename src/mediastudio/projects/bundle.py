"""The portable project file, `.msproj`: a zip holding a manifest, a git bundle of the whole history
and every media blob any commit references. Import refuses anything corrupted, oversized or malicious
(path traversal, symlinks, zip bombs, lying sizes) and leaves nothing behind."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from mediastudio import __version__
from mediastudio.errors import BadRequest
from mediastudio.media.blobs import SHA256, BlobStore
from mediastudio.projects.repo import ProjectRepo

FORMAT = "mediastudio-project"
FORMAT_VERSION = 1
MAX_ENTRIES = 100_000
MAX_RATIO = 200  # uncompressed / compressed, for entries over 1 MiB
CHUNK = 1 << 20


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
        except (ValueError, AttributeError):
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


def _refuse(message: str, hint: str | None = None) -> BadRequest:
    return BadRequest(f"This file cannot be imported: {message}",
                      hint=hint or "Export the project again with Mediastudio and import that file.")


def _check_entries(archive: zipfile.ZipFile, max_bytes: int) -> dict[str, Any]:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise _refuse(f"it holds {len(infos)} entries (at most {MAX_ENTRIES}).")
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.split("/") or "\\" in name or ":" in name:
            raise _refuse(f"the entry '{name}' points outside the project.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(f"the entry '{name}' is a symbolic link.")
        if name not in ("manifest.json", "repo.bundle") and not (
                name.startswith("blobs/") and SHA256.match(name.removeprefix("blobs/"))):
            raise _refuse(f"the entry '{name}' does not belong in a project file.")
        if info.file_size > CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _refuse(f"the entry '{name}' expands suspiciously (a zip bomb?).")
        total += info.file_size
        if total > max_bytes:
            raise _refuse(f"it expands to more than {max_bytes // (1 << 20)} MiB.",
                          hint="Raise MEDIASTUDIO_IMPORT_MAX_BYTES if this project really is that large.")
    try:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    except KeyError:
        raise _refuse("it has no manifest.json (is it a .msproj file?).") from None
    except ValueError:
        raise _refuse("its manifest.json is not valid JSON.") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse("it is not a Mediastudio project file of a version this server reads.")
    listed, present = set(manifest.get("entries", {})), {i.filename for i in infos} - {"manifest.json"}
    if "repo.bundle" not in listed or listed != present:
        raise _refuse("its manifest does not match its contents.")
    return manifest


def _extract(archive: zipfile.ZipFile, name: str, expected: dict[str, Any], target: Path) -> None:
    """Copy one entry out, refusing it when it is longer than declared or its checksum is wrong."""
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as source, target.open("wb") as sink:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > int(expected.get("size", -1)):
                raise _refuse(f"the entry '{name}' is larger than its manifest says.")
            digest.update(chunk)
            sink.write(chunk)
    if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
        raise _refuse(f"the entry '{name}' is damaged (checksum mismatch).")


def import_bundle(source: BinaryIO | Path, staging_root: Path, blobs: BlobStore, max_bytes: int) -> tuple[Path, str]:
    """Unpack and verify a .msproj into a new folder under `staging_root`; returns (folder, name).
    The caller moves the folder into place. On any error nothing is left behind."""
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=staging_root, prefix="import-"))
    try:
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError):
            raise _refuse("it is not a zip archive (a .msproj file is one).") from None
        with archive:
            manifest = _check_entries(archive, max_bytes)
            unpacked = staging / "unpacked"
            (unpacked / "blobs").mkdir(parents=True)
            for name, expected in manifest["entries"].items():
                _extract(archive, name, expected, unpacked / name)
        project = staging / "project"
        try:
            ProjectRepo.clone_bundle(unpacked / "repo.bundle", project)
            ProjectRepo(project).fsck()
            json.loads((project / "project.json").read_text(encoding="utf-8"))["name"]
        except Exception as exc:
            raise _refuse(f"its history is damaged ({str(exc).splitlines()[0][:200]}).") from None
        for blob in (unpacked / "blobs").iterdir():
            if _sha256_file(blob) != blob.name:
                raise _refuse(f"the media file {blob.name[:12]}… is damaged.")
        for blob in (unpacked / "blobs").iterdir():
            blobs.adopt(blob, blob.name)
        shutil.rmtree(unpacked)
        return project, str(manifest.get("project", {}).get("name") or "Imported project")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
