"""Server-wide auth switches (open registration, guests), first taken from settings, then the admin's."""

from __future__ import annotations

from sqlmodel import Session

from mediastudio.auth.tables import AuthPolicy
from mediastudio.settings import Settings


def get_policy(db: Session, settings: Settings) -> AuthPolicy:
    policy = db.get(AuthPolicy, 1)
    if policy is None:
        policy = AuthPolicy(id=1, registration_open=settings.registration_open,
                            guests_enabled=settings.guests_enabled)
        db.add(policy)
        db.flush()
    return policy


def update_policy(db: Session, settings: Settings, *, registration_open: bool | None,
                  guests_enabled: bool | None) -> AuthPolicy:
    policy = get_policy(db, settings)
    if registration_open is not None:
        policy.registration_open = registration_open
    if guests_enabled is not None:
        policy.guests_enabled = guests_enabled
    db.add(policy)
    return policy
