"""Project lifecycle: create from a template, list and search, edit, archive, trash, restore, purge."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import Table, Update, bindparam, event, inspect, update
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, func, or_, select

from mediastudio.audit.actions import Action
from mediastudio.audit.record import STUDIO, Target
from mediastudio.audit.record import record as audit
from mediastudio.auth.tables import User
from mediastudio.common import new_id, utcnow
from mediastudio.errors import BadRequest, Forbidden, Unprocessable
from mediastudio.events.emit import emit
from mediastudio.paging import offset_of
from mediastudio.projects import content
from mediastudio.projects.access import ProjectRow, project_folder, require
from mediastudio.projects.events import ProjectChanged
from mediastudio.projects.moves import moving
from mediastudio.projects.repo import Author, PendingLine, ProjectRepo
from mediastudio.projects.tables import Asset, Project, ProjectTag
from mediastudio.projects.templates import ModelFit, get_template, with_model
from mediastudio.settings import Settings
from mediastudio.workspaces import service as workspaces
from mediastudio.workspaces.roles import ProjectRole, effective_project_role, project_allows
from mediastudio.workspaces.tables import Membership

NAME_MAX = 120
TAG_MAX = 32
Sort = Literal["updated", "name", "created"]


def author_of(user: User) -> Author:
    return Author(user.display_name, user.id)


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX:
        raise BadRequest(f"A project name needs 1 to {NAME_MAX} characters.", field="name")
    return cleaned


def clean_tags(tags: list[str]) -> list[str]:
    cleaned = sorted({"-".join(t.lower().split()) for t in tags if t.strip()})
    if any(len(t) > TAG_MAX for t in cleaned) or len(cleaned) > 20:
        raise BadRequest(f"At most 20 tags of at most {TAG_MAX} characters each.", field="tags")
    return cleaned


def sync_index(db: Session, settings: Settings, project: Project, *, meta: bool = True, tags: bool = True,
               scenes: bool = True) -> Project:
    """Copy what the folder says into the index row (the folder is the truth). A write that knows what it changed
    refreshes only that: `meta` (project.json's fields), `tags` (with `meta`: the tag rows, rewritten only when
    they differ) and `scenes` (the count of scene files)."""
    folder = project_folder(settings, project)
    if meta:
        found = content.read_meta(folder)
        project.name = found["name"]
        project.description = found.get("description") or ""
        project.archived = bool(found.get("archived"))
        project.cover_asset_id = found.get("cover_asset_id")
        project.template = found.get("template") or "blank"
        project.created_by = found.get("created_by") or project.created_by
        if tags:
            project.tags = " ".join(found.get("tags") or [])
            _sync_tags(db, project, found.get("tags") or [])
    if scenes:
        project.scene_count = content.SCENE_COUNTS.count(folder)
    db.add(project)
    return project


def _sync_tags(db: Session, project: Project, tags: list[str]) -> None:
    rows = db.exec(select(ProjectTag).where(ProjectTag.project_id == project.id)).all()
    if sorted(row.tag for row in rows) == sorted(tags):
        return
    for old in rows:
        db.delete(old)
    db.flush()
    for tag in tags:
        db.add(ProjectTag(project_id=project.id, tag=tag))


# "fields": project.json's fields but its tags (a change that left the tags alone: their rows are not read to be
# compared; a concurrent change of the tags refreshes them itself).
Refresh = Literal["all", "meta", "fields", "scenes", "none"]
_REFRESH: dict[str, dict[str, bool]] = {
    "all": {"meta": True, "tags": True, "scenes": True},
    "meta": {"meta": True, "tags": True, "scenes": False},
    "fields": {"meta": True, "tags": False, "scenes": False},
    "scenes": {"meta": False, "tags": False, "scenes": True},
}


@dataclass(frozen=True)
class Saved:
    """A change saved in the folder (`save`), to be recorded in the index (`record`). `line`: its journal line,
    when `save(sync=False)` left it to the caller's `ProjectRepo.sync_pending`."""

    message: str
    sha: str | None
    changed: bool
    line: PendingLine | None = None


