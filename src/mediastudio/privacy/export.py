"""A person's data as one zip (task kind `account.export`): what the studio holds about them, readable by a person
(README.md) and a program (index.json and one JSON file per kind of record), with their projects as .msproj files.

The task exports the account of its owner, always: an administrator's export of someone is a task of that person
(started by the administrator, without counting against their quota), so it can never name someone else. The archive
is deleted `export_days` after it is made (privacy/retention.py).
"""

from __future__ import annotations

import json
import zipfile
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, or_, select

from mediastudio.audit.tables import AuditEntry
from mediastudio.auth.tables import ApiToken, AuthSession, User
from mediastudio.collab.activity import Activity
from mediastudio.comments.files import read_threads
from mediastudio.common import utcnow
from mediastudio.errors import TaskFailed
from mediastudio.portability.service import export_to_file, safe_filename
from mediastudio.projects.access import project_folder
from mediastudio.projects.tables import Project, ProjectRoleOverride
from mediastudio.settings import Settings
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.kinds import KindRegistry
from mediastudio.tasks.tables import Task
from mediastudio.workspaces import service as workspaces

KIND = "account.export"
ROWS_MAX = 100_000  # of each kind of record (activity, audit entries, tasks): bounds the archive's JSON
README = """# Your data in this studio

Made {made} for the account '{username}' ({user_id}).

| file | what it holds |
|---|---|
| profile.json | your account: username, display name, colour, role, when it was made and last used |
| memberships.json | the workspaces you belong to with your role in each, and your roles on single projects |
| projects/*.msproj | each project in a workspace you own: its whole history and its media (import it into any studio) |
| activity.json | what you changed in projects ("changed steps 20→30 on 'Hero shot'"), newest first |
| tasks.json | the tasks you started (runs, exports, imports): kind, title, status and times |
| api_tokens.json | your API tokens' names and dates (never the tokens themselves, which the studio does not keep) |
| sessions.json | your signed-in browsers: when, from which address and browser |
| audit.json | the audit log's entries of what you did and of what was done to your account |
| comments.json | the comments you wrote, in every project you belong to: the thread, what it is about, the text |

index.json lists every file with how many records it holds. Each JSON file holds at most {rows_max} records.
"""


class ExportParams(BaseModel):
    """None: the task exports its owner, whoever asks (a `user_id` or any other field is refused)."""

    model_config = ConfigDict(extra="forbid")


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _rows(objects: Any, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{name: _iso(getattr(o, name)) for name in fields} for o in objects]


def owned_for_export(db: Session, user: User) -> list[Project]:
    """The projects of the workspaces where `user` is an owner (trash included)."""
    owned = [w.id for w, role in workspaces.list_for_user(db, user) if role == "owner"]
    if not owned:
        return []
    return list(db.exec(select(Project).where(col(Project.workspace_id).in_(owned)).order_by(col(Project.name))))


def records(db: Session, user: User) -> dict[str, Any]:
    """Every JSON file of the archive (the projects aside), read in one session."""
    memberships = [{"workspace_id": w.id, "workspace": w.name, "kind": w.kind, "role": role}
                   for w, role in workspaces.list_for_user(db, user)]
    overrides = db.exec(select(ProjectRoleOverride, Project.name).join(
        Project, col(Project.id) == col(ProjectRoleOverride.project_id)).where(ProjectRoleOverride.user_id == user.id))
    names = dict(db.exec(select(Project.id, Project.name)).all())
    activity = db.exec(select(Activity).where(Activity.user_id == user.id).order_by(col(Activity.at).desc())
                       .limit(ROWS_MAX)).all()
    audit = db.exec(select(AuditEntry).where(or_(AuditEntry.actor_id == user.id, AuditEntry.target_id == user.id))
                    .order_by(col(AuditEntry.id).desc()).limit(ROWS_MAX)).all()
    tasks = db.exec(select(Task).where(Task.owner_id == user.id).order_by(col(Task.created_at).desc())
                    .limit(ROWS_MAX)).all()
    return {
        "profile.json": _rows([user], ("id", "username", "display_name", "color", "is_admin", "is_guest",
                                       "disabled", "created_at", "last_seen_at"))[0],
        "memberships.json": {"workspaces": memberships,
                             "projects": [{"project_id": o.project_id, "project": name, "role": o.role}
                                          for o, name in overrides]},
        "activity.json": [{**_rows([a], ("at", "project_id", "scene_id", "node_id", "text"))[0],
                           "project": names.get(a.project_id, "")} for a in activity],
        "tasks.json": _rows(tasks, ("id", "kind", "title", "status", "project_id", "created_at", "finished_at")),
        "api_tokens.json": _rows(db.exec(select(ApiToken).where(ApiToken.user_id == user.id)),
                                 ("id", "name", "created_at", "expires_at", "last_used_at")),
        "sessions.json": _rows(db.exec(select(AuthSession).where(AuthSession.user_id == user.id)),
                               ("created_at", "last_seen_at", "expires_at", "ip", "user_agent")),
        "audit.json": [{**_rows([e], ("at", "actor_id", "actor_name", "ip", "user_agent", "action", "target_kind",
                                      "target_id", "target_label"))[0], "details": json.loads(e.details or "{}")}
                       for e in audit],
    }


