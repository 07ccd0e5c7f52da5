"""Two reads of one thread at once (two tabs; a tile and the asset view) both mark it read: the mark is written by one
statement whether it exists or not. Each found none before and inserted it, and the second failed (a 500)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from mediastudio.auth.tables import User
from mediastudio.comments.service import mark_read
from mediastudio.comments.tables import CommentRead
from mediastudio.projects.tables import Project
from mediastudio.tables import open_database
from mediastudio.workspaces.tables import Workspace


def test_a_thread_read_twice_at_once_is_marked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_database(tmp_path / "studio.sqlite")
    with db.transaction() as session:
        ana = User(id="u_ana", username="ana", display_name="Ana", color="#fff")
        session.add(ana)
        session.add(Workspace(id="ws_1", name="Crew", kind="team"))
        session.flush()
        session.add(Project(id="p_1", workspace_id="ws_1", name="Harbour", created_by="u_ana"))
    with db.transaction() as first:
        mark_read(first, ana, "p_1", "th_1")
    # The other read looked before the first one committed: it found no mark.
    real_get = Session.get
    monkeypatch.setattr(Session, "get", lambda self, kind, key, **kw: None if kind is CommentRead
                        else real_get(self, kind, key, **kw))
    with db.transaction() as second:
        mark_read(second, ana, "p_1", "th_1")
    with db.session() as session:
        assert len(session.exec(select(CommentRead)).all()) == 1
    db.close()
