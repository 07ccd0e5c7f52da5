"""Export and import of whole projects, and rebuilding the index from the folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

from sqlmodel import Session, col, select

from mediastudio.auth.tables import User
from mediastudio.comments.files import BadThread, check_folder
from mediastudio.common import new_id, utcnow
from mediastudio.errors import BadRequest, Forbidden
from mediastudio.events.emit import emit
from mediastudio.media.quota import charge_project
from mediastudio.projects import content
from mediastudio.projects.access import project_folder, require
from mediastudio.projects.bundle import export_bundle, import_bundle
from mediastudio.projects.events import ProjectChanged
from mediastudio.projects.files import read_json, write_atomic, write_json
from mediastudio.projects.repo import GITIGNORE, Author, ProjectRepo
from mediastudio.projects.service import sync_index
from mediastudio.projects.tables import Asset, Project
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.workspaces import service as workspaces
from mediastudio.workspaces.roles import ProjectRole, effective_project_role, project_allows
from mediastudio.workspaces.tables import Workspace


def safe_filename(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in " -_." else "_" for c in name).strip(" .") or "project"
    return f"{cleaned[:80]}.msproj"


def export_to_file(db: Session, settings: Settings, blobs: BlobStore, actor: User | None, project_id: str,
                   target_dir: Path) -> Path:
    """Write the project's .msproj into `target_dir`; `actor` None = the shell (no role check)."""
    project = require(db, actor, project_id, "view")[0] if actor else db.get(Project, project_id)
    if project is None:
        from mediastudio.errors import NotFound

        raise NotFound(f"No project '{project_id}'.", hint="mediastudio projects list shows them.")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{project.id}-{utcnow():%Y%m%d%H%M%S}-{safe_filename(project.name)}"
    return export_bundle(project_folder(settings, project), blobs, target, project.name)


def _history_facts(folder: Path) -> tuple[datetime | None, datetime | None, set[str]]:
    commits = ProjectRepo(folder).log(limit=100_000)
    authors = {c.author_id for c in commits if c.author_id}
    return (commits[-1].time if commits else None, commits[0].time if commits else None, authors)


def adopt_folder(db: Session, settings: Settings, folder: Path, workspace_id: str, project_id: str) -> Project:
    """Index a project folder that is already in place."""
    meta = content.read_meta(folder)
    created, updated, authors = _history_facts(folder)
    project = db.get(Project, project_id) or Project(id=project_id, workspace_id=workspace_id,
                                                      name=meta["name"], created_by=meta.get("created_by") or "")
    project.created_at = created or project.created_at
    project.updated_at = updated or project.updated_at
    project.contributors = " ".join(sorted(authors))
    db.add(project)
    db.flush()
    sync_index(db, settings, project)
    from mediastudio.media.assets import index_folder_assets

    index_folder_assets(db, project, folder, BlobStore(settings.data_dir / "blobs"))
    return project


def _taken_asset_ids(db: Session, folder: Path) -> list[str]:
    ids = sorted(p.stem for p in (folder / "assets").glob("*.json") if content.is_id(p.stem))
    taken: list[str] = []
    for start in range(0, len(ids), 500):  # SQLite bounds the variables of one statement
        taken += db.exec(select(Asset.id).where(col(Asset.id).in_(ids[start:start + 500]))).all()
    return taken


def _renamed(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, str):
        return renames.get(value, value)
    if isinstance(value, list):
        return [_renamed(item, renames) for item in value]
    if isinstance(value, dict):
        return {key: _renamed(item, renames) for key, item in value.items()}
    return value


def _renew_taken_ids(folder: Path, taken: list[str]) -> bool:
    """Give the imported assets whose ids another project holds new ids, in every file that names them."""
    renames = {old: new_id("as") for old in taken}
    for old, new in renames.items():
        content.asset_path(folder, old).rename(content.asset_path(folder, new))
    files = [content.meta_path(folder), *(folder / "scenes").glob("*.json"), *(folder / "assets").glob("*.json"),
             *(folder / "comments").glob("*.json")]
    for path in files:
        try:
            value = read_json(path)
            changed = _renamed(value, renames)
            differs = changed != value
        except (ValueError, RecursionError, OSError):
            continue  # not a file the studio reads either (or nested too deep to walk)
        if differs:
            write_json(content.inside(folder, *path.relative_to(folder).parts), changed)
    return bool(renames)


