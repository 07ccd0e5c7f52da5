"""How services announce changes: queued on the database session, published once it commits."""

from __future__ import annotations

from sqlmodel import Session

from mediastudio.events.schema import Event


def emit(db: Session, event: Event) -> None:
    """Publish `event` once `db` commits (Database.transaction); a rollback drops it."""
    db.info.setdefault("events", []).append(event)
