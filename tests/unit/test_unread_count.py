"""A person's unread count (announced with every inbox line: each finished run adds one) counts the lines about
projects they may still open, in one statement however many projects those lines are about: a rights check per
project grew with the projects a person had unread lines in."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.comments.inbox import _may_open, unread_count
from mediastudio.comments.tables import Notification
from mediastudio.common import utcnow
from mediastudio.projects.service import create_project, trash_project
from mediastudio.settings import Settings
from mediastudio.workspaces.service import add_member, create_workspace


def test_the_unread_count_is_one_statement_and_counts_only_projects_still_open(tmp_path: Path) -> None:
    studio = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    with studio.db.transaction() as db:
        ana = create_user(db, username="ana", password="violet tram sixteen", is_admin=True)
        ben = create_user(db, username="ben", password="violet tram sixteen")
        team = create_workspace(db, ana, "Team")
        add_member(db, ana, team.id, "ben", "member")
        shared = [create_project(db, studio.settings, ana, name=f"Shared {n}", workspace_id=team.id)
                  for n in range(6)]
        own = create_project(db, studio.settings, ana, name="Ana's own", workspace_id=None)  # not Ben's to open
    with studio.db.transaction() as db:
        trash_project(db, studio.settings, ana, shared[0].id)
        lines = [(p.id, n) for p in [*shared, own] for n in range(2)] + [(None, 0)]
        for number, (project_id, _) in enumerate(lines):
            db.add(Notification(id=f"nt_{number}", user_id=ben.id, kind="run", project_id=project_id))
        db.add(Notification(id="nt_read", user_id=ben.id, kind="run", project_id=shared[1].id, read_at=utcnow()))
        db.add(Notification(id="nt_ana", user_id=ana.id, kind="run", project_id=shared[1].id))
    statements: list[str] = []
    event.listen(studio.db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    with studio.db.session() as db:
        counted = unread_count(db, ben.id)
        assert len(statements) == 1, statements
        by_rights = sum(1 for project_id, _ in lines
                        if project_id is None or _may_open(db, db.merge(ben, load=False), project_id))
    assert counted == by_rights == 2 * 5 + 1  # the five shared projects not in the trash, and the line of none
    studio.db.close()
