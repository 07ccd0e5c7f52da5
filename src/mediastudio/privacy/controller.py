"""Privacy over HTTP: your data as a zip and deleting your account (`/api/v1/auth/me/…`), the same for anyone by
an administrator (`/api/v1/admin/users/{id}/…`), and the retention spans (`/api/v1/admin/retention`)."""

from __future__ import annotations

from litestar import Controller, Response, get, patch, post
from litestar.datastructures import Cookie
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlmodel import Session, col, select

from mediastudio.audit.actions import Action
from mediastudio.audit.record import Actor, ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep, admins_only, provide_admin
from mediastudio.auth.middleware import CSRF_COOKIE, SESSION_COOKIE
from mediastudio.auth.passwords import verify_password
from mediastudio.auth.tables import User
from mediastudio.db import Database, DatabaseDep
from mediastudio.errors import Conflict, Forbidden, NotFound
from mediastudio.privacy import deletion, retention
from mediastudio.privacy.export import KIND
from mediastudio.privacy.schemas import (
    AccountDeletion,
    DeletionPlan,
    Heir,
    OwnedProject,
    RetentionOut,
    RetentionPatch,
    choices_of,
)
from mediastudio.settings import SettingsDep
from mediastudio.tasks.schemas import TaskOut
from mediastudio.tasks.system import TasksDep, TaskSystem
from mediastudio.tasks.tables import Task
from mediastudio.workspaces import service as workspaces

EXPORTS_LISTED = 5


def _plan(db: Session, user: User, *, anyone: bool) -> DeletionPlan:
    owned = deletion.owned_projects(db, user)
    names = {w.id: w.name for w, _ in workspaces.list_for_user(db, user)}
    shared = [w.name for w, _ in workspaces.list_for_user(db, user) if workspaces.member_count(db, w.id) > 1]
    heirs = [] if user.is_guest else deletion.possible_heirs(db, user, anyone=anyone)
    return DeletionPlan(
        projects=[OwnedProject(id=p.id, name=p.name, workspace=names.get(p.workspace_id, ""),
                               trashed=p.trashed_at is not None) for p in owned],
        heirs=[Heir(id=h.id, username=h.username, display_name=h.display_name) for h in heirs],
        shared_workspaces=shared, password_needed=not user.is_guest)


def _start_export(database: Database, tasks: TaskSystem, actor: Actor, user_id: str, *, by_admin: bool) -> TaskOut:
    with database.transaction() as db:
        user = db.get(User, user_id)
        if user is None:
            raise NotFound("There is no such account.", hint="GET /api/v1/admin/users lists them.")
        # The task is the person's own (only they and administrators see it); started by an administrator, it is
        # the studio's doing and does not count against their quota.
        task = tasks.new(db, user, KIND, {}, None, system=by_admin)
        record(db, actor, Action.USER_EXPORT, Target.user(user), {"task_id": task.id})
    tasks.submit(task)
    return tasks.describe([task])[0]


def _person(db: Session, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id[:64]}.", hint="GET /api/v1/admin/users lists them.")
    return user


def _gone_cookies() -> list[Cookie]:
    return [Cookie(key=name, value="", path="/", max_age=0, expires=0) for name in (SESSION_COOKIE, CSRF_COOKIE)]


class AccountPrivacyController(Controller):
    path = "/api/v1/auth/me"
    tags = ("auth",)

    @post("/export", summary="Make a zip of all your data (a task: follow it, then download its result)",
          status_code=HTTP_202_ACCEPTED, sync_to_thread=True)
    def export(self, identity: IdentityDep, database: DatabaseDep, tasks: TasksDep, actor: ActorDep) -> TaskOut:
        return _start_export(database, tasks, actor, identity.user.id, by_admin=False)

    @get("/exports", summary="Your latest data exports, newest first", sync_to_thread=True)
    def exports(self, identity: IdentityDep, database: DatabaseDep, tasks: TasksDep) -> list[TaskOut]:
        with database.session() as db:
            rows = list(db.exec(select(Task).where(Task.owner_id == identity.user.id, Task.kind == KIND)
                                .order_by(col(Task.created_at).desc()).limit(EXPORTS_LISTED)).all())
        return tasks.describe(rows)

    @get("/deletion", summary="What deleting your account would ask: your projects, who may get them",
         sync_to_thread=True)
    def deletion_plan(self, identity: IdentityDep, database: DatabaseDep) -> DeletionPlan:
        with database.session() as db:
            return _plan(db, identity.user, anyone=False)

    @post("/delete", summary="Delete your account (your password, and a choice for each project you own alone)",
          status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def delete_me(self, data: JSONBody[AccountDeletion], identity: IdentityDep, database: DatabaseDep,
                  settings: SettingsDep, actor: ActorDep) -> Response[None]:
        with database.transaction() as db:
            user = db.merge(identity.user)
            if not user.is_guest and not verify_password(user.password_hash, data.password or ""):
                raise Forbidden("The password is wrong.", field="password",
                                hint="Type your current password to delete your account.")
            deletion.delete_account(db, settings, actor, user, choices_of(data.projects), via="self",
                                    anyone_may_inherit=False)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=_gone_cookies())


