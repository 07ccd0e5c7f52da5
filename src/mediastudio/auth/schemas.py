"""What the auth API takes and answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from mediastudio.auth.models import ApiToken, User
from mediastudio.common import UtcDatetime


class Credentials(BaseModel):
    username: str = Field(description="3–32 characters: a–z, 0–9, '.', '_', '-'. Case-insensitive.")
    password: str
    display_name: str | None = Field(None, description="Shown to others; defaults to the username.")


class LoginBody(BaseModel):
    username: str
    password: str


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
    display_name: str | None = None
    color: str | None = Field(None, description="#rrggbb")
    password: str | None = Field(None, description="A new password; needs current_password.")
    current_password: str | None = None


class AuthConfig(BaseModel):
    setup_required: bool = Field(description="No account exists yet: the first visitor creates the admin.")
    registration_open: bool
    guests_enabled: bool
    password_min_length: int
    guest_expiry_days: int = Field(description="Guests idle this many days are removed with their work.")
    colors: list[str] = Field(description="The presence colour palette offered on the profile page.")


class AuthConfigPatch(BaseModel):
    registration_open: bool | None = None
    guests_enabled: bool | None = None


class TokenCreate(BaseModel):
    name: str = Field(description="What the token is for, e.g. 'render farm script'.")
    expires_in_days: int | None = Field(90, description="Days until it stops working; null = never.")


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
