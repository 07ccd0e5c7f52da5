"""/api/v1/admin/audit: the audit log (the audit room), for administrators: filtered pages, and the same list as a
CSV or JSON download."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream
from pydantic import BaseModel

from mediastudio.audit import query
from mediastudio.audit.query import AuditFilter
from mediastudio.audit.tables import AuditEntry
from mediastudio.auth.identity import IdentityDep, admins_only, provide_admin
from mediastudio.common import Page, UtcDatetime
from mediastudio.db import DatabaseDep
from mediastudio.paging import OFFSET_PATTERN, offset_of

PAGE = 50
EXPORT_MAX = 100_000  # entries in one download at most (narrow the filters for more)


class AuditEntryOut(BaseModel):
    id: int
    at: UtcDatetime
    action: str
    actor_id: str | None
    actor_name: str
    ip: str
    user_agent: str
    target_kind: str
    target_id: str
    target_label: str
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls.model_validate(query.as_dict(entry))


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def provide_filter(
    action: Annotated[list[str] | None, QueryParameter(
        description="Actions (repeatable), or families: `user` is every user.* action", max_items=40)] = None,
    by: Annotated[str | None, QueryParameter(
        max_length=64, description="Who acted: a user id or username (also 'command line', 'anonymous')")] = None,
    target: Annotated[str | None, QueryParameter(max_length=200, description="A target's id or label")] = None,
    since: Annotated[datetime | None, QueryParameter(
        name="from", description="From this time (ISO 8601; UTC when no offset is given)")] = None,
    until: Annotated[datetime | None, QueryParameter(name="to", description="Before this time")] = None,
    q: Annotated[str | None, QueryParameter(
        max_length=100, description="Text in a name, an address, a label or the details")] = None,
) -> AuditFilter:
    """The filters of the list and of its downloads (one dependency, so both read the same query)."""
    return AuditFilter(actions=tuple(a.strip() for a in action or () if a.strip()), actor=by, target=target,
                       since=_utc(since), until=_utc(until), text=q).check()


AuditFilterDep = NamedDependency[AuditFilter]


class AuditController(Controller):
    path = "/api/v1/admin/audit"
    tags = ("admin",)
    guards = [admins_only]  # noqa: RUF012  (Litestar's way)
    dependencies = {  # noqa: RUF012  (Litestar's way)
        "identity": Provide(provide_admin, sync_to_thread=False),
        "wanted": Provide(provide_filter, sync_to_thread=False),
    }

    @get(summary="What was done, by whom, when and from where, newest first (administrators)", sync_to_thread=True)
    def list_entries(self, wanted: AuditFilterDep, database: DatabaseDep, identity: IdentityDep,
                     cursor: Annotated[str | None, QueryParameter(pattern=OFFSET_PATTERN, description=(
                         "The `next_cursor` of the previous page (omit it for the first page)."))] = None,
                     limit: Annotated[int, QueryParameter(ge=1, le=200)] = PAGE) -> Page[AuditEntryOut]:
        with database.session() as db:
            # The cursor is the id of the last entry shown (digits, read as the offset cursors are).
            rows, after = query.page(db, wanted, before=offset_of(cursor) if cursor else None, limit=limit)
        return Page(items=[AuditEntryOut.of(r) for r in rows], next_cursor=str(after) if after else None)

    @get("/export", summary=f"The filtered list as a CSV or JSON download ({EXPORT_MAX} entries at most; "
                            "administrators)", sync_to_thread=False)
    def export(self, wanted: AuditFilterDep, database: DatabaseDep, identity: IdentityDep,
               format: FromQuery[Literal["csv", "json"]] = "csv") -> Stream:
        rows = query.entries(database.session, wanted, EXPORT_MAX)
        lines = query.csv_lines(rows) if format == "csv" else query.json_lines(rows)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return Stream(lines, media_type="text/csv; charset=utf-8" if format == "csv"
                      else "application/json",
                      headers={"Content-Disposition": f'attachment; filename="audit-log-{stamp}.{format}"'})