def save(settings: Settings, project: Project | ProjectRow, actor: User, message: str, kind: str = "edit",
         extra: dict[str, str] | None = None, allow_empty: bool = False,
         deferred: list[Path] | None = None, sync: bool = True) -> Saved:
    """The folder's part of `commit`, with no database work: a caller holding the folder's lock does this under
    it and `record`s the change in the index after letting go, so the writers of a project queue for its files
    only, never behind one another's database work. `sync=False`: the pending journal is not fsynced (the
    caller calls `ProjectRepo.sync_pending` after letting go, before it answers)."""
    repo = ProjectRepo(project_folder(settings, project))
    if deferred and settings.commit_window_s > 0 and not extra and not allow_empty:
        line = repo.commit_later(message, author_of(actor), kind=kind, paths=deferred,
                                 window_s=settings.commit_window_s, sync=sync)
        return Saved(message, None, True, line)
    sha = repo.commit_all(message, author_of(actor), kind=kind, extra=extra, allow_empty=allow_empty)
    return Saved(message, sha, sha is not None)


def record(db: Session, settings: Settings, project: Project | ProjectRow, actor: User, saved: Saved,
           refresh: Refresh = "all") -> None:
    """The index's part of `commit`: announce the change, note who made it and when, and refresh the index row
    (`refresh`: what of it the change can have altered; "none" for a change the row does not reflect). A
    `ProjectRow` (`access.require_row`) serves the changes that alter no more than the scene count."""
    values: dict[str, Any] = {}
    if saved.changed:
        emit(db, ProjectChanged(workspace_id=project.workspace_id, project_id=project.id, by=actor.id,
                                summary=saved.message, commit=saved.sha))
        values["updated_at"] = utcnow()
        contributors = set(project.contributors.split())
        contributors.add(actor.id)
        values["contributors"] = " ".join(sorted(contributors))
    if isinstance(project, ProjectRow) or (refresh in ("scenes", "none") and _loaded_in(db, project)):
        # The everyday edits (a scene created, renamed, moved): one UPDATE of the columns they change, without
        # the ORM's flush (its unit of work was most of the index's part of a write).
        if refresh not in ("scenes", "none"):
            raise ValueError(f"refresh={refresh!r} needs the project's ORM object (require), not a ProjectRow")
        if refresh == "scenes":
            values["scene_count"] = content.SCENE_COUNTS.count(project_folder(settings, project))
        _update_row(db, project, values)
        return
    for name, value in values.items():
        setattr(project, name, value)
    if refresh != "none":
        sync_index(db, settings, project, **_REFRESH[refresh])
    db.add(project)


def _loaded_in(db: Session, project: Project) -> bool:
    """The row was read by `db` and nothing of it is waiting to be flushed."""
    state = inspect(project)
    return state.persistent and state.session is db and not state.modified


@cache
def _row_update(columns: tuple[str, ...]) -> Update:
    """`UPDATE projects SET <columns> WHERE id = :project_id`, built once per set of columns."""
    table = cast(Table, Project.__table__)  # type: ignore[attr-defined]
    return update(table).where(table.c.id == bindparam("project_id")).values(
        {name: bindparam(name) for name in columns})


def _update_row(db: Session, project: Project | ProjectRow, values: dict[str, Any]) -> None:
    if not values:
        return
    db.connection().execute(_row_update(tuple(sorted(values))), {**values, "project_id": project.id})
    if isinstance(project, Project):  # the object says what the row now holds, with nothing left to flush
        for name, value in values.items():
            set_committed_value(project, name, value)