def _check_comments(folder: Path) -> None:
    """The comment threads an archive brings must be threads the studio writes (size, shape, ids)."""
    try:
        check_folder(folder)
    except BadThread as exc:
        raise BadRequest(f"This file cannot be imported: {exc}.",
                         hint="Export the project again from a Mediastudio server.") from None


def _settle(db: Session, folder: Path, actor: User | None, summary: str = "Imported") -> None:
    """Make an imported folder fit this studio, as one commit: asset ids are unique in the whole studio
    (the index never lets one project's file touch another's rows), so ids already taken — the same
    project imported twice, say — are renewed; and the studio's own .gitignore applies."""
    renewed = _renew_taken_ids(folder, _taken_asset_ids(db, folder))
    ignore = folder / ".gitignore"
    if not ignore.is_file() or ignore.read_text(errors="replace") != GITIGNORE:
        write_atomic(content.inside(folder, ".gitignore"), GITIGNORE.encode())
    author = Author(actor.display_name, actor.id) if actor else Author("Mediastudio", "u_system")
    ProjectRepo(folder).commit_all(summary + (": assets whose ids were taken got new ones" if renewed else ""),
                                   author, kind="import")


def import_from(db: Session, settings: Settings, blobs: BlobStore, actor: User | None, source: BinaryIO | Path,
                workspace_id: str | None, *, adjust: Callable[[Path], None] | None = None,
                summary: str = "Imported") -> Project:
    """Recreate a project from a .msproj in a workspace (default: the actor's personal one). `adjust` may change
    the checked folder's files before its first commit here (`summary`, the commit's first line)."""
    if actor is not None:
        if workspace_id is None:
            workspace_id = next(w.id for w, _ in workspaces.list_for_user(db, actor) if w.kind == "personal")
        workspace, role = workspaces.get_for_user(db, actor, workspace_id)
        default_role = cast(ProjectRole, workspace.default_project_role)  # stored as text (no Literal column)
        if not project_allows(effective_project_role(role, default_role), "edit"):
            raise Forbidden("Viewers cannot import projects into this workspace.")
    elif workspace_id is None or db.get(Workspace, workspace_id) is None:
        raise Forbidden("Name an existing workspace to import into (--workspace).")
    staged, _ = import_bundle(source, settings.data_dir / "tmp", blobs, settings.import_max_bytes,
                              settings.import_max_blobs)
    project_id = new_id("p")
    target = settings.data_dir / "workspaces" / workspace_id / "projects" / project_id
    try:
        _check_comments(staged)
        if adjust is not None:
            adjust(staged)
        _settle(db, staged, actor, summary)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.rename(target)
        project = adopt_folder(db, settings, target, workspace_id, project_id)
        charge_project(db, settings, actor, project.id)  # the importer's storage quota (507 when over it)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staged.parent, ignore_errors=True)
    emit(db, ProjectChanged(workspace_id=workspace_id, project_id=project.id, by=actor.id if actor else None,
                            summary="Imported"))
    return project


def reindex(db: Session, settings: Settings) -> tuple[int, int]:
    """Rebuild the project index from the folders. Returns (indexed, removed)."""
    seen: set[str] = set()
    for where in ("projects", "trash"):
        for folder in sorted((settings.data_dir / "workspaces").glob(f"*/{where}/*")):
            workspace_id = folder.parent.parent.name
            if folder.is_symlink() or not (folder / "project.json").is_file() \
                    or db.get(Workspace, workspace_id) is None:
                continue
            project = adopt_folder(db, settings, folder, workspace_id, folder.name)
            project.trashed_at = (project.trashed_at or utcnow()) if where == "trash" else None
            db.add(project)
            seen.add(folder.name)
    removed = 0
    for project in db.exec(select(Project)).all():
        if project.id not in seen:
            db.delete(project)
            removed += 1
    return len(seen), removed