def comments_by(db: Session, settings: Settings, user: User) -> list[dict[str, Any]]:
    """The comments `user` wrote, in every project of the workspaces they belong to (trash included), oldest
    first; read from each project's thread files (comments/files.py: checked and bounded as they are read)."""
    ids = [w.id for w, _ in workspaces.list_for_user(db, user)]
    projects = db.exec(select(Project).where(col(Project.workspace_id).in_(ids))).all() if ids else []
    found: list[dict[str, Any]] = []
    for project in projects:
        for thread in read_threads(project_folder(settings, project)):
            for comment in thread.comments:
                if comment.author != user.id or len(found) >= ROWS_MAX:
                    continue
                found.append({"project_id": project.id, "project": project.name, "thread_id": thread.id,
                              "about": thread.target.model_dump(mode="json"),
                              "pin": thread.pin.model_dump(mode="json") if thread.pin else None,
                              "comment_id": comment.id, "text": comment.body, "created_at": _iso(comment.created_at),
                              "edited_at": _iso(comment.edited_at), "thread_resolved": thread.resolved})
    return sorted(found, key=lambda c: str(c["created_at"]))


def _project_entry(project: Project, taken: set[str]) -> str:
    """The project's path in the zip: its name made safe, its id added where two names would meet."""
    name = f"projects/{safe_filename(project.name)}"
    if name in taken:
        name = f"projects/{project.id}-{safe_filename(project.name)}"
    taken.add(name)
    return name


def export_account(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.db.session() as db:
        user = db.get(User, ctx.owner_id)
        if user is None:
            raise TaskFailed("The account is gone.", code="not_found")
        data = records(db, user)
        data["comments.json"] = comments_by(db, ctx.settings, user)
        projects = owned_for_export(db, user)
        username, user_id = user.username, user.id
    total = len(projects) + 1
    target = ctx.scratch / f"mediastudio-data-{safe_filename(username).removesuffix('.msproj')}.zip"
    index: list[dict[str, Any]] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for step, project in enumerate(projects):
            ctx.check_cancelled()
            ctx.progress(step, total, f"Exporting '{project.name}'")
            with ctx.db.session() as db:
                single = export_to_file(db, ctx.settings, ctx.blobs, None, project.id, ctx.scratch / "projects")
            entry = _project_entry(project, {i["file"] for i in index})
            archive.write(single, entry, compress_type=zipfile.ZIP_STORED)  # already a zip
            single.unlink(missing_ok=True)
            index.append({"file": entry, "project_id": project.id, "name": project.name,
                          "trashed": project.trashed_at is not None})
        ctx.progress(total - 1, total, "Writing your account's records")
        for name, value in data.items():
            archive.writestr(name, json.dumps(value, indent=2, ensure_ascii=False))
            index.append({"file": name, "records": len(value) if isinstance(value, list) else 1})
        made = utcnow()
        archive.writestr("README.md", README.format(made=f"{made:%Y-%m-%d %H:%M} UTC", username=username,
                                                    user_id=user_id, rows_max=f"{ROWS_MAX:,}"))
        archive.writestr("index.json", json.dumps({"user_id": user_id, "username": username,
                                                   "made_at": made.isoformat(), "files": index},
                                                  indent=2, ensure_ascii=False))
    ctx.progress(total, total, "Ready to download")
    return {**ctx.publish_result_file(target), "name": target.name, "bytes": target.stat().st_size,
            "projects": len(projects)}


def register(kinds: KindRegistry) -> None:
    kinds.add(KIND, export_account, lane="cpu", params=ExportParams, needs="none", project=False,
              title=lambda _: "Export my data")
