"""projects/schemas.py:covers_for: a project's cover on the projects page is its chosen asset, else its newest
picture, and finding it does not read the project's other assets (real SQLite, counted in its own VM steps)."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from mediastudio.accounts.users import create_user
from mediastudio.common import utcnow
from mediastudio.db import Database
from mediastudio.projects.schemas import covers_for
from mediastudio.projects.tables import NEWEST_ASSETS, Asset, Project
from mediastudio.tables import open_database
from mediastudio.workspaces.service import create_workspace

STEP = 10  # SQLite calls the progress handler every STEP virtual-machine instructions


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """Projects 'few' (3 pictures) and 'many' (3,000 pictures and 3,000 audio files), with nothing chosen."""
    database = open_database(tmp_path / "db.sqlite")
    with database.transaction() as db:
        ana = create_user(db, username="ana", password="correct horse battery")
        team = create_workspace(db, ana, "Team")
        for pid in ("few", "many", "empty"):
            db.add(Project(id=pid, workspace_id=team.id, name=pid, created_by=ana.id, contributors=""))
        db.flush()
        start = utcnow() - timedelta(days=1)
        for pid, count in (("few", 3), ("many", 3000)):
            for n in range(count):
                for category in ("image", "audio"):
                    db.add(Asset(id=f"{pid}-{category}-{n}", project_id=pid, name=f"{n}", category=category,
                                 mime="image/png", size=1, sha256="0" * 64, created_by=ana.id,
                                 created_at=start + timedelta(seconds=n + (category == "audio"))))
    yield database
    database.engine.dispose()


def steps_of(db: Session, projects: list[Project]) -> tuple[dict[str, str], int]:
    """covers_for's answer, and how many SQLite VM steps (in units of STEP) it took."""
    raw = db.connection().connection.dbapi_connection
    assert raw is not None
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0  # go on

    raw.set_progress_handler(tick, STEP)
    try:
        found = covers_for(db, projects)
    finally:
        raw.set_progress_handler(None, STEP)
    return found, counted[0]


def test_the_cover_is_the_newest_picture_and_costs_the_same_for_3_or_3000_assets(database: Database) -> None:
    with database.session() as db:
        few, many, empty = (db.get(Project, pid) for pid in ("few", "many", "empty"))
        assert few is not None and many is not None and empty is not None
        small, small_steps = steps_of(db, [few, empty])
        large, large_steps = steps_of(db, [many, empty])
    assert small == {"few": "/api/v1/projects/few/assets/few-image-2/preview?size=1024"}
    assert large == {"many": "/api/v1/projects/many/assets/many-image-2999/preview?size=1024"}
    # Through the (project, created) index it is a handful of steps either way (a project's audio files newer
    # than its last picture are stepped over); reading the pictures to pick one took 3,610 units for 'few' and
    # 10,500 for 'many' (every picture of the table went through the category index).
    assert large_steps <= small_steps + 5 and large_steps < 100, (small_steps, large_steps)


def test_a_chosen_cover_wins_and_a_trashed_picture_is_never_a_cover(database: Database) -> None:
    with database.transaction() as db:
        newest = db.get(Asset, "many-image-2999")
        assert newest is not None
        newest.trashed_at = utcnow()
        db.add(newest)
        few = db.get(Project, "few")
        assert few is not None
        few.cover_asset_id = "few-image-0"
        db.add(few)
    with database.session() as db:
        projects = [p for p in (db.get(Project, "few"), db.get(Project, "many")) if p]
        assert covers_for(db, projects) == {
            "few": "/api/v1/projects/few/assets/few-image-0/preview?size=1024",
            "many": "/api/v1/projects/many/assets/many-image-2998/preview?size=1024"}


def test_a_database_made_before_the_index_gets_it_when_opened(tmp_path: Path) -> None:
    open_database(tmp_path / "db.sqlite").engine.dispose()
    old = Database(tmp_path / "db.sqlite")
    with old.engine.begin() as conn:
        conn.execute(text(f"DROP INDEX {NEWEST_ASSETS}"))
    old.engine.dispose()
    opened = open_database(tmp_path / "db.sqlite")
    with opened.engine.connect() as conn:
        names = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
    opened.engine.dispose()
    assert NEWEST_ASSETS in names

