"""What the auth API takes and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar.params import Parameter
from pydantic import BaseModel, Field

from mediastudio.api_types import NOT_BLANK, text
from mediastudio.auth.modes import StudioMode
from mediastudio.auth.tables import ApiToken, User
from mediastudio.common import UtcDatetime

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$"  # stored lower-case; 'guest-…' is reserved (422)
USERNAME_RULE = ("A username has 3 to 32 characters: letters, digits, '.', '_' or '-', starting with a letter "
                 "or digit.")
COLOR = r"^#[0-9a-fA-F]{6}$"
PASSWORD_MAX = 1024  # auth.passwords.MAX_LENGTH
DISPLAY_NAME_MAX = 64  # accounts.users.DISPLAY_NAME_MAX
Password = Annotated[str, Field(max_length=PASSWORD_MAX, description="The server's strength rules apply (422 when "
                                "it is too short for this server or too easy to guess).")]


class Credentials(BaseModel):
    username: Annotated[str, *text(pattern=USERNAME_PATTERN, message=USERNAME_RULE,
                                   description="3–32 characters: a–z, 0–9, '.', '_', '-'. Case-insensitive.")]
    password: Password
    display_name: str | None = Field(None, max_length=DISPLAY_NAME_MAX,
                                     description="Shown to others; defaults to the username.")


MODE_DESCRIPTION = ("Who the studio is for: 'solo' (just me on this machine: no registration, no guests), 'team' "
                    "(my team on our network: people join by invitation link or an account an administrator makes; "
                    "no guests), 'class' (a class or open studio: anyone who reaches it registers or tries it as a "
                    "guest, within the guest quotas).")


class Setup(Credentials):
    mode: StudioMode | None = Field(None, description=MODE_DESCRIPTION + " Sets registration and guests to that "
                                    "mode's defaults; without it the server's settings decide "
                                    "(MEDIASTUDIO_REGISTRATION_OPEN, MEDIASTUDIO_GUESTS_ENABLED).")


class Registration(Credentials):
    invite: str | None = Field(None, max_length=128, description="The secret of an invitation link "
                                                                  "(/register?invite=…): lets you register while "
                                                                  "registration is closed.")


class InviteCheck(BaseModel):
    expires_at: UtcDatetime


class LoginBody(BaseModel):
    username: str = Field(max_length=256)
    password: str = Field(max_length=PASSWORD_MAX)


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    color: str = Field(description="Colour of this user's cursor and selections, #rrggbb.")
    is_admin: bool
    is_guest: bool
    created_at: UtcDatetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls.model_validate(user, from_attributes=True)


class Me(BaseModel):
    user: UserOut
    via: Literal["session", "token"]
    csrf_token: str | None = Field(None, description="Send as X-CSRF-Token on writes made with the cookie.")


class ProfilePatch(BaseModel):
    display_name: str | None = Field(None, max_length=DISPLAY_NAME_MAX)
    color: Annotated[Annotated[str, *text(pattern=COLOR, message="A colour is #rrggbb, e.g. #3e63dd.")] | None,
                     Parameter(pattern=COLOR)] = Field(
        None, description="#rrggbb")
    password: Annotated[Password | None, Parameter(max_length=PASSWORD_MAX)] = Field(
        None, description="A new password; needs current_password.")
    current_password: str | None = Field(None, max_length=PASSWORD_MAX)


class AuthConfig(BaseModel):
    setup_required: bool = Field(description="No account exists yet: the first visitor creates the admin.")
    registration_open: bool
    guests_enabled: bool
    mode: StudioMode | None = Field(description=MODE_DESCRIPTION + " Null until an administrator picks one.")
    custom: bool = Field(description="Registration or guests differ from what the mode sets (always true without "
                                     "a mode).")
    listens_beyond_loopback: bool = Field(description="The server listens on an address other machines may reach "
                                                      "(false: 127.0.0.1 only, so nobody else can use it).")
    password_min_length: int
    guest_expiry_days: int = Field(description="Guests idle this many days are removed with their work.")
    colors: list[str] = Field(description="The presence colour palette offered on the profile page.")


class AuthConfigPatch(BaseModel):
    mode: StudioMode | None = Field(None, description="Pick who the studio is for: sets registration and guests to "
                                                      "that mode's defaults (then the switches sent beside it).")
    registration_open: bool | None = None
    guests_enabled: bool | None = None


class TokenCreate(BaseModel):
    name: Annotated[str, *text(min_length=1, max_length=64, pattern=NOT_BLANK,
                               message="A token needs a name besides spaces.")] = Field(
        description="What the token is for, e.g. 'render farm script'.")
    expires_in_days: int | None = Field(90, ge=1, le=3650, description="Days until it stops working; null = never.")


class TokenOut(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it.")
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    last_used_at: UtcDatetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls.model_validate(token, from_attributes=True)


class TokenCreated(TokenOut):
    token: str = Field(description="The secret itself. Shown this once: store it now.")
