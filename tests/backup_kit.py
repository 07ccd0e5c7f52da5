"""A small data folder made without a server (a real database, a real project repository, blobs), its backups,
and a restore into a fresh folder, for the backup tests that need no running studio."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mediastudio.backups.manifest import Manifest, read_manifest
from mediastudio.backups.restore import build, staging_for
from mediastudio.backups.take import Taken, take_backup
from mediastudio.projects.files import write_json
from mediastudio.projects.repo import Author, PendingChange, ProjectRepo
from mediastudio.storage.blobs import BlobStore
from mediastudio.tables import open_database

ANA = Author("Ana", "u_ana")
BOB = Author("Bob", "u_bob")
PROJECT = "workspaces/ws_test/projects/p_test"


@dataclass
class Folder:
    data: Path
    repo: ProjectRepo
    blobs: BlobStore

    def scene(self, scene_id: str, name: str, steps: int = 30) -> Path:
        path = self.repo.path / "scenes" / f"{scene_id}.json"
        write_json(path, {"name": name, "order": 0, "graph": {"nodes": {"generate": {"params": {"steps": steps}}}}})
        return path

    def pending(self, message: str, author: Author, path: Path) -> None:
        """A line of the pending journal, as an answered edit leaves it before its commit window closes."""
        change = PendingChange(message, author, "scene", (path.relative_to(self.repo.path).as_posix(),))
        with (self.repo.path / ".git" / "mediastudio-pending.jsonl").open("ab") as journal:
            journal.write(change.line())


def make_folder(root: Path) -> Folder:
    """A data folder: the database, one project with two commits, one blob."""
    data = root / "data"
    data.mkdir(parents=True)
    open_database(data / "mediastudio.sqlite").close()
    repo = ProjectRepo.init(data / PROJECT)
    write_json(repo.path / "project.json", {"name": "Kit", "description": ""})
    folder = Folder(data, repo, BlobStore(data / "blobs"))
    folder.scene("s_one", "One")
    repo.commit_all("Created the project", ANA, kind="created")
    folder.scene("s_one", "One", steps=35)
    repo.commit_all("Changed steps", BOB, kind="edit")
    folder.blobs.put_bytes(b"a picture's bytes")
    return folder


def backup(folder: Folder, dest: Path) -> Taken:
    return take_backup(folder.data, dest)


def restore(dest: Path, target: Path, name: str | None = None) -> tuple[Manifest, Path]:
    """The snapshot built into a fresh folder beside `target` (the files only: no index rebuilt)."""
    manifest = read_manifest(dest, name)
    staging = staging_for(target)
    build(dest, manifest, staging)
    return manifest, staging


def edit_manifest(dest: Path, change: object) -> Path:
    """Rewrite the latest snapshot's manifest through `change(dict)`; its path."""
    (name,) = [p.name for p in (dest / "snapshots").iterdir()][-1:]
    path = dest / "snapshots" / name / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)  # type: ignore[operator]
    path.write_text(json.dumps(manifest))
    return path
