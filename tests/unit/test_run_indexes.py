"""What each run asks of the tasks and assets tables does not grow with every task or take ever made: the run
index of a scene counts that scene's runs on an index, a kind's rate (queue places and ETAs) reads its latest
successes on one, and a shot's next take reads the names of that shot's takes on one, in a new database and in
one made before these indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event

from mediastudio.comments.tables import UNREAD_LINES
from mediastudio.common import utcnow
from mediastudio.engine.service import RUNS_OF_SCENE, Engine
from mediastudio.projects.tables import ASSETS_BY_NAME
from mediastudio.tables import open_database
from mediastudio.tasks.estimates import seconds_per_unit
from mediastudio.tasks.tables import HISTORY_INDEX, Task


def _plans(path: Path, ask: Any) -> list[str]:
    """The query plan of every statement `ask(session)` runs."""
    db = open_database(path)
    seen: list[tuple[str, Any]] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, params, *_: seen.append((sql, params)))
    with db.session() as session:
        ask(session)
    db.close()
    plain = sqlite3.connect(path)
    try:
        return [" ".join(row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {sql}", params))
                for sql, params in seen if sql.lstrip().upper().startswith("SELECT")]
    finally:
        plain.close()


def _studio_with_runs(path: Path) -> None:
    db = open_database(path)
    with db.session() as session:
        for index, (scene, status) in enumerate([("s_a", "succeeded"), ("s_a", "queued"), ("s_a", "failed"),
                                                 ("s_b", "succeeded"), ("s_a", "running")]):
            session.add(Task(id=f"t_{index}", kind="scene.run", lane="gpu", title="run", owner_id="u",
                             params={"scene_id": scene}, status=status, run_seconds=1.0))
        session.commit()
    db.close()


def test_a_scenes_run_index_and_a_kinds_rate_are_read_on_indexes(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite"
    _studio_with_runs(path)
    counted: list[int] = []
    plans = _plans(path, lambda session: counted.append(Engine.run_index(session, "s_a")))
    assert counted == [3]  # succeeded, queued and running runs of this scene; not the failed one, not s_b's
    assert any(f"USING INDEX {RUNS_OF_SCENE}" in plan for plan in plans), plans
    plans = _plans(path, lambda session: seconds_per_unit(session, "scene.run"))
    assert any(f"USING INDEX {HISTORY_INDEX}" in plan for plan in plans), plans
    assert not any("TEMP B-TREE" in plan for plan in plans), plans  # read in order, not sorted


def test_a_database_made_before_the_indexes_gets_them_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite"
    _studio_with_runs(path)
    older = sqlite3.connect(path)
    older.execute(f"DROP INDEX {RUNS_OF_SCENE}")
    older.execute(f"DROP INDEX {HISTORY_INDEX}")
    older.execute(f"DROP INDEX {ASSETS_BY_NAME}")
    older.execute(f"DROP INDEX {UNREAD_LINES}")
    older.commit()
    older.close()
    open_database(path).close()
    reopened = sqlite3.connect(path)
    names = {row[0] for row in reopened.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    reopened.close()
    assert {RUNS_OF_SCENE, HISTORY_INDEX, ASSETS_BY_NAME, UNREAD_LINES} <= names


def _assets(path: Path, names: list[tuple[str, str]], trashed: int) -> None:
    """Assets (project id, name) alone in a new database (their projects' rows do not matter here); the one at
    index `trashed` in the trash."""
    db = open_database(path)
    db.engine.dispose()
    plain = sqlite3.connect(path)
    plain.execute("PRAGMA foreign_keys = OFF")
    for index, (project_id, name) in enumerate(names):
        plain.execute("INSERT INTO assets (id, project_id, name, category, mime, size, sha256, created_by, tags, "
                      "created_at, trashed_at) VALUES (?, ?, ?, 'generated', 'image/png', 1, '0', 'u', '', "
                      "'2026-01-01', ?)", (f"as_{index}", project_id, name, "2026-01-02" if index == trashed else None))
    plain.commit()
    plain.close()


def test_a_shots_next_take_reads_the_projects_names_on_an_index_and_counts_as_before(tmp_path: Path) -> None:
    """The next take of shot 'Hero': every take named after it counts (trashed ones too, whatever the seed and
    model), and no other shot's ('Hero 2', 'hero'), nor another project's; read on the (project, name) index,
    not by reading every asset of the project."""
    from mediastudio.engine.run import numbered

    path = tmp_path / "studio.sqlite"
    _assets(path, [("p_1", "Hero · seed 7 · #1.png"), ("p_1", "Hero · seed 8 · sd-tiny · #5.png"),
                   ("p_1", "Hero · #6.mp4"), ("p_1", "hero · #40.png"), ("p_1", "Hero 2 · seed 1 · #9.png"),
                   ("p_1", "Hero·#30.png"), ("p_1", "Heros · #31.png"), ("p_2", "Hero · #12.png"),
                   ("p_1", "Hero_ · #50.png"), ("p_1", "Hero% · #51.png")], trashed=2)
    found: list[str] = []
    plans = _plans(path, lambda session: found.extend([
        numbered(session, "p_1", "Hero", "Hero · seed 9 · sd-tiny.png"),
        numbered(session, "p_1", "Hero 2", "Hero 2 · seed 2.png"), numbered(session, "p_1", "Hero_", "Hero_.png"),
        numbered(session, "p_1", "Hero%", "Hero%.png"), numbered(session, "p_3", "Hero", "Hero.png")]))
    assert found == ["Hero · seed 9 · sd-tiny · #7.png", "Hero 2 · seed 2 · #10.png", "Hero_ · #51.png",
                     "Hero% · #52.png", "Hero · #1.png"]
    assert all(f"USING COVERING INDEX {ASSETS_BY_NAME} (project_id=? AND name>? AND name<?)" in plan
               for plan in plans), plans


def test_a_shots_next_take_is_found_among_a_few_names_sorted_by_sqlite(tmp_path: Path) -> None:
    """300 takes of 'Hero' (seeds, models, a trashed one, a shot named with a '#'): the next number is taken from
    the few names with the highest numbers, which SQLite sorts out of the range, not from all 300 read and matched
    in Python; names that only look like takes do not count, and when the highest-numbered names are none of them,
    every name is read as before."""
    from mediastudio.engine.run import TAKE_CANDIDATES, numbered

    path = tmp_path / "studio.sqlite"
    names = [("p_1", f"Hero · seed {n * 7} · {'sd-tiny' if n % 2 else 'sdxl'} · #{n}.png") for n in range(1, 301)]
    names += [("p_1", "Hero · #400 draft.png"), ("p_1", "Hero · notes #999.txt.bak"),  # not takes: no count
              ("p_1", "Take #2 · #7.png"), ("p_1", "Take #2 · seed 1 · #8.png"),  # a shot with a '#'
              ("p_2", "Hero · #900.png")]
    names += [("p_1", f"Odd · v{n} #{1000 + n}x.png") for n in range(TAKE_CANDIDATES)] + [("p_1", "Odd · #3.png")]
    _assets(path, names, trashed=299)
    database = open_database(path)
    seen: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: seen.append(sql))
    with database.session() as session:
        assert numbered(session, "p_1", "Hero", "Hero · seed 2 · sd-tiny.png") == "Hero · seed 2 · sd-tiny · #301.png"
        assert len(seen) == 1 and "LIMIT" in seen[0]  # the few likeliest names only
        assert numbered(session, "p_1", "Take #2", "Take #2.png") == "Take #2 · #9.png"
        seen.clear()
        assert numbered(session, "p_1", "Odd", "Odd.png") == "Odd · #4.png"  # its likeliest names are no takes
        assert len(seen) == 2  # then every name, as before
    database.close()


def test_a_persons_unread_count_is_read_on_an_index_not_from_every_line_of_their_inbox(tmp_path: Path) -> None:
    """Each finished run adds a line to its owner's inbox and announces the unread count with it: counted on the
    (user, read, project) index alone, the lines already read are not visited (a year of runs, read long ago)."""
    from mediastudio.auth.tables import User
    from mediastudio.comments.inbox import unread_count
    from mediastudio.comments.tables import Notification

    path = tmp_path / "studio.sqlite"
    db = open_database(path)
    with db.session() as session:
        session.add(User(id="u_1", username="ana", display_name="Ana", color="#aa3333"))
        session.add(User(id="u_2", username="ben", display_name="Ben", color="#3333aa"))
        for number in range(300):
            session.add(Notification(id=f"nt_{number}", user_id="u_1" if number % 3 else "u_2", kind="run",
                                     read_at=None if number % 50 == 1 else utcnow()))
        session.commit()
    db.close()
    counted: list[int] = []
    plans = _plans(path, lambda session: counted.append(unread_count(session, "u_1")))
    assert counted == [4]  # nt_1, 101, 151 and 251: unread and Ana's (51 and 201 are Ben's)
    assert any(f"USING COVERING INDEX {UNREAD_LINES}" in plan for plan in plans), plans
    assert not any("TEMP B-TREE" in plan for plan in plans), plans
