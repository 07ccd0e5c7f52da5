"""/api/v1/auth/me/preferences: what the studio remembers per person (the guided tour's state), guests included.

The record is small and closed: a PATCH names only the fields below (an unknown one is refused), each bounded,
so a client cannot grow it. A user without a row has the defaults (never saw the tour)."""

from __future__ import annotations

from typing import Literal

from litestar import Controller, get, patch
from litestar.params import JSONBody
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.dialects.sqlite import insert
from sqlmodel import Session

from mediastudio.accounts.tables import Preferences
from mediastudio.auth.identity import IdentityDep
from mediastudio.common import UtcDatetime, utcnow
from mediastudio.db import DatabaseDep

TourStatus = Literal["new", "active", "done", "skipped"]
TOUR_STEP_MAX = 31  # more steps than the tour has; the UI clamps a step it does not know
BODY_MAX = 1024  # bytes: the whole record fits many times over


class PreferencesOut(BaseModel):
    tour_status: TourStatus = Field(
        description="new: never seen; active: under way at tour_step; done: finished; skipped: dismissed.")
    tour_step: int = Field(description="The tour's step the person was on (0 = the first).")
    updated_at: UtcDatetime | None = Field(description="When it last changed; null while never changed.")

    @classmethod
    def of(cls, row: Preferences | None) -> PreferencesOut:
        if row is None:
            return cls(tour_status="new", tour_step=0, updated_at=None)
        status: TourStatus = row.tour_status if row.tour_status in ("new", "active", "done", "skipped") \
            else "new"  # type: ignore[assignment]
        return cls(tour_status=status, tour_step=row.tour_step, updated_at=row.updated_at)


class PreferencesPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")  # closed in the API document too (api_docs.CLOSED_BODIES)

    tour_status: TourStatus | None = Field(None, description="new, active, done or skipped.")
    tour_step: int | None = Field(None, ge=0, le=TOUR_STEP_MAX, description=f"0 to {TOUR_STEP_MAX}.")


def get_preferences(db: Session, user_id: str) -> PreferencesOut:
    return PreferencesOut.of(db.get(Preferences, user_id))


def update_preferences(db: Session, user_id: str, change: PreferencesPatch) -> PreferencesOut:
    """Apply `change` to the user's record, making it on first use (one statement: two tabs racing both land)."""
    values = change.model_dump(exclude_none=True)
    now = utcnow()
    statement = insert(Preferences).values(user_id=user_id, updated_at=now, **values)
    db.exec(statement.on_conflict_do_update(
        index_elements=["user_id"], set_={**values, "updated_at": now}))
    db.flush()
    row = db.get(Preferences, user_id)
    if row is not None:
        db.refresh(row)
    return PreferencesOut.of(row)


class PreferencesController(Controller):
    path = "/api/v1/auth/me/preferences"
    tags = ("auth",)

    @get("/", summary="Your studio preferences (where you are in the guided tour)", sync_to_thread=True)
    def read(self, identity: IdentityDep, database: DatabaseDep) -> PreferencesOut:
        with database.session() as db:
            return get_preferences(db, identity.user.id)

    @patch("/", summary="Change your studio preferences (the guided tour's step, done or skipped)",
           sync_to_thread=True, request_max_body_size=BODY_MAX)
    def update(self, data: JSONBody[PreferencesPatch], identity: IdentityDep,
               database: DatabaseDep) -> PreferencesOut:
        with database.transaction() as db:
            return update_preferences(db, identity.user.id, data)
