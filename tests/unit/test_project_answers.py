"""What every answer that shows a project reads besides the project: the people it names and its cover. Both are
statements prepared once for any number of projects or people (their ids go as one JSON list), read on indexes:
an IN list was compiled anew for each answer (a rename's answer, the projects page, an inbox)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from test_run_indexes import _plans

from mediastudio.auth.tables import User
from mediastudio.common import utcnow
from mediastudio.projects.schemas import covers_for, users_by_id
from mediastudio.projects.tables import NEWEST_ASSETS, Asset, Project
from mediastudio.tables import open_database
from mediastudio.workspaces.tables import Workspace


def _studio(path: Path) -> None:
    db = open_database(path)
    now = utcnow()
    with db.session() as session:
        for name in ("ana", "ben", "cleo"):
            session.add(User(id=f"u_{name}", username=name, display_name=name.title(), password_hash="x",
                                 color="#336699"))
        session.add(Workspace(id="w", name="Studio", kind="team"))
        session.flush()
        session.add(Project(id="p_film", workspace_id="w", name="Film", created_by="u_ana"))
        session.add(Project(id="p_cover", workspace_id="w", name="Chosen", created_by="u_ana", cover_asset_id="as_c"))
        session.add(Project(id="p_bare", workspace_id="w", name="Bare", created_by="u_ana"))
        session.flush()
        made = [("as_old", "image", False), ("as_new", "generated", False), ("as_gone", "image", True),
                ("as_doc", "reference", False)]  # oldest first
        for index, (asset_id, category, trashed) in enumerate(made):
            session.add(Asset(id=asset_id, project_id="p_film", name=asset_id, category=category, mime="image/png",
                              size=1, sha256="0" * 64, created_by="u_ana", created_at=now + timedelta(seconds=index),
                              trashed_at=now if trashed else None))
        session.commit()
    db.close()


def test_the_people_and_covers_of_projects_are_read_by_prepared_statements_on_indexes(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite"
    _studio(path)
    found: dict[str, object] = {}

    def ask(session: object) -> None:
        projects = [session.get(Project, pid) for pid in ("p_film", "p_cover", "p_bare")]  # type: ignore[attr-defined]
        found["covers"] = covers_for(session, projects)  # type: ignore[arg-type]
        found["people"] = users_by_id(session, {"u_ana", "u_cleo", "u_nobody"})  # type: ignore[arg-type]

    plans = _plans(path, ask)
    covers = found["covers"]
    assert covers == {"p_film": "/api/v1/projects/p_film/assets/as_new/preview?size=1024",  # newest, not trashed,
                      "p_cover": "/api/v1/projects/p_cover/assets/as_c/preview?size=1024"}  # a picture; chosen
    people = found["people"]
    assert isinstance(people, dict) and sorted(people) == ["u_ana", "u_cleo"]
    assert people["u_cleo"].display_name == "Cleo"
    cover_plans = [plan for plan in plans if "assets" in plan.lower() or NEWEST_ASSETS in plan]
    assert any(f"USING INDEX {NEWEST_ASSETS}" in plan for plan in cover_plans), plans
    assert not any("SCAN projects" in plan or "SCAN users" in plan for plan in plans), plans  # by primary key


def test_no_people_and_no_projects_ask_nothing(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite"
    _studio(path)
    plans = _plans(path, lambda session: (users_by_id(session, set()), covers_for(session, [])))
    assert plans == []


def test_one_statement_text_serves_any_number_of_people_or_projects(tmp_path: Path) -> None:
    """The same SQL text whatever the count (compiled once: an IN list made a new text, compiled, per count)."""
    from sqlalchemy import event

    path = tmp_path / "studio.sqlite"
    _studio(path)
    db = open_database(path)
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: seen.append(sql))
    with db.session() as session:
        projects = [session.get(Project, pid) for pid in ("p_film", "p_bare")]
        seen.clear()
        for ids in ({"u_ana"}, {"u_ana", "u_ben", "u_cleo"}):
            users_by_id(session, ids)
        for some in (projects[:1], projects):
            covers_for(session, [p for p in some if p is not None])
    db.close()
    assert len(seen) == 4 and seen[0] == seen[1] and seen[2] == seen[3], seen
