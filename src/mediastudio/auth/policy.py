"""Server-wide auth switches (open registration, guests) and who the studio is for: first taken from settings,
then the administrator's choice of a mode (auth/modes.py) and of each switch."""

from __future__ import annotations

from sqlmodel import Session

from mediastudio.auth.modes import MODE_SWITCHES, StudioMode, Switches, matches
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


def policy_mode(policy: AuthPolicy) -> StudioMode | None:
    """The mode an administrator picked; None when none was (or the stored name is unknown to this version)."""
    try:
        return StudioMode(policy.mode) if policy.mode else None
    except ValueError:
        return None


def is_custom(policy: AuthPolicy) -> bool:
    """The switches no longer are what the picked mode sets (always so when no mode was picked)."""
    return not matches(policy_mode(policy), Switches(policy.registration_open, policy.guests_enabled))


def update_policy(db: Session, settings: Settings, *, registration_open: bool | None,
                  guests_enabled: bool | None, mode: StudioMode | None = None) -> AuthPolicy:
    """Record `mode` and set both switches to its defaults, then the switches given (None: left as they are)."""
    policy = get_policy(db, settings)
    if mode is not None:
        policy.mode = mode.value
        policy.registration_open, policy.guests_enabled = MODE_SWITCHES[mode]
    if registration_open is not None:
        policy.registration_open = registration_open
    if guests_enabled is not None:
        policy.guests_enabled = guests_enabled
    db.add(policy)
    return policy
