"""Password hashing (argon2id, via argon2-cffi) and the strength rules, with messages a person can act on."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mediastudio.errors import BadRequest, Unprocessable

MAX_LENGTH = 1024
# The most common passwords that pass a length rule; refused outright.
COMMON = frozenset({
    "password", "passw0rd", "password1", "password12", "password123", "12345678", "123456789",
    "1234567890", "qwertyuiop", "qwerty123", "iloveyou", "sunshine", "princess", "football",
    "baseball", "superman", "trustno1", "letmein1", "welcome1", "admin123", "administrator",
    "abc12345", "11111111", "00000000", "88888888", "12341234", "asdfghjk", "zaq12wsx", "1q2w3e4r",
    "1qaz2wsx", "qwerty12", "changeme", "mediastudio",
})

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def check_strength(password: str, *, username: str, min_length: int) -> None:
    """Raise BadRequest saying what to change when the password is too weak."""
    hint = f"Use at least {min_length} characters; a few unrelated words make a strong one."
    if len(password) < min_length:  # the minimum is a setting: a 422, not a schema constraint
        raise Unprocessable(f"The password is too short: {len(password)} characters, at least "
                         f"{min_length} are needed.", hint=hint, field="password")
    if len(password) > MAX_LENGTH:
        raise BadRequest(f"The password is too long (more than {MAX_LENGTH} characters).",
                         field="password")
    lowered = password.lower()
    if lowered in COMMON or len(set(password)) <= 2:
        raise Unprocessable("This password is too easy to guess.", hint=hint, field="password")
    if username and username.lower() in lowered:
        raise Unprocessable("The password must not contain the username.", hint=hint, field="password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; an unknown user (no hash) costs the same time as a wrong password."""
    if not password_hash:
        password_hash = _dummy_hash()
        password = "\x00" + password  # never matches the dummy
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("mediastudio-timing-equaliser")
