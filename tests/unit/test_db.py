import sqlite3
from pathlib import Path

from mediastudio.db import SCHEMA_VERSION
from mediastudio.tables import UPGRADES, open_database


def test_migrate_creates_a_wal_database_with_its_schema_version(tmp_path: Path) -> None:
    db = open_database(tmp_path / "nested" / "studio.sqlite")
    assert db.journal_mode() == "wal"
    db.close()
    with sqlite3.connect(tmp_path / "nested" / "studio.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_migrate_twice_is_harmless(tmp_path: Path) -> None:
    db = open_database(tmp_path / "studio.sqlite")
    db.migrate(UPGRADES)
    assert db.journal_mode() == "wal"
    db.close()
