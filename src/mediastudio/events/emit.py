"""How services announce changes: queued on the database session, published once it commits."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session


def emit(db: Session, event_type: str, workspace_id: str, **data: Any) -> None:
    db.info.setdefault("events", []).append((event_type, workspace_id, data))
