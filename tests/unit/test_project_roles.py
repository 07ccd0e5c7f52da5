"""projects/roles.py: who has which role on a project, on a real SQLite database."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mediastudio.accounts.users import create_user
from mediastudio.auth.tables import User
from mediastudio.db import Database
from mediastudio.errors import Forbidden, NotFound
from mediastudio.projects import roles
from mediastudio.projects.schemas import ProjectMember
from mediastudio.projects.tables import Project
from mediastudio.tables import open_database
from mediastudio.workspaces.service import add_member, create_workspace

PASSWORD = "correct horse battery"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """ana owns a team workspace with vic as a member and the project p-film; olga is not in it."""
    database = open_database(tmp_path / "db.sqlite")
    with database.transaction() as db:
        ana = create_user(db, username="ana", password=PASSWORD)
        create_user(db, username="vic", password=PASSWORD)
        create_user(db, username="olga", password=PASSWORD)
        team = create_workspace(db, ana, "Team")
        add_member(db, ana, team.id, "vic", "member")
        db.add(Project(id="p-film", workspace_id=team.id, name="Film", created_by=ana.id, tags="", archived=False,
                       contributors="", trashed_at=None))
    yield database
    database.engine.dispose()


def user(db: Session, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()


def by_name(members: list[ProjectMember]) -> dict[str, tuple[str, str, bool]]:
    return {m.user.username: (m.workspace_role, m.role, m.overridden) for m in members}


def test_members_are_the_workspace_with_their_role_on_the_project(database: Database) -> None:
    with database.session() as db:
        found = roles.members(db, user(db, "vic"), "p-film")
    assert by_name(found) == {"ana": ("owner", "owner", False), "vic": ("member", "editor", False)}


def test_a_role_overrides_the_default_until_it_is_cleared(database: Database) -> None:
    with database.transaction() as db:
        lowered = roles.set_role(db, user(db, "ana"), "p-film", user(db, "vic").id, "viewer")
        assert [e.type for e in db.info["events"]] == ["access.changed"]  # vic's open sockets re-check
    assert by_name(lowered)["vic"] == ("member", "viewer", True)
    with database.session() as db:
        assert by_name(roles.members(db, user(db, "ana"), "p-film"))["vic"] == ("member", "viewer", True)
    with database.transaction() as db:
        cleared = roles.set_role(db, user(db, "ana"), "p-film", user(db, "vic").id, None)
    assert by_name(cleared)["vic"] == ("member", "editor", False)


def test_owners_and_admins_stay_owners_whatever_the_override(database: Database) -> None:
    with database.transaction() as db:
        found = roles.set_role(db, user(db, "ana"), "p-film", user(db, "ana").id, "viewer")
    assert by_name(found)["ana"] == ("owner", "owner", True)


def test_only_managers_set_roles(database: Database) -> None:
    with database.transaction() as db, pytest.raises(Forbidden):
        roles.set_role(db, user(db, "vic"), "p-film", user(db, "vic").id, "owner")


def test_outsiders_neither_see_nor_are_given_roles(database: Database) -> None:
    with database.session() as db, pytest.raises(NotFound):
        roles.members(db, user(db, "olga"), "p-film")
    with database.transaction() as db, pytest.raises(NotFound, match="not in this project's workspace"):
        roles.set_role(db, user(db, "ana"), "p-film", user(db, "olga").id, "editor")


def test_a_rights_check_is_one_query_with_the_same_answers(database: Database) -> None:
    """`require` (every write asks it, an upload twice) reads the project and the caller's role in one query."""
    from mediastudio.projects.access import require
    from support import sql_statements

    with database.transaction() as db:
        roles.set_role(db, user(db, "ana"), "p-film", user(db, "vic").id, "viewer")
    with database.session() as db:
        ana, vic, olga = user(db, "ana"), user(db, "vic"), user(db, "olga")
    with database.session() as db, sql_statements(database.engine) as statements:
        project, role = require(db, ana, "p-film", "edit")
    assert (project.name, role) == ("Film", "owner")
    assert len(statements) == 1
    with database.session() as db:
        assert require(db, vic, "p-film", "view")[1] == "viewer"  # the override
        with pytest.raises(Forbidden):
            require(db, vic, "p-film", "edit")
        with pytest.raises(NotFound):
            require(db, olga, "p-film", "view")
        with pytest.raises(NotFound):
            require(db, ana, "p-none", "view")
        with pytest.raises(NotFound):
            require(db, ana, "p-film", "view", trashed=True)


def test_a_writes_rights_check_reads_a_row_with_the_same_answers_and_no_orm_object(database: Database) -> None:
    """`require_row` (a scene's creation, rename, copy, deletion) asks the same one query as `require` and gives
    the same answers and refusals, with the project as a plain row: no ORM object is loaded for it."""
    from mediastudio.common import utcnow
    from mediastudio.projects.access import ProjectRow, require_row
    from support import sql_statements

    with database.transaction() as db:
        roles.set_role(db, user(db, "ana"), "p-film", user(db, "vic").id, "viewer")
        db.get(Project, "p-film").contributors = "u_1 u_2"  # type: ignore[union-attr]
        db.add(Project(id="p-gone", workspace_id=db.get(Project, "p-film").workspace_id,  # type: ignore[union-attr]
                       name="Gone", created_by=user(db, "ana").id, trashed_at=utcnow()))
    with database.session() as db:
        ana, vic, olga = user(db, "ana"), user(db, "vic"), user(db, "olga")
    with database.session() as db, sql_statements(database.engine) as statements:
        project, role = require_row(db, ana, "p-film", "edit")
        loaded = list(db.identity_map.values())  # what the ORM loaded in this session
    assert isinstance(project, ProjectRow) and not loaded
    assert (project.id, project.name, project.contributors, project.trashed_at, role) == (
        "p-film", "Film", "u_1 u_2", None, "owner")
    assert len(statements) == 1
    with database.session() as db:
        assert require_row(db, vic, "p-film", "view")[1] == "viewer"  # the override
        with pytest.raises(Forbidden, match="As viewer of this project you cannot change it"):
            require_row(db, vic, "p-film", "edit")
        with pytest.raises(NotFound, match="No project 'p-film' is visible to you"):
            require_row(db, olga, "p-film", "view")
        with pytest.raises(NotFound):
            require_row(db, ana, "p-none", "view")
        with pytest.raises(NotFound):  # in the trash: no write reaches it
            require_row(db, ana, "p-gone", "edit")