class PeoplePrivacyController(Controller):
    path = "/api/v1/admin/users"
    tags = ("admin",)
    guards = [admins_only]  # noqa: RUF012  (Litestar's way)
    dependencies = {"identity": Provide(provide_admin, sync_to_thread=False)}  # noqa: RUF012  (Litestar's way)

    @post("/{user_id:str}/export", summary="Make a zip of someone's data (administrators; a task of theirs)",
          status_code=HTTP_202_ACCEPTED, sync_to_thread=True)
    def export_person(self, user_id: FromPath[str], identity: IdentityDep, database: DatabaseDep, tasks: TasksDep,
                      actor: ActorDep) -> TaskOut:
        return _start_export(database, tasks, actor, user_id, by_admin=True)

    @get("/{user_id:str}/exports", summary="Someone's latest data exports (administrators)", sync_to_thread=True)
    def person_exports(self, user_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                       tasks: TasksDep) -> list[TaskOut]:
        with database.session() as db:
            rows = list(db.exec(select(Task).where(Task.owner_id == user_id, Task.kind == KIND)
                                .order_by(col(Task.created_at).desc()).limit(EXPORTS_LISTED)).all())
        return tasks.describe(rows)

    @get("/{user_id:str}/deletion", summary="What deleting someone would ask (administrators)", sync_to_thread=True)
    def person_plan(self, user_id: FromPath[str], identity: IdentityDep, database: DatabaseDep) -> DeletionPlan:
        with database.session() as db:
            return _plan(db, _person(db, user_id), anyone=True)

    @post("/{user_id:str}/delete", summary="Delete someone's account, with a choice for each project they own "
                                           "alone (administrators)", status_code=HTTP_204_NO_CONTENT,
          sync_to_thread=True)
    def delete_with_choices(self, user_id: FromPath[str], data: JSONBody[AccountDeletion], identity: IdentityDep,
                            database: DatabaseDep, settings: SettingsDep, actor: ActorDep) -> None:
        with database.transaction() as db:
            user = self._deletable(db, identity.user, user_id)
            deletion.delete_account(db, settings, actor, user, choices_of(data.projects), via="admin",
                                    anyone_may_inherit=True)

    @staticmethod
    def _deletable(db: Session, admin: User, user_id: str) -> User:
        user = _person(db, user_id)
        if user.id == admin.id:
            raise Conflict("You cannot delete your own account here.",
                           hint="Use Account → Delete my account (another administrator must remain).")
        return user


class RetentionController(Controller):
    path = "/api/v1/admin/retention"
    tags = ("admin",)
    guards = [admins_only]  # noqa: RUF012  (Litestar's way)
    dependencies = {"identity": Provide(provide_admin, sync_to_thread=False)}  # noqa: RUF012  (Litestar's way)

    @get(summary="How long the trash, guests, the audit log, task history and data exports are kept "
                 "(administrators)", sync_to_thread=True)
    def read(self, identity: IdentityDep, database: DatabaseDep, settings: SettingsDep) -> RetentionOut:
        with database.session() as db:
            return RetentionOut.of(retention.current(db, settings))

    @patch(summary="Change how long things are kept (administrators); the next sweep, within the hour, applies it",
           sync_to_thread=True)
    def change(self, data: JSONBody[RetentionPatch], identity: IdentityDep, database: DatabaseDep,
               settings: SettingsDep, actor: ActorDep) -> RetentionOut:
        changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
        with database.transaction() as db:
            row, before = retention.update(db, settings, changes, identity.user.id)
            if before:
                record(db, actor, Action.SETTINGS_RETENTION, Target("settings", "retention", "Retention"),
                       {name: {"from": was, "to": changes[name]} for name, was in before.items()})
            return RetentionOut.of(row)
