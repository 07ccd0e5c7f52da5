"""/api/v1/auth: first-run setup, registration, login, guests, logout, the caller's profile, policy."""

from __future__ import annotations

from typing import TypedDict

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import Cookie
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from mediastudio.accounts import invites, users
from mediastudio.accounts.welcome import GuestWelcomeDep
from mediastudio.audit.actions import Action
from mediastudio.audit.record import Actor, ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep, OptionalIdentityDep, provide_admin
from mediastudio.auth.middleware import CSRF_COOKIE, SESSION_COOKIE, client_ip, json_from_this_site
from mediastudio.auth.modes import is_loopback
from mediastudio.auth.passwords import verify_password
from mediastudio.auth.policy import get_policy, is_custom, policy_mode, update_policy
from mediastudio.auth.ratelimit import GuestLimitDep, LoginThrottleDep
from mediastudio.auth.schemas import (
    AuthConfig,
    AuthConfigPatch,
    InviteCheck,
    LoginBody,
    Me,
    ProfilePatch,
    Registration,
    Setup,
    UserOut,
)
from mediastudio.auth.sessions import create_session, revoke_session
from mediastudio.auth.tables import AuthPolicy, User
from mediastudio.db import Database, DatabaseDep
from mediastudio.errors import Conflict, Forbidden, MediastudioError, NotFound, Unauthorized
from mediastudio.settings import Settings, SettingsDep

SETUP_FIRST = "Create the administrator account first (the setup page, or: mediastudio users create NAME --admin)."


def _cookies(settings: Settings, request: Request, secret: str, csrf: str) -> list[Cookie]:
    # Secure whenever the studio is reached over HTTPS (served with TLS, or forced by the setting).
    secure = settings.cookie_secure or request.url.scheme == "https"

    def cookie(key: str, value: str, httponly: bool) -> Cookie:
        return Cookie(key=key, value=value, httponly=httponly, path="/", samesite="lax", secure=secure,
                      max_age=settings.session_days * 86400)

    return [cookie(SESSION_COOKIE, secret, httponly=True), cookie(CSRF_COOKIE, csrf, httponly=False)]


class _NewAccount(TypedDict):
    """What registering asks of users.create_user and users.claim_guest."""

    username: str
    password: str
    display_name: str | None
    min_length: int


def _signed_in(database: Database, settings: Settings, request: Request, user: User, actor: Actor,
               status: int = HTTP_200_OK) -> Response[Me]:
    """Open a browser session for `user` and answer who they are, with the cookies set."""
    with database.transaction() as db:
        record(db, actor.signed_in_as(user), Action.LOGIN, Target.user(user),
               {"guest": True} if user.is_guest else None)
        secret, session = create_session(
            db,
            user,
            days=settings.session_days,
            user_agent=request.headers.get("user-agent", ""),
            ip=client_ip(request.scope),
        )
    me = Me(user=UserOut.of(user), via="session", csrf_token=session.csrf_token)
    return Response(me, status_code=status, cookies=_cookies(settings, request, secret, session.csrf_token))


def _switches(policy: AuthPolicy) -> dict[str, object]:
    mode = policy_mode(policy)
    return {"mode": mode.value if mode else None, "registration_open": policy.registration_open,
            "guests_enabled": policy.guests_enabled}


def _failed_login(database: Database, actor: Actor, username: str, reason: str) -> None:
    """A failed login is its own entry, in a transaction of its own (nothing else changed)."""
    with database.transaction() as db:
        record(db, Actor(user_id=None, name=username.strip().lower(), ip=actor.ip, user_agent=actor.user_agent),
               Action.LOGIN_FAILED, Target("user", "", username.strip().lower()), {"reason": reason})


