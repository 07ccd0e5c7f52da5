"""A finished scene run becomes one line in its owner's inbox, however many server processes hear its event."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlmodel import select

from mediastudio.auth.tables import User
from mediastudio.comments.runs import record_run
from mediastudio.comments.tables import Notification
from mediastudio.events.bus import EventBus
from mediastudio.projects.tables import Project
from mediastudio.tables import open_database
from mediastudio.workspaces.tables import Membership, Workspace


def _event(kind: str = "scene.run", status: str = "task.succeeded") -> dict[str, object]:
    return {"type": status, "version": 1, "audience": "u_ana", "workspace_id": None, "task": {
        "id": "t_1", "kind": kind, "title": "Run 'Harbour'", "owner_id": "u_ana", "project_id": "p_1",
        "params": {"scene_id": "sc_1"}}}


def test_a_finished_run_is_one_line_in_its_owners_inbox(tmp_path: Path) -> None:
    db = open_database(tmp_path / "mediastudio.sqlite")
    published: list[dict[str, object]] = []
    bus = EventBus()
    bus._to_loop = published.append  # type: ignore[method-assign]  (no event loop here: keep what is published)
    db.events = bus
    with db.transaction() as session:
        session.add(User(id="u_ana", username="ana", display_name="Ana", color="#fff"))
        session.add(Workspace(id="ws_1", name="Crew", kind="team"))
        session.flush()
        # a member: the inbox counts lines about projects she may open
        session.add(Membership(workspace_id="ws_1", user_id="u_ana", role="owner"))
        session.add(Project(id="p_1", workspace_id="ws_1", name="Harbour", created_by="u_ana"))
    loads: list[object] = []

    def count(target: object, _context: object) -> None:
        loads.append(target)

    event.listen(Project, "load", count)  # the line reads the project as a plain row (every run ends here)
    try:
        assert record_run(db, _event()) is True
    finally:
        event.remove(Project, "load", count)
    assert loads == []
    assert record_run(db, _event()) is False  # a second process hearing the same event adds nothing
    assert record_run(db, _event(kind="media.previews")) is False  # only runs of scenes
    with db.session() as session:
        lines = session.exec(select(Notification)).all()
    assert [(n.kind, n.user_id, n.scene_id, n.text) for n in lines] == [
        ("run", "u_ana", "sc_1", "Run 'Harbour' finished")]
    assert [(e["type"], e["audience"], e["unread"]) for e in published] == [("notification.created", "u_ana", 1)]
    db.close()
