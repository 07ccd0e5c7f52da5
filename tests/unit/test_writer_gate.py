"""Writers of one process queue for SQLite's one write lock on a lock of their own (`db.py`'s writer gate)
instead of sleeping in SQLite's busy handler, which backs off up to 100 ms between tries; writers of other
processes (`mediastudio worker`, the command line) still meet them on the busy timeout."""

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, text

from mediastudio.db import Database

HELD_S = 0.4  # how long the first writer keeps its transaction open
SHORT_BUSY_MS = 50  # SQLite's busy timeout in these tests: far shorter than the first writer holds the lock


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "studio.sqlite")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, who TEXT)"))

    def short_busy_timeout(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={SHORT_BUSY_MS}")  # after the app's own settings

    database.engine.dispose()
    event.listen(database.engine, "connect", short_busy_timeout)
    yield database
    database.close()


def _write_and_hold(database: Database, holding: threading.Event, seconds: float) -> None:
    with database.transaction() as db:
        db.execute(text("INSERT INTO items (who) VALUES ('first')"))
        holding.set()
        time.sleep(seconds)


def test_a_writer_waits_for_another_writer_of_its_process_on_the_gate(database: Database) -> None:
    """The second writer waits as long as the first holds its transaction, however much longer that is than the
    busy timeout: it never asks SQLite for the lock while a writer of its own process holds it."""
    holding = threading.Event()
    first = threading.Thread(target=_write_and_hold, args=(database, holding, HELD_S))
    first.start()
    assert holding.wait(5)
    try:
        with database.transaction() as db:  # without the gate: "database is locked" after 50 ms
            db.execute(text("INSERT INTO items (who) VALUES ('second')"))
    finally:
        first.join()
    with database.session() as db:
        assert db.execute(text("SELECT who FROM items ORDER BY id")).scalars().all() == ["first", "second"]


def test_many_writers_of_one_process_all_get_through(database: Database) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for _ in range(5):
                with database.transaction() as db:
                    db.execute(text("INSERT INTO items (who) VALUES (:who)"), {"who": f"w{n}"})
                    time.sleep(0.02)  # longer together than the busy timeout: they must queue
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with database.session() as db:
        assert db.execute(text("SELECT count(*) FROM items")).scalar_one() == 40


def test_a_writer_of_another_process_is_still_waited_for_by_the_busy_timeout(tmp_path: Path) -> None:
    database = Database(tmp_path / "studio.sqlite")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, who TEXT)"))
    other = sqlite3.connect(tmp_path / "studio.sqlite", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO items (who) VALUES ('other')")
    threading.Timer(HELD_S, lambda: other.execute("COMMIT")).start()
    with database.transaction() as db:
        db.execute(text("INSERT INTO items (who) VALUES ('ours')"))
    with database.session() as db:
        assert db.execute(text("SELECT who FROM items ORDER BY id")).scalars().all() == ["other", "ours"]
    other.close()
    database.close()


def test_a_gate_held_too_long_falls_back_to_the_busy_timeout(database: Database,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that keeps its transaction open while it waits on something the next writer holds (a folder's
    lock) cannot deadlock the two: the next one waits on the gate only so long, then asks SQLite as before."""
    import mediastudio.db

    monkeypatch.setattr(mediastudio.db, "GATE_WAIT_S", 0.05)
    holding = threading.Event()
    first = threading.Thread(target=_write_and_hold, args=(database, holding, HELD_S))
    first.start()
    assert holding.wait(5)
    try:
        with pytest.raises(Exception, match="database is locked"), database.transaction() as db:
            db.execute(text("INSERT INTO items (who) VALUES ('second')"))
    finally:
        first.join()
    with database.transaction() as db:  # the gate was let go: writing goes on
        db.execute(text("INSERT INTO items (who) VALUES ('third')"))