def _auth_config(database: Database, settings: Settings) -> AuthConfig:
    with database.transaction() as db:
        policy = get_policy(db, settings)
        return AuthConfig(
            setup_required=users.count_registered(db) == 0,
            registration_open=policy.registration_open,
            guests_enabled=policy.guests_enabled,
            mode=policy_mode(policy),
            custom=is_custom(policy),
            listens_beyond_loopback=not is_loopback(settings.host),
            password_min_length=settings.password_min_length,
            guest_expiry_days=settings.guest_expiry_days,
            colors=list(users.COLORS),
        )


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ("auth",)

    @get("/config", summary="What the login page should offer", sync_to_thread=True)
    def config(self, database: DatabaseDep, settings: SettingsDep) -> AuthConfig:
        return _auth_config(database, settings)

    @patch(
        "/config",
        summary="Who the studio is for; open or close registration and guest access (admins)",
        sync_to_thread=True,
        dependencies={"identity": Provide(provide_admin, sync_to_thread=False)},
    )
    def update_config(self, data: JSONBody[AuthConfigPatch], database: DatabaseDep, settings: SettingsDep,
                      identity: IdentityDep, actor: ActorDep) -> AuthConfig:
        with database.transaction() as db:
            before = _switches(get_policy(db, settings))
            after = _switches(update_policy(db, settings, registration_open=data.registration_open,
                                            guests_enabled=data.guests_enabled, mode=data.mode))
            record(db, actor, Action.SETTINGS_ACCESS, Target("settings", "access", "Who is this studio for"),
                   {"before": before, "after": after})
        return _auth_config(database, settings)

    @post(
        "/setup",
        summary="Create the first administrator (only while no account exists)",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        guards=[json_from_this_site],
    )
    def setup(self, data: JSONBody[Setup], request: Request, database: DatabaseDep,
              settings: SettingsDep, actor: ActorDep) -> Response[Me]:
        with database.transaction() as db:
            if users.count_registered(db) > 0:
                raise Conflict("This server is set up already.", hint="Log in instead.")
            user = users.create_user(
                db,
                username=data.username,
                password=data.password,
                display_name=data.display_name,
                is_admin=True,
                min_length=settings.password_min_length,
            )
            # A new account is recorded as made by the person who made it for themself (no one was signed in).
            record(db, actor.signed_in_as(user), Action.USER_CREATE, Target.user(user),
                   {"via": "setup", "is_admin": True})
            if data.mode is not None:  # without one, the settings' switches stand
                policy = update_policy(db, settings, registration_open=None, guests_enabled=None, mode=data.mode)
                record(db, actor.signed_in_as(user), Action.SETTINGS_ACCESS,
                       Target("settings", "access", "Who is this studio for"), {"after": _switches(policy)})
        return _signed_in(database, settings, request, user, actor, HTTP_201_CREATED)

    @get("/invites/{secret:str}", summary="Whether an invitation link is still valid (anyone holding it)",
         sync_to_thread=True)
    def check_invite(self, secret: FromPath[str], database: DatabaseDep) -> InviteCheck:
        with database.session() as db:
            invite = invites.find(db, secret)
        if invite is None:
            raise NotFound("This invitation link has expired or has been used.",
                           hint="Ask the administrator who sent it for a new one.")
        return InviteCheck(expires_at=invite.expires_at)

    @post(
        "/register",
        summary="Create an account (a guest calling this keeps their work)",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        guards=[json_from_this_site],
    )
    def register(
        self,
        data: JSONBody[Registration],
        request: Request,
        database: DatabaseDep,
        settings: SettingsDep,
        maybe_identity: OptionalIdentityDep,
        actor: ActorDep,
    ) -> Response[Me]:
        with database.transaction() as db:
            if users.count_registered(db) == 0:
                raise Conflict("No administrator exists yet.", hint=SETUP_FIRST)
            guest = maybe_identity.user if maybe_identity and maybe_identity.user.is_guest else None
            if data.invite:
                invites.use(db, data.invite)  # one use taken in this transaction; refused if none is left
            elif not get_policy(db, settings).registration_open:
                # A guest keeping their sandbox makes a full account too: it needs open registration or a link.
                raise Forbidden("Registration is closed on this server.",
                                hint="Ask an administrator for an account or an invitation link (an administrator "
                                     "opens registration in Server settings → Who is this studio for).")
            kwargs: _NewAccount = {
                "username": data.username,
                "password": data.password,
                "display_name": data.display_name,
                "min_length": settings.password_min_length,
            }
            if guest is not None:
                user = users.claim_guest(db, db.merge(guest), **kwargs)
            else:
                user = users.create_user(db, **kwargs)
            via = "guest_claim" if guest is not None else "invite" if data.invite else "register"
            record(db, actor.signed_in_as(user), Action.USER_CREATE, Target.user(user), {"via": via})
        if guest is not None and maybe_identity and maybe_identity.session:
            with database.transaction() as db:
                db.delete(db.merge(maybe_identity.session))  # a fresh session for the new account
        return _signed_in(database, settings, request, user, actor, HTTP_201_CREATED)

    @post("/login", summary="Log in with username and password", status_code=HTTP_200_OK, sync_to_thread=True,
          guards=[json_from_this_site])
    def login(self, data: JSONBody[LoginBody], request: Request, database: DatabaseDep, settings: SettingsDep,
              login_throttle: LoginThrottleDep, actor: ActorDep) -> Response[Me]:
        ip = client_ip(request.scope)
        # Counted as a failure before the password is checked (one atomic step): parallel tries cannot pass the
        # lock together; a right password takes the count back.
        # Tries refused by the lock are not recorded: the lock bounds the entries one address can add.
        stamp = login_throttle.attempt(data.username, ip)
        try:
            with database.transaction() as db:
                user = users.authenticate(db, data.username, data.password)
        except MediastudioError as exc:  # a disabled account, the right password given
            _failed_login(database, actor, data.username, exc.detail)
            raise
        if user is None:
            _failed_login(database, actor, data.username, "wrong username or password")
            raise Unauthorized(
                "Wrong username or password.", hint="Check both; usernames are not case-sensitive, passwords are."
            )
        login_throttle.succeeded(data.username, ip, stamp)
        return _signed_in(database, settings, request, user, actor)

    @post(
        "/guest",
        summary="Try without an account: a guest with a sandbox workspace",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        opt={"expensive": True},
        guards=[json_from_this_site],
    )
    def guest(self, request: Request, database: DatabaseDep, settings: SettingsDep,
              guest_limit: GuestLimitDep, guest_welcome: GuestWelcomeDep, actor: ActorDep) -> Response[Me]:
        with database.transaction() as db:
            if users.count_registered(db) == 0:
                raise Conflict("No administrator exists yet.", hint=SETUP_FIRST)
            if not get_policy(db, settings).guests_enabled:
                raise Forbidden("Guest access is turned off on this server.",
                                hint="Log in, or ask an administrator to turn on guest access (Server settings → "
                                     "Who is this studio for).")
            guest_limit.check(client_ip(request.scope))
            user = users.create_guest(db)
            record(db, actor.signed_in_as(user), Action.USER_CREATE, Target.user(user), {"via": "guest"})
        guest_welcome(user.id)  # e.g. the sample projects, copied into the sandbox
        return _signed_in(database, settings, request, user, actor, HTTP_201_CREATED)

    @post("/logout", summary="End this browser session", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def logout(self, request: Request, database: DatabaseDep, actor: ActorDep) -> Response[None]:
        secret = request.cookies.get(SESSION_COOKIE)
        if secret:
            with database.transaction() as db:
                if revoke_session(db, secret) and actor.user_id is not None:
                    record(db, actor, Action.LOGOUT, Target("user", actor.user_id, actor.name))
        gone = [Cookie(key=name, value="", path="/", max_age=0, expires=0) for name in (SESSION_COOKIE, CSRF_COOKIE)]
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=gone)

    @get("/me", summary="Who you are", sync_to_thread=False)
    def me(self, identity: IdentityDep) -> Me:
        return Me(
            user=UserOut.of(identity.user),
            via=identity.via,
            csrf_token=identity.session.csrf_token if identity.session else None,
        )

    @patch("/me", summary="Change your display name, colour or password", sync_to_thread=True)
    def update_me(self, data: JSONBody[ProfilePatch], identity: IdentityDep, database: DatabaseDep,
                  settings: SettingsDep, actor: ActorDep) -> Me:
        with database.transaction() as db:
            user = db.merge(identity.user)
            users.update_profile(db, user, display_name=data.display_name, color=data.color)
            if data.password is not None:
                if user.is_guest:
                    raise Forbidden("Guests have no password.", hint="Register to set one and keep your work.")
                if not verify_password(user.password_hash, data.current_password or ""):
                    raise Forbidden(
                        "The current password is wrong.",
                        field="current_password",
                        hint="Send your current password as current_password.",
                    )
                users.set_password(
                    db,
                    user,
                    data.password,
                    min_length=settings.password_min_length,
                    keep_session=identity.session.id if identity.session else None,
                )
                record(db, actor, Action.USER_PASSWORD_CHANGE, Target.user(user))
        return Me(
            user=UserOut.of(user),
            via=identity.via,
            csrf_token=identity.session.csrf_token if identity.session else None,
        )
