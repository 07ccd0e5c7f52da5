"""The people of the server, as administrators manage them (`/api/v1/admin/users`): list, create, disable, make
admin, set or reset a password, delete — their projects deleted with them or handed to someone else (the deleting
is privacy's, the one service of every way to delete an account, handed over as the `account_deletion` dependency;
exporting someone's data and a choice for each project are privacy's routes, privacy/controller.py).

An administrator cannot lock themselves out (disable, demote or delete their own account here) and the server
always keeps one enabled administrator.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Annotated, Protocol, runtime_checkable

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, or_, select

from mediastudio.accounts import invites, users
from mediastudio.accounts.tables import Invite
from mediastudio.audit.actions import Action
from mediastudio.audit.record import Actor, ActorDep, Target, record
from mediastudio.auth.identity import Identity, IdentityDep, admins_only, provide_admin
from mediastudio.auth.schemas import Credentials, Password
from mediastudio.auth.tables import User
from mediastudio.common import Page, UtcDatetime
from mediastudio.db import DatabaseDep
from mediastudio.errors import BadRequest, Conflict, NotFound
from mediastudio.events.access import access_changed
from mediastudio.paging import OffsetCursor, offset_of
from mediastudio.settings import Settings, SettingsDep

PAGE = 100


class Person(BaseModel):
    id: str
    username: str
    display_name: str
    color: str
    is_admin: bool
    is_guest: bool
    disabled: bool
    created_at: UtcDatetime
    last_seen_at: UtcDatetime

    @classmethod
    def of(cls, user: User) -> Person:
        return cls.model_validate(user, from_attributes=True)


class NewPerson(Credentials):
    is_admin: bool = False


class PersonPatch(BaseModel):
    disabled: bool | None = Field(None, description="A disabled account cannot log in; its sessions end at once.")
    is_admin: bool | None = None
    display_name: str | None = Field(None, max_length=users.DISPLAY_NAME_MAX)


class PasswordReset(BaseModel):
    password: Password | None = Field(None, description="The new password; omitted, the server makes one up and "
                                                        "answers it (once).")


class PasswordSet(BaseModel):
    password: str | None = Field(None, description="The password the server made up: hand it to the person "
                                                   "(it is not shown again). Null when you chose it.")


class TheirProjects(StrEnum):
    delete = "delete"
    transfer = "transfer"


@runtime_checkable  # Litestar checks what a dependency provides against its type
class AccountDeletion(Protocol):
    """Delete `user` with every project they own alone handed to `to`, or deleted with them when None."""

    def __call__(self, db: Session, settings: Settings, actor: Actor, user: User, *, to: User | None) -> object: ...


AccountDeletionDep = NamedDependency[AccountDeletion]


def _person(db: Session, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id[:64]}.", hint="GET /api/v1/admin/users lists them.")
    return user


def _not_yourself(identity: Identity, user: User, what: str) -> None:
    if user.id == identity.user.id:
        raise Conflict(f"You cannot {what} your own account here.",
                       hint="Another administrator can; this keeps the server from losing its last one.")


def _other_admins(db: Session, user: User) -> int:
    return db.exec(select(func.count()).select_from(User).where(
        col(User.is_admin).is_(True), col(User.disabled).is_(False), User.id != user.id)).one()


class PeopleController(Controller):
    path = "/api/v1/admin/users"
    tags = ("admin",)
    guards = [admins_only]  # noqa: RUF012  (Litestar's way)
    dependencies = {"identity": Provide(provide_admin, sync_to_thread=False)}  # noqa: RUF012  (Litestar's way)

    @get("/", summary="Everyone with an account (administrators)", sync_to_thread=True)
    def list_people(self, database: DatabaseDep, identity: IdentityDep,
                    q: Annotated[str | None, Parameter(max_length=100, description="Part of a username or "
                                                                                   "display name")] = None,
                    guests: Annotated[bool, Parameter(description="Guests too")] = False,
                    cursor: OffsetCursor = None) -> Page[Person]:
        offset = offset_of(cursor)
        with database.session() as db:
            query = select(User)
            if not guests:
                query = query.where(col(User.is_guest).is_(False))
            if q and q.strip():
                like = f"%{q.strip().lower().replace('%', '').replace('_', '')}%"
                query = query.where(or_(func.lower(User.username).like(like),
                                        func.lower(User.display_name).like(like)))
            rows = db.exec(query.order_by(col(User.username)).offset(offset).limit(PAGE + 1)).all()
        more = len(rows) > PAGE
        return Page(items=[Person.of(u) for u in rows[:PAGE]], next_cursor=str(offset + PAGE) if more else None)

    @post("/", summary="Create an account (administrators; open registration not needed)",
          status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create_person(self, data: JSONBody[NewPerson], database: DatabaseDep, settings: SettingsDep,
                      identity: IdentityDep, actor: ActorDep) -> Person:
        with database.transaction() as db:
            user = users.create_user(db, username=data.username, password=data.password,
                                     display_name=data.display_name, is_admin=data.is_admin,
                                     min_length=settings.password_min_length)
            record(db, actor, Action.USER_CREATE, Target.user(user), {"via": "admin", "is_admin": data.is_admin})
        return Person.of(user)

    @patch("/{user_id:str}", summary="Disable or enable, make or unmake administrator, rename (administrators)",
           sync_to_thread=True)
    def update_person(self, user_id: FromPath[str], data: JSONBody[PersonPatch], database: DatabaseDep,
                      identity: IdentityDep, actor: ActorDep) -> Person:
        with database.transaction() as db:
            user = _person(db, user_id)
            if user.is_guest and data.is_admin:
                raise BadRequest("A guest cannot be an administrator.", hint="They register first.")
            if data.disabled is not None and data.disabled != user.disabled:
                if data.disabled:
                    _not_yourself(identity, user, "disable")
                    if user.is_admin and _other_admins(db, user) == 0:
                        raise Conflict("This is the last enabled administrator.", hint="Make someone else one first.")
                users.set_disabled(db, user, data.disabled)
                record(db, actor, Action.USER_DISABLE if data.disabled else Action.USER_ENABLE, Target.user(user))
            if data.is_admin is not None and data.is_admin != user.is_admin:
                if not data.is_admin:
                    _not_yourself(identity, user, "stop being administrator of")
                    if _other_admins(db, user) == 0:
                        raise Conflict("This is the last enabled administrator.", hint="Make someone else one first.")
                user.is_admin = data.is_admin
                db.add(user)
                record(db, actor, Action.USER_ADMIN_GRANT if data.is_admin else Action.USER_ADMIN_REVOKE,
                       Target.user(user))
                access_changed(db, user_id=user.id)  # their open sockets hear what an administrator hears, or not
            if data.display_name is not None:
                users.update_profile(db, user, display_name=data.display_name)
        return Person.of(user)

    @post("/{user_id:str}/password", summary="Set or reset someone's password; their sessions end (administrators)",
          status_code=200, sync_to_thread=True)
    def reset_password(self, user_id: FromPath[str], data: JSONBody[PasswordReset], database: DatabaseDep,
                       settings: SettingsDep, identity: IdentityDep, actor: ActorDep) -> PasswordSet:
        made = None if data.password else "-".join(secrets.token_urlsafe(6) for _ in range(3))
        with database.transaction() as db:
            user = _person(db, user_id)
            if user.is_guest:
                raise BadRequest("Guests have no password.", hint="They register to get one.")
            users.set_password(db, user, data.password or made or "", min_length=settings.password_min_length,
                               keep_session=identity.session.id if identity.session and user.id == identity.user.id
                               else None)
            record(db, actor, Action.USER_PASSWORD_RESET, Target.user(user), {"made_up": made is not None})
        return PasswordSet(password=made)

    @delete("/{user_id:str}", summary="Delete an account; its projects deleted or handed to someone (administrators)",
            status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def delete_person(self, user_id: FromPath[str], database: DatabaseDep, settings: SettingsDep, identity: IdentityDep,
                      actor: ActorDep, account_deletion: AccountDeletionDep,
                      projects: Annotated[TheirProjects, Parameter(
                          description="What happens to every project they own alone: `delete`, or `transfer` to "
                                      "`to` (POST …/delete chooses for each)")],
                      to: Annotated[str | None, Parameter(max_length=64, description="Who gets them (a user id), "
                                                                                    "with projects=transfer")] = None
                      ) -> None:
        with database.transaction() as db:
            user = _person(db, user_id)
            _not_yourself(identity, user, "delete")
            heir = None
            if projects is TheirProjects.transfer:
                if not to:
                    raise BadRequest("Say who gets their projects.", field="to",
                                     hint="Send to=<user id> with projects=transfer.")
                heir = _person(db, to)
                if heir.id == user.id or heir.is_guest or heir.disabled:
                    raise BadRequest(f"{heir.display_name} cannot take them.", field="to",
                                     hint="Pick another enabled account with a password.")
            account_deletion(db, settings, actor, user, to=heir)


class NewInvite(BaseModel):
    days: int = Field(7, ge=1, le=90, description="Valid for this many days")
    uses: int = Field(1, ge=1, le=500, description="How many people may register with it")
    note: str = Field("", max_length=200, description="Who it is for, for your list")


class InviteOut(BaseModel):
    id: str
    note: str
    uses_left: int
    used: int
    created_at: UtcDatetime
    expires_at: UtcDatetime
    secret: str | None = Field(None, description="Only when it is made: the link is /register?invite=<secret>")

    @classmethod
    def of(cls, invite: Invite, secret: str | None = None) -> InviteOut:
        return cls(id=invite.id, note=invite.note, uses_left=invite.uses_left, used=invite.used,
                   created_at=invite.created_at, expires_at=invite.expires_at, secret=secret)


def _invite_target(invite: Invite) -> Target:
    # The id is the hash of the link's secret: the log keeps only its start, enough to match the list.
    return Target("invite", invite.id[:12], invite.note)


class InvitesController(Controller):
    path = "/api/v1/admin/invites"
    tags = ("admin",)
    guards = [admins_only]  # noqa: RUF012  (Litestar's way)
    dependencies = {"identity": Provide(provide_admin, sync_to_thread=False)}  # noqa: RUF012  (Litestar's way)

    @get("/", summary="The invitation links still valid (administrators)", sync_to_thread=True)
    def list_invites(self, database: DatabaseDep, identity: IdentityDep) -> Page[InviteOut]:
        with database.session() as db:
            return Page(items=[InviteOut.of(i) for i in invites.active(db)])

    @post("/", summary="Make an invitation link: who holds it may register while registration is closed "
                       "(administrators)", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def make_invite(self, data: JSONBody[NewInvite], database: DatabaseDep, identity: IdentityDep,
                    actor: ActorDep) -> InviteOut:
        with database.transaction() as db:
            invite, secret = invites.make(db, identity.user, days=data.days, uses=data.uses, note=data.note)
            record(db, actor, Action.INVITE_CREATE, _invite_target(invite), {"days": data.days, "uses": data.uses})
        return InviteOut.of(invite, secret)

    @delete("/{invite_id:str}", summary="Withdraw an invitation link (administrators)",
            status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def revoke_invite(self, invite_id: FromPath[str], database: DatabaseDep, identity: IdentityDep,
                      actor: ActorDep) -> None:
        with database.transaction() as db:
            record(db, actor, Action.INVITE_REVOKE, _invite_target(invites.revoke(db, invite_id)))
