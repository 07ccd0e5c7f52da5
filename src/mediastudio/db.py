"""The SQLite database: one file in the data folder, WAL mode; the tables live with their features (tables.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litestar.di import NamedDependency
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, create_engine, text

from mediastudio.events.bus import EventBus

# Bumped by each migration that needs more than new tables (create_all handles those).
SCHEMA_VERSION = 1
CHECK_EVERY_S = 1.0  # how long a good answer of `check()` stands


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; NORMAL sync is durable across app crashes in WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """Owns the engine; hands out sessions. Built once per app."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: EventBus | None = None  # the app's bus: what a committed session announces
        self.engine: Engine = create_engine(
            f"sqlite:///{path}", connect_args={"check_same_thread": False}
        )
        event.listen(self.engine, "connect", _on_connect)
        self._checked_at = -CHECK_EVERY_S
        self._check_lock = threading.Lock()

    def migrate(self, upgrades: Iterable[Callable[[Connection], None]] = ()) -> None:
        """Create missing tables (of every table module imported so far: see tables.py), run `upgrades`
        (changes a new table does not cover), and record the schema version."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        SQLModel.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            for upgrade in upgrades:
                upgrade(conn)
            current = conn.execute(text("PRAGMA user_version")).scalar_one()
            if current < SCHEMA_VERSION:
                conn.execute(text(f"PRAGMA user_version={SCHEMA_VERSION}"))

    def check(self) -> None:
        """Raise when the database cannot be read. Asks it at most once a second: a health probe polled by many
        monitors (or a load balancer) must not cost a query each time; a failure is never remembered."""
        if time.monotonic() - self._checked_at < CHECK_EVERY_S:
            return
        with self._check_lock:  # one caller asks; those arriving meanwhile wait for its answer
            if time.monotonic() - self._checked_at < CHECK_EVERY_S:
                return
            self.journal_mode()
            self._checked_at = time.monotonic()

    def journal_mode(self) -> str:
        with self.engine.connect() as conn:
            return str(conn.execute(text("PRAGMA journal_mode")).scalar_one())

    @contextmanager
    def session(self) -> Iterator[Session]:
        # Objects stay readable after the session closes: services hand them to controllers.
        with Session(self.engine, expire_on_commit=False) as session:
            session.info["events"] = []  # events (events/schema.py) published once committed
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed when the block ends without an error, rolled back otherwise."""
        with self.session() as session:
            yield session
            session.commit()
            if self.events is not None:
                for event in session.info["events"]:
                    self.events.publish(event)

    def close(self) -> None:
        self.engine.dispose()


DatabaseDep = NamedDependency[Database]
