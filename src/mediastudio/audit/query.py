"""Reading the audit log: filters, pages newest first (keyed by the entry id, so entries added meanwhile never
shift a page), downloads as CSV or JSON, and the retention sweep (the only thing that ever removes entries)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, or_, select

from mediastudio.audit.actions import Action
from mediastudio.audit.tables import AuditEntry
from mediastudio.common import utcnow
from mediastudio.errors import BadRequest

FAMILIES = frozenset(a.value.split(".")[0] for a in Action)
CSV_COLUMNS = ("id", "at", "action", "actor_id", "actor_name", "ip", "user_agent", "target_kind", "target_id",
               "target_label", "details")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula


@dataclass(frozen=True)
class AuditFilter:
    actions: tuple[str, ...] = ()  # action names, or families ("user" is every user.* action)
    actor: str | None = None  # a user id or a username (or "command line", "anonymous")
    target: str | None = None  # a target id or its label
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None  # part of a name, an address, a label, the details

    def check(self) -> AuditFilter:
        known = {a.value for a in Action} | FAMILIES
        for action in self.actions:
            if action not in known:
                raise BadRequest(f"'{action[:64]}' is no audit action.", field="action",
                                 hint=f"Use one of: {', '.join(sorted(known))}.")
        return self

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.actions:
            exact = [a for a in self.actions if a not in FAMILIES]
            families = [col(AuditEntry.action).startswith(f"{f}.") for f in self.actions if f in FAMILIES]
            found.append(or_(col(AuditEntry.action).in_(exact), *families))
        if self.actor:
            found.append(or_(col(AuditEntry.actor_id) == self.actor,
                             func.lower(AuditEntry.actor_name) == self.actor.strip().lower()))
        if self.target:
            found.append(or_(col(AuditEntry.target_id) == self.target,
                             func.lower(AuditEntry.target_label) == self.target.strip().lower()))
        if self.since:
            found.append(col(AuditEntry.at) >= self.since)
        if self.until:
            found.append(col(AuditEntry.at) < self.until)
        if self.text and self.text.strip():
            like = "%" + self.text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            found.append(or_(*(func.lower(c).like(like, escape="\\") for c in (
                AuditEntry.actor_name, AuditEntry.ip, AuditEntry.target_label, AuditEntry.target_id,
                AuditEntry.details, AuditEntry.user_agent))))
        return found


def page(db: Session, wanted: AuditFilter, *, before: int | None, limit: int) -> tuple[list[AuditEntry], int | None]:
    """Up to `limit` entries older than the entry `before` (newest first), and the cursor of the next page."""
    query = select(AuditEntry).where(*wanted.conditions())
    if before is not None:
        query = query.where(col(AuditEntry.id) < before)
    rows = list(db.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def entries(db_session: Any, wanted: AuditFilter, most: int, chunk: int = 1000) -> Iterator[AuditEntry]:
    """Every entry `wanted` picks, newest first, `most` at most; read `chunk` at a time, each in a short session
    (`db_session` opens one), so a long download holds no read transaction open."""
    before: int | None = None
    left = most
    while left > 0:
        with db_session() as db:
            rows, cursor = page(db, wanted, before=before, limit=min(chunk, left))
        yield from rows
        left -= len(rows)
        if cursor is None:
            return
        before = cursor


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    at = entry.at.replace(tzinfo=UTC) if entry.at.tzinfo is None else entry.at.astimezone(UTC)
    return {"id": entry.id, "at": at.isoformat().replace("+00:00", "Z"), "action": entry.action,
            "actor_id": entry.actor_id, "actor_name": entry.actor_name, "ip": entry.ip, "user_agent": entry.user_agent,
            "target_kind": entry.target_kind, "target_id": entry.target_id, "target_label": entry.target_label,
            "details": json.loads(entry.details or "{}")}


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(rows: Iterator[AuditEntry]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in rows:
        item = as_dict(entry)
        item["details"] = entry.details
        writer.writerow([safe_cell(item[c]) for c in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_lines(rows: Iterator[AuditEntry]) -> Iterator[str]:
    """One JSON array, written as it is read."""
    yield "["
    for index, entry in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(as_dict(entry), ensure_ascii=False)
    yield "\n]\n"


def remove_older_than(db: Session, days: int) -> int:
    """The retention sweep: entries older than `days` go."""
    cutoff = utcnow() - timedelta(days=days)
    result = db.exec(sql_delete(AuditEntry).where(col(AuditEntry.at) < cutoff))
    return int(result.rowcount or 0)
