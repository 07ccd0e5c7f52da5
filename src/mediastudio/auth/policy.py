"""Server-wide auth switches (open registration, guests) and who the studio is for: first taken from settings,
then the administrator's choice of a mode (auth/modes.py) and of each switch."""

from __future__ import annotations

from sqlmodel import Session, col, select

from mediastudio.auth.modes import MODE_SWITCHES, StudioMode, Switches, matches
from mediastudio.auth.tables import AuthPolicy, AuthSession, User
from mediastudio.events.access import access_changed
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
    """Record `mode` and set both switches to its defaults, then the switches given (None: left as they are).
    Turning guests off ends every guest's sessions: guest access stops now, not when a session runs out."""
    policy = get_policy(db, settings)
    guests_were = policy.guests_enabled
    if mode is not None:
        policy.mode = mode.value
        policy.registration_open, policy.guests_enabled = MODE_SWITCHES[mode]
    if registration_open is not None:
        policy.registration_open = registration_open
    if guests_enabled is not None:
        policy.guests_enabled = guests_enabled
    db.add(policy)
    if guests_were and not policy.guests_enabled:
        end_guest_sessions(db)
    return policy


def end_guest_sessions(db: Session) -> int:
    """Sign every guest out (their open sockets re-check and close); their sandboxes stay until guests expire.
    Answers how many guests had a session."""
    signed_in: set[str] = set()
    for session in db.exec(select(AuthSession).join(User, col(User.id) == col(AuthSession.user_id))
                           .where(col(User.is_guest) == True)).all():  # noqa: E712
        signed_in.add(session.user_id)
        db.delete(session)  # the identity cache forgets the guest as this commits (auth/cache.py)
    for guest in signed_in:
        access_changed(db, user_id=guest)
    return len(signed_in)
