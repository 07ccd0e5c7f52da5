"""Activity with attribution: "Ana changed steps 20→30 on 'Hero shot'", recorded as scenes are saved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Field, Session, SQLModel, col, select

from mediastudio.common import utcnow

MAX_VALUE = 40


class Activity(SQLModel, table=True):
    __tablename__ = "activity"

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    user_id: str = Field(index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    scene_id: str | None = None
    node_id: str | None = None
    text: str


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _name(node_id: str, node: dict[str, Any]) -> str:
    """What a person calls a node: its title; for one given none (or its type id as one, as the graph model
    stores it), its type in words ('text_to_image' → 'Text to image'); its id only when it has neither."""
    kind, title = node.get("type"), node.get("title")
    if isinstance(title, str) and title and title != kind:
        return title
    if isinstance(kind, str) and kind.strip("_-. "):
        words = " ".join(kind.replace("_", " ").replace("-", " ").split())
        return words[:1].upper() + words[1:]
    return node_id


Entry = tuple[str | None, str]  # (the node it links to, the phrase)
Edit = tuple[str, str | None, str]  # (what changed: a node id, EDGES or GROUPS; the node it links to; the phrase)
# What changed besides a node, as a room notes it (collab/room.py) and `credit` reads it: never a node id (a node
# id has no ':'), so a node named "edges" is credited to whoever changed it, not to whoever changed the edges.
EDGES, GROUPS = ":edges", ":groups"


def _look_changes(old: dict[str, Any], new: dict[str, Any], title: str) -> list[str]:
    """How the canvas draws a node, changed: its colour, collapsed or not (both left out of a node while unset)."""
    phrases = []
    if old.get("color") != new.get("color"):
        phrases.append(f"coloured '{title}' {new['color']}" if new.get("color") else f"took the colour off '{title}'")
    if bool(old.get("collapsed")) != bool(new.get("collapsed")):
        phrases.append(f"{'collapsed' if new.get('collapsed') else 'expanded'} '{title}'")
    return phrases


def _group_changes(before: dict[str, Any], after: dict[str, Any]) -> list[Edit]:
    """Groups made, taken away, renamed, bypassed or brought back, moved or resized (credited as GROUPS)."""
    old, new = before.get("groups", {}), after.get("groups", {})
    phrases = [f"grouped nodes in '{new[g].get('title')}'" for g in sorted(new.keys() - old.keys())]
    phrases += [f"ungrouped '{old[g].get('title')}'" for g in sorted(old.keys() - new.keys())]
    for group_id in sorted(old.keys() & new.keys()):
        was, now = old[group_id], new[group_id]
        title = now.get("title")
        if was.get("title") != title:
            phrases.append(f"renamed group '{was.get('title')}' to '{title}'")
        if bool(was.get("bypass")) != bool(now.get("bypass")):
            phrases.append(f"{'bypassed' if now.get('bypass') else 'brought back'} group '{title}'")
        if was.get("color") != now.get("color"):
            phrases.append(f"coloured group '{title}' {now['color']}" if now.get("color")
                           else f"took the colour off group '{title}'")
        if was.get("bounds") != now.get("bounds"):
            phrases.append(f"moved group '{title}'")
    return [(GROUPS, None, phrase) for phrase in phrases]


def describe_edits(before: dict[str, Any], after: dict[str, Any]) -> list[Edit]:
    """(what changed, node id, phrase) for each visible change between two graphs of one scene."""
    old, new = before.get("nodes", {}), after.get("nodes", {})
    entries: list[Edit] = []
    for node_id in new.keys() - old.keys():
        entries.append((node_id, node_id, f"added '{_name(node_id, new[node_id])}'"))
    for node_id in old.keys() - new.keys():
        entries.append((node_id, None, f"removed '{_name(node_id, old[node_id])}'"))
    for node_id in sorted(old.keys() & new.keys()):
        title = _name(node_id, new[node_id])
        old_params, new_params = old[node_id].get("params", {}), new[node_id].get("params", {})
        for key in sorted(old_params.keys() | new_params.keys()):
            if old_params.get(key) != new_params.get(key):
                if isinstance(new_params.get(key), str) and len(str(new_params.get(key))) > MAX_VALUE:
                    entries.append((node_id, node_id, f"edited {key} on '{title}'"))
                else:
                    entries.append((node_id, node_id, f"changed {key} {_short(old_params.get(key))}→"
                                             f"{_short(new_params.get(key))} on '{title}'"))
        if old[node_id].get("title") != new[node_id].get("title"):
            entries.append((node_id, node_id, f"renamed '{_name(node_id, old[node_id])}' to '{title}'"))
        if old[node_id].get("position") != new[node_id].get("position"):
            entries.append((node_id, node_id, f"moved '{title}'"))
        entries.extend((node_id, node_id, phrase) for phrase in _look_changes(old[node_id], new[node_id], title))
    added = len(after.get("edges", {}).keys() - before.get("edges", {}).keys())
    removed = len(before.get("edges", {}).keys() - after.get("edges", {}).keys())
    if added:
        entries.append((EDGES, None, f"connected {added} edge{'s' if added > 1 else ''}"))
    if removed:
        entries.append((EDGES, None, f"disconnected {removed} edge{'s' if removed > 1 else ''}"))
    return entries + _group_changes(before, after)


def credit(edits: list[Edit], edited: dict[str, str], lead: str | None) -> dict[str, list[Entry]]:
    """Each change for the person who last changed that part (`edited`: what → who); a part no person is
    known to have changed goes to `lead`, or to no one when there is none."""
    credited: dict[str, list[Entry]] = {}
    for target, node_id, text in edits:
        who = edited.get(target)
        who = who if who is not None and who != "system" else lead
        if who is not None:
            credited.setdefault(who, []).append((node_id, text))
    return credited


def record(db: Session, scenes: list[tuple[str, str, dict[str, list[Entry]]]]) -> None:
    """One row per change, for whoever it is credited to ((project id, scene id, {user id: entries}) per scene),
    as one INSERT of plain rows: a scene written after a burst of edits records one per changed node, and many
    scenes edited at once are written together (an ORM object per row, flushed through the session, cost
    most of a scene write's time)."""
    at = utcnow()
    rows = [{"project_id": project_id, "user_id": user_id, "at": at, "scene_id": scene_id, "node_id": node_id,
             "text": text} for project_id, scene_id, credited in scenes
            for user_id, entries in credited.items() for node_id, text in entries]
    if rows:
        db.connection().execute(insert(Activity), rows)


def recent(db: Session, project_id: str, limit: int, before_id: int | None) -> list[Activity]:
    query = select(Activity).where(Activity.project_id == project_id)
    if before_id:
        query = query.where(col(Activity.id) < before_id)
    return list(db.exec(query.order_by(col(Activity.id).desc()).limit(limit)).all())
