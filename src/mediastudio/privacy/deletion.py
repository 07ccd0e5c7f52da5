"""Deleting an account: the one service behind the Account page, the People page and `mediastudio users delete`.

The projects a person owns alone (those in workspaces nobody else is in: their personal workspace, a team
workspace they never shared) each get a choice: handed to someone (moved, history and all, into that person's
personal workspace) or deleted for good with the account (a trash nobody could restore from would only delay
it; an export first keeps a copy). Team workspaces others share stay with them (their oldest member becomes
owner where the person was the only one). Sessions and tokens end at once and open sockets close.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Literal

from sqlmodel import Session, col, select

from mediastudio.accounts import users
from mediastudio.audit.actions import Action
from mediastudio.audit.record import Actor, Target, record
from mediastudio.auth.tables import User
from mediastudio.errors import Conflict, Unprocessable
from mediastudio.privacy.export import KIND as EXPORT_KIND
from mediastudio.projects.service import move_to_workspace
from mediastudio.projects.tables import Project
from mediastudio.settings import Settings
from mediastudio.tasks.runner import results_dir
from mediastudio.tasks.tables import Task
from mediastudio.workspaces import service as workspaces
from mediastudio.workspaces.tables import Membership

Via = Literal["self", "admin", "command_line"]
FORMER_MEMBER = "Former member"


@dataclass(frozen=True)
class ProjectChoice:
    action: Literal["transfer", "delete"]
    to: str | None = None  # the user id that gets it, with "transfer"


@dataclass
class Deleted:
    transferred: dict[str, str] = field(default_factory=dict)  # project id → the user id that got it
    deleted: list[str] = field(default_factory=list)


def owned_projects(db: Session, user: User) -> list[Project]:
    """The projects that go with the account unless handed on: those in workspaces only `user` is in."""
    alone = [w.id for w, _ in workspaces.list_for_user(db, user) if workspaces.member_count(db, w.id) == 1]
    if not alone:
        return []
    return list(db.exec(select(Project).where(col(Project.workspace_id).in_(alone))
                        .order_by(col(Project.name))).all())


def possible_heirs(db: Session, user: User, *, anyone: bool) -> list[User]:
    """Who may get a project: enabled accounts with a password; for a person deleting themself, only those they
    share a workspace with (nobody is handed projects by a stranger); for an administrator, anyone."""
    query = select(User).where(col(User.is_guest).is_(False), col(User.disabled).is_(False), User.id != user.id)
    if not anyone:
        shared = select(Membership.workspace_id).where(Membership.user_id == user.id)
        query = query.where(col(User.id).in_(select(Membership.user_id).where(col(Membership.workspace_id)
                                                                              .in_(shared))))
    return list(db.exec(query.order_by(col(User.username))).all())


def _check_last_admin(db: Session, user: User) -> None:
    if not user.is_admin:
        return
    others = db.exec(select(User).where(col(User.is_admin).is_(True), col(User.disabled).is_(False),
                                        User.id != user.id)).first()
    if others is None:
        raise Conflict("This is the last enabled administrator.", hint="Make someone else one first.")


def _personal_workspace(db: Session, heir: User) -> str:
    for workspace, role in workspaces.list_for_user(db, heir):
        if workspace.kind == "personal" and role == "owner":
            return workspace.id
    return workspaces.create_personal_workspace(db, heir).id


def delete_account(db: Session, settings: Settings, actor: Actor, user: User, choices: dict[str, ProjectChoice],
                   *, via: Via, anyone_may_inherit: bool) -> Deleted:
    """Delete `user` with a choice for each project they own alone (`owned_projects`; a project without a choice
    is refused, so nothing is deleted by accident), in the caller's transaction, recorded in the audit log."""
    _check_last_admin(db, user)
    owned = owned_projects(db, user)
    missing = [p.name for p in owned if p.id not in choices]
    if missing:
        # 422, not 400: the body is well-formed; what it chooses does not fit this account's projects.
        raise Unprocessable(f"Choose what happens to '{missing[0]}' ({len(missing)} project(s) without a choice).",
                         field="projects", hint="Transfer each owned project to someone, or delete it.")
    heirs = {h.id: h for h in possible_heirs(db, user, anyone=anyone_may_inherit)}
    # Every choice is checked before any folder moves: a refused one must leave nothing half done.
    going: list[tuple[Project, User]] = []
    done = Deleted()
    for project in owned:
        choice = choices[project.id]
        if choice.action == "delete":
            done.deleted.append(project.id)
            continue
        heir = heirs.get(choice.to or "")
        if heir is None or user.is_guest:
            raise Unprocessable(f"'{project.name}' cannot go to that person.", field="projects",
                             hint="Pick an enabled account you share a workspace with (a guest's projects can "
                                  "only be deleted).")
        going.append((project, heir))
    for project, heir in going:
        move_to_workspace(db, settings, project, _personal_workspace(db, heir), by=None)
        record(db, actor, Action.PROJECT_TRANSFER, Target("project", project.id, project.name),
               {"from": user.username, "to": heir.username})
        done.transferred[project.id] = heir.id
    record(db, actor, Action.USER_DELETE, Target.user(user),
           {"via": via, "transferred": len(done.transferred), "deleted": len(done.deleted)})
    _forget_exports(db, settings, user)
    users.delete_user(db, user, settings.data_dir)
    return done


def _forget_exports(db: Session, settings: Settings, user: User) -> None:
    """A copy of a deleted person's data must not outlive them: their data exports go with the account."""
    for task in db.exec(select(Task).where(Task.owner_id == user.id, Task.kind == EXPORT_KIND)).all():
        shutil.rmtree(results_dir(settings, task.id), ignore_errors=True)
        db.delete(task)


def delete_account_whole(db: Session, settings: Settings, actor: Actor, user: User, *, to: User | None,
                         via: Via = "admin") -> Deleted:
    """Delete `user` with one choice for every project they own alone: handed to `to`, or deleted when None (the
    command line, and `DELETE /api/v1/admin/users/{id}`)."""
    choice = ProjectChoice("transfer", to.id) if to else ProjectChoice("delete")
    return delete_account(db, settings, actor, user, {p.id: choice for p in owned_projects(db, user)}, via=via,
                          anyone_may_inherit=True)
