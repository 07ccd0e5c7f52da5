"""What each run asks of the tasks table does not grow with every task ever run: the run index of a scene counts
that scene's runs on an index, and a kind's rate (queue places and ETAs) reads its latest successes on one, in
a new database and in one made before these indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event

from mediastudio.engine.service import RUNS_OF_SCENE, Engine
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
    older.commit()
    older.close()
    open_database(path).close()
    reopened = sqlite3.connect(path)
    names = {row[0] for row in reopened.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    reopened.close()
    assert {RUNS_OF_SCENE, HISTORY_INDEX} <= names