def commit(db: Session, settings: Settings, project: Project | ProjectRow, actor: User, message: str,
           kind: str = "edit", extra: dict[str, str] | None = None, allow_empty: bool = False,
           deferred: list[Path] | None = None, refresh: Refresh = "all") -> str | None:
    """Commit the folder as `actor` and refresh the index row; `kind` names what made it (projects/history.py).
    `deferred` (an everyday edit: the files it wrote or removed): the change joins the folder's pending commit
    (ProjectRepo.commit_later: made within `settings.commit_window_s`, durable at once) and no sha is returned.
    `refresh`: what of the index row the change can have altered (`record`)."""
    saved = save(settings, project, actor, message, kind, extra, allow_empty, deferred)
    record(db, settings, project, actor, saved, refresh)
    return saved.sha


def _remove_unless_committed(db: Session, folder: Path) -> None:
    """The caller commits the new project's row: when that fails (a full disk fails the COMMIT too), the
    folder made for it goes as well, so no project folder is left without a row."""
    state = {"committed": False, "ended": False}

    def committed(_: Session) -> None:
        state["committed"] = True

    def ended(_: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None and not state["ended"]:
            state["ended"] = True
            if not state["committed"]:
                shutil.rmtree(folder, ignore_errors=True)

    event.listen(db, "after_commit", committed)
    event.listen(db, "after_transaction_end", ended)


def create_project(db: Session, settings: Settings, actor: User, *, name: str, workspace_id: str | None,
                   template: str = "blank", model: str | None = None, fit: ModelFit | None = None) -> Project:
    """`model` (with `fit`, what the installed models say suits it): picked in the template's model nodes, its
    generators set to that model's size, steps and guidance."""
    if workspace_id is None:
        workspace_id = next(w.id for w, _ in workspaces.list_for_user(db, actor) if w.kind == "personal")
    workspace, ws_role = workspaces.get_for_user(db, actor, workspace_id)
    default_role = cast(ProjectRole, workspace.default_project_role)  # stored as text (SQLModel has no Literal column)
    if not project_allows(effective_project_role(ws_role, default_role), "edit"):
        raise Forbidden("Viewers cannot create projects in this workspace.",
                        hint="Ask a workspace owner or admin for a higher role.")
    spec = get_template(template)
    if model and fit is not None:
        spec = with_model(spec, model, fit.fit(model))
    project = Project(id=new_id("p"), workspace_id=workspace_id, name=clean_name(name), created_by=actor.id,
                      template=template)
    folder = project_folder(settings, project)
    _remove_unless_committed(db, folder)
    try:  # a failure (a full disk) leaves no half-made folder; the caller's transaction drops the row
        ProjectRepo.init(folder)
        now = utcnow()
        content.write_meta(folder, {"name": project.name, "description": spec.get("description", ""),
                                    "tags": spec.get("tags", []), "settings": spec.get("settings", {}),
                                    "cover_asset_id": None, "archived": False, "template": template,
                                    "created_by": actor.id, "created_at": now.isoformat()})
        for order, scene in enumerate(spec["scenes"]):
            content.write_scene(folder, {"id": new_id("sc"), "name": scene["name"], "order": order,
                                         "graph": scene.get("graph") or content.empty_graph()})
        (folder / "assets").mkdir(exist_ok=True)
        (folder / "assets" / ".keep").write_text("")
        project.created_at = project.updated_at = now
        db.add(project)
        db.flush()
        commit(db, settings, project, actor, f"Created project '{project.name}' from the {spec['name']} template",
               kind="created")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return project


def update_project(db: Session, settings: Settings, actor: User, project_id: str,
                   changes: dict[str, Any]) -> tuple[Project, ProjectRole]:
    """Change project.json as `changes` ask and refresh the index row; the project (its object says what the row
    now holds) and `actor`'s role in it, for the answer."""
    project, role = require(db, actor, project_id, "edit")
    folder = project_folder(settings, project)
    if changes.get("cover_asset_id"):
        cover = changes["cover_asset_id"]
        asset = db.get(Asset, cover)
        if asset is None or asset.project_id != project.id or asset.trashed_at is not None:
            # 422, not 400: the id is well-formed, the asset is another project's, trashed or gone.
            raise Unprocessable(f"The project has no asset '{cover}' to use as its cover.", field="cover_asset_id",
                                hint=f"GET /api/v1/projects/{project_id}/assets lists its assets.")
    # project.json is read, changed and written under the folder's lock: two changes at once (a rename and new
    # tags) each keep the other's. The index's part comes after letting go, as for the scene writes.
    with ProjectRepo(folder).lock:
        meta = content.read_meta(folder)
        said = _apply_changes(meta, changes)
        saved = None
        if said:
            content.write_meta(folder, meta)
            saved = save(settings, project, actor, said[0][0].upper() + ", ".join(said)[1:], kind="settings",
                         deferred=[content.meta_path(folder)])
    if saved is not None:
        record(db, settings, project, actor, saved, refresh="meta" if changes.get("tags") is not None else "fields")
    return project, role


def _apply_changes(meta: dict[str, Any], changes: dict[str, Any]) -> list[str]:
    """Change project.json's fields as `changes` ask; returns what was done, in words."""
    said: list[str] = []
    if changes.get("name") is not None:
        meta["name"] = clean_name(changes["name"])
        said.append(f"renamed to '{meta['name']}'")
    if changes.get("description") is not None:
        meta["description"] = changes["description"][:2000]
        said.append("changed the description")
    if changes.get("tags") is not None:
        meta["tags"] = clean_tags(changes["tags"])
        said.append("changed tags")
    if "cover_asset_id" in changes:
        meta["cover_asset_id"] = changes["cover_asset_id"]
        said.append("changed the cover")
    if changes.get("archived") is not None and bool(changes["archived"]) != bool(meta.get("archived")):
        meta["archived"] = bool(changes["archived"])
        said.append("archived the project" if meta["archived"] else "unarchived the project")
    return said


def trash_project(db: Session, settings: Settings, actor: User, project_id: str) -> Project:
    project, _ = require(db, actor, project_id, "manage")
    source = project_folder(settings, project)
    project.trashed_at = utcnow()
    _move_folder(settings, project, source, project_folder(settings, project), "The project was moved to the trash")
    db.add(project)
    emit(db, ProjectChanged(workspace_id=project.workspace_id, project_id=project.id, by=actor.id,
                            summary="Moved to the trash"))
    return project


def restore_project(db: Session, settings: Settings, actor: User, project_id: str) -> Project:
    project, _ = require(db, actor, project_id, "manage", trashed=True)
    source = project_folder(settings, project)
    project.trashed_at = None
    _move_folder(settings, project, source, project_folder(settings, project), "The project was restored")
    db.add(project)
    emit(db, ProjectChanged(workspace_id=project.workspace_id, project_id=project.id, by=actor.id,
                            summary="Restored from the trash"))
    return project


def move_to_workspace(db: Session, settings: Settings, project: Project, workspace_id: str, by: str | None) -> None:
    """Move a project, folder and history, into another workspace (an account's projects handed to someone as it
    is deleted). Its per-project roles are dropped: they named members of the workspace it leaves."""
    from mediastudio.events.access import access_changed  # whoever had it open re-checks their rights
    from mediastudio.projects.tables import ProjectRoleOverride

    source = project_folder(settings, project)
    old_workspace = project.workspace_id
    project.workspace_id = workspace_id
    _move_folder(settings, project, source, project_folder(settings, project), "The project moved to another "
                 "workspace")
    db.add(project)
    for override in db.exec(select(ProjectRoleOverride).where(ProjectRoleOverride.project_id == project.id)).all():
        db.delete(override)
    access_changed(db, workspace_id=old_workspace)
    emit(db, ProjectChanged(workspace_id=workspace_id, project_id=project.id, by=by,
                            summary="Moved to another workspace"))


def _move_folder(settings: Settings, project: Project, source: Path, target: Path, reason: str) -> None:
    """Move a project's folder with its live scenes saved and closed first and both places locked, so no
    write lands in the old place (a recreated folder there once made a project impossible to restore)."""
    with moving(settings, project.id, reason):
        first, second = sorted((source, target), key=str)  # one order for every move: no deadlock
        with ProjectRepo(first).lock, ProjectRepo(second).lock:
            ProjectRepo(source).commit_pending()  # the history that moves is complete
            if target.exists():
                _set_aside(settings, project, target)
            target.parent.mkdir(parents=True, exist_ok=True)
            source.rename(target)


def _set_aside(settings: Settings, project: Project, stray: Path) -> None:
    """A folder where the project goes can only be a leftover of an interrupted write: keep it, aside."""
    import logging

    aside = settings.data_dir / "workspaces" / project.workspace_id / "strays" / \
        f"{project.id}-{utcnow():%Y%m%d%H%M%S%f}"
    aside.parent.mkdir(parents=True, exist_ok=True)
    stray.rename(aside)
    logging.getLogger("mediastudio").warning("Project %s: a stray folder stood where it goes; it was moved to %s",
                                             project.id, aside)


def purge_trash(db: Session, settings: Settings, *, older_than_days: int | None = None) -> int:
    """Purge the projects trashed more than `older_than_days` ago (the retention's span; the setting by default)."""
    cutoff = utcnow() - timedelta(days=older_than_days or settings.trash_days)
    stale = db.exec(select(Project).where(col(Project.trashed_at).is_not(None), col(Project.trashed_at) < cutoff)).all()
    for project in stale:
        audit(db, STUDIO, Action.PROJECT_PURGE, Target("project", project.id, project.name),
               {"workspace_id": project.workspace_id, "trashed_days": older_than_days})
        shutil.rmtree(project_folder(settings, project), ignore_errors=True)
        db.delete(project)
    db.flush()
    return len(stale)


def list_projects(db: Session, user: User, *, workspace_id: str | None = None, q: str | None = None,
                  tag: str | None = None, owner: str | None = None, archived: bool | None = False,
                  trashed: bool = False, sort: Sort = "updated", limit: int = 50,
                  cursor: str | None = None) -> tuple[list[Project], str | None]:
    query = select(Project).join(Membership, col(Membership.workspace_id) == col(Project.workspace_id)) \
        .where(Membership.user_id == user.id)
    query = query.where(col(Project.trashed_at).is_not(None) if trashed else col(Project.trashed_at).is_(None))
    if workspace_id:
        query = query.where(Project.workspace_id == workspace_id)
    if archived is not None and not trashed:
        query = query.where(Project.archived == archived)
    if owner:
        query = query.where(Project.created_by == owner)
    if tag:
        query = query.where(col(Project.id).in_(select(ProjectTag.project_id).where(ProjectTag.tag == tag.lower())))
    for word in (q or "").split()[:8]:
        like = f"%{word.replace('%', '').replace('_', '')}%"
        query = query.where(or_(col(Project.name).like(like), col(Project.description).like(like),
                                col(Project.tags).like(like)))
    order = {"updated": col(Project.updated_at).desc(), "created": col(Project.created_at).desc(),
             "name": func.lower(Project.name)}[sort]
    offset = offset_of(cursor)
    rows = list(db.exec(query.order_by(order, col(Project.id)).offset(offset).limit(limit + 1)).all())
    next_cursor = str(offset + limit) if len(rows) > limit else None
    return rows[:limit], next_cursor


def all_tags(db: Session, user: User, workspace_id: str | None = None) -> list[tuple[str, int]]:
    query = (select(ProjectTag.tag, func.count()).join(Project, col(Project.id) == col(ProjectTag.project_id))
             .join(Membership, col(Membership.workspace_id) == col(Project.workspace_id))
             .where(Membership.user_id == user.id, col(Project.trashed_at).is_(None)))
    if workspace_id:
        query = query.where(Project.workspace_id == workspace_id)
    rows = db.exec(query.group_by(ProjectTag.tag).order_by(ProjectTag.tag)).all()
    return [(tag, count) for tag, count in rows]
