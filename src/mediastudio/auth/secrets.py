"""Random secrets and their hashes: session cookies, CSRF tokens, API tokens."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "ms_"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """sha256 hex: secrets have 256 bits of entropy, so a fast hash is the right tool at rest."""
    return hashlib.sha256(secret.encode()).hexdigest()
