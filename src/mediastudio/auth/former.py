"""Deleted accounts in views: their activity, history and tasks are credited to "Former member"."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from mediastudio.auth.tables import FormerMember

FORMER_MEMBER = "Former member"


def remember(db: Session, user_id: str) -> None:
    if db.get(FormerMember, user_id) is None:
        db.add(FormerMember(user_id=user_id))


def former_members(db: Session, ids: Iterable[str | None]) -> set[str]:
    """Which of `ids` were accounts of this studio that were deleted."""
    wanted = sorted({i for i in ids if i})
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # SQLite bounds the variables of one statement
        found.update(db.exec(select(FormerMember.user_id).where(
            col(FormerMember.user_id).in_(wanted[start:start + 500]))).all())
    return found
