"""The SQLite database: one file in the data folder, WAL mode; the tables live with their features (tables.py)."""

from __future__ import annotations

import copy
import sqlite3
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from litestar.di import NamedDependency
from pydantic_core import PydanticUndefined
from sqlalchemy import event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel import Session, SQLModel, create_engine, text

from mediastudio.events.bus import EventBus

# Bumped by each migration that needs more than new tables (create_all handles those).
SCHEMA_VERSION = 1
CHECK_EVERY_S = 1.0  # how long a good answer of `check()` stands
# Connections kept open: one per thread that may hold a session at once (anyio's default of 40 worker threads,
# the task lanes, timers). A connection closed and opened again pays its PRAGMAs and its schema read each time.
POOL_SIZE = 48
POOL_OVERFLOW = 32
T = TypeVar("T")
Row = TypeVar("Row", bound=SQLModel)


BUSY_TIMEOUT_MS = 5000  # how long SQLite retries a lock another process holds
GATE_WAIT_S = BUSY_TIMEOUT_MS / 1000  # how long a writer waits for the writers of its own process (`WriterGate`)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; NORMAL sync is durable across app crashes in WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


class WriterGate:
    """The writers of this process queue here for SQLite's one write lock (one per database file).

    SQLite makes a writer that finds the lock taken sleep and try again, backing off up to 100 ms between tries:
    under many writers each waits far longer than the lock is held, and the wakeups cost CPU. A connection takes
    the gate before the statement that starts its write transaction (Python's sqlite3 begins one at the first
    INSERT, UPDATE, DELETE or REPLACE; reads run outside) and lets go when the transaction ends, so the gate is
    held exactly while SQLite's lock can be: the writers of this process take turns in order and never meet in
    the busy handler. Writers of other processes (`mediastudio worker`, the command line) still meet them on
    SQLite's busy timeout.

    The gate is waited for `GATE_WAIT_S` at most; past that the writer asks SQLite as it did without the gate.
    So a writer that holds a transaction open while waiting for something the next writer holds (a folder's
    lock) can never deadlock the two: it ends as it would have without the gate, with SQLite's "database is
    locked" after the busy timeout. A thread whose other connection holds the gate does not wait for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.owner: int | None = None  # the thread whose connection holds it

    def enter(self) -> bool:
        me = threading.get_ident()
        if self.owner == me or not self.lock.acquire(timeout=GATE_WAIT_S):
            return False
        self.owner = me
        return True

    def leave(self) -> None:
        self.owner = None
        self.lock.release()


_gates: weakref.WeakValueDictionary[str, WriterGate] = weakref.WeakValueDictionary()
_gates_lock = threading.Lock()


def writer_gate(path: Path) -> WriterGate:
    """The one gate of the database file at `path` in this process (shared by every `Database` on it)."""
    with _gates_lock:
        key = str(path.resolve())
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriterGate()
        return gate


class _GatedCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _GatedCursor:
        connection: GatedConnection = self.connection  # type: ignore[assignment]
        connection.before(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            connection.after()

    def executemany(self, sql: str, parameters: Any, /) -> _GatedCursor:
        connection: GatedConnection = self.connection  # type: ignore[assignment]
        connection.before(sql)
        try:
            return super().executemany(sql, parameters)
        finally:
            connection.after()


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that takes its database's `WriterGate` for each write transaction."""

    gate: WriterGate | None = None
    holds = False

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or _GatedCursor)

    def before(self, sql: str) -> None:
        if self.gate is None or self.holds or self.in_transaction:
            return
        if sql.lstrip()[:7].upper().startswith(_WRITES):
            self.holds = self.gate.enter()

    def after(self) -> None:
        if self.holds and not self.in_transaction:  # the statement failed before its transaction began
            self._leave()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self._leave()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave()

    def _leave(self) -> None:
        if self.holds and self.gate is not None:
            self.holds = False
            self.gate.leave()


class Database:
    """Owns the engine; hands out sessions. Built once per app."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: EventBus | None = None  # the app's bus: what a committed session announces
        self.engine: Engine = create_engine(
            f"sqlite:///{path}", connect_args={"check_same_thread": False, "factory": GatedConnection},
            pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
        )
        self.gate = writer_gate(path)
        event.listen(self.engine, "connect", _on_connect)
        event.listen(self.engine, "connect", self._gated)
        self._checked_at = -CHECK_EVERY_S
        self._check_lock = threading.Lock()
        self._watch: sqlite3.Connection | None = None  # never writes: see `version()`
        self._watch_lock = threading.Lock()
        self._reads: dict[str, ReadCache[Any]] = {}

    def _gated(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.gate = self.gate

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

    def version(self) -> int:
        """A number that changes whenever anyone commits to the database: this process's sessions, a worker
        process, the command line (SQLite's `PRAGMA data_version`, asked on a connection of its own that never
        writes). An answer computed after reading it stays true while it has not changed (`ReadCache`).
        Costs a few microseconds and takes no lock a writer holds, so the event loop may ask it."""
        with self._watch_lock:
            if self._watch is None:
                self._watch = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def reads(self, name: str, size: int = 4096) -> ReadCache[Any]:
        """The `ReadCache` called `name` of this database, of `size` entries (made on first use)."""
        with self._watch_lock:
            return self._reads.setdefault(name, ReadCache(self, size))

    @contextmanager
    def session(self) -> Iterator[Session]:
        # Objects stay readable after the session closes: services hand them to controllers.
        with Session(self.engine, expire_on_commit=False) as session:
            session.info["events"] = []  # events (events/schema.py) published once committed
            session.info["database"] = self  # for reads a service keeps in this database's ReadCaches
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
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        self.engine.dispose()


class ReadCache(Generic[T]):
    """Answers computed from the database, each kept until the database changes (`Database.version()`), the
    `size` most recently used at most. For reads asked far more often than anything is written (the projects
    page, the rights of a caller on a project): one commit anywhere empties it in effect, so it can never answer
    from before a change. Values are shared between requests: keep them immutable (bytes, tuples, frozen
    dataclasses).

    Read the version *before* computing a value: a commit made while it is computed then leaves it stored under
    the older version, which the next read no longer matches."""

    def __init__(self, database: Database, size: int = 4096) -> None:
        self.database = database
        self.size = size
        self._items: OrderedDict[Hashable, tuple[int, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: int) -> T | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != version:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Hashable, version: int, value: T) -> T:
        with self._lock:
            self._items[key] = (version, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def known(self, key: Hashable) -> T | None:
        """The value kept for `key` if the database has not changed since (never computes: None)."""
        return self.get(key, self.database.version())

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        version = self.database.version()
        found = self.get(key, version)
        return found if found is not None else self.put(key, version, compute())


DatabaseDep = NamedDependency[Database]


def loaded(model: type[Row], values: dict[str, Any]) -> Row:
    """An object of a stored row from its whole set of column values (a cache entry, a statement's RETURNING), as
    if just loaded and its session closed: changed and added to a session, it updates that row (never inserts
    another). Made as SQLAlchemy makes a row it loads (no `__init__`: the values are the stored ones, checked when
    they were stored), ~3 µs where `model(**values)` spends ~0.1 ms setting each column through SQLAlchemy's and
    pydantic's bookkeeping."""
    row: Row = manager_of_class(model).new_instance()
    row.__dict__.update(values)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))
    make_transient_to_detached(row)
    return row


def fresh(model: type[Row], values: dict[str, Any]) -> Row:
    """A new row's object for `insert_new`: `values` over the model's defaults (each default factory called), made
    as `loaded` makes one, without `model(**values)`'s bookkeeping column by column (~0.1 ms a row). No check is
    skipped: a table model's `__init__` validates nothing. A column with no default must be in `values`."""
    given = dict(values)
    for name, field in model.model_fields.items():
        if name in given:
            continue
        if field.default_factory is not None:
            given[name] = field.default_factory()  # type: ignore[call-arg]
        elif field.default is PydanticUndefined:
            raise TypeError(f"A new {model.__name__} needs its '{name}'")
        else:
            given[name] = copy.deepcopy(field.default)  # as pydantic copies a default (a list stays the row's own)
    return loaded(model, given)


def insert_new(db: Session, rows: Iterable[SQLModel]) -> None:
    """New rows of one table (no row holds their keys) written by one INSERT in `db`'s transaction, as parameters
    of a statement compiled once: no unit of work (an ORM flush of one new row cost ~0.5 ms on a small CPU, on a
    run's critical path twice). The objects stay outside the session; their defaults are theirs (pydantic's)."""
    made = list(rows)
    if not made:
        return
    table = type(made[0]).__table__  # type: ignore[attr-defined]
    insert_rows(db, table, [{column.key: getattr(row, column.key) for column in table.columns} for row in made])


def insert_rows(db: Session, model: Any, rows: list[dict[str, Any]], *, keep_existing: bool = False) -> None:
    """`rows` (each with every column of `model`, a table model or a table, by key) inserted in `db`'s
    transaction by one statement compiled once (`Prepared`): a Session spends ~0.07 ms more per INSERT, five of
    them on every run's outcome. `keep_existing`: a row whose key is taken already is left out ("ON CONFLICT DO
    NOTHING")."""
    if not rows:
        return
    table = getattr(model, "__table__", model)
    columns = {column.key for column in table.columns}
    if any(row.keys() != columns for row in rows):  # a column left to its SQL default: SQLAlchemy fills it
        statement = sqlite_insert(table)
        db.execute(statement.on_conflict_do_nothing() if keep_existing else statement, rows)
        return
    db.flush()  # what the session holds goes first, as a Session's statement would see it (foreign keys)
    _insert_into(table, keep_existing).many(db, rows)


@cache
def _insert_into(table: Any, keep_existing: bool) -> Prepared:
    """A table's INSERT of every column, compiled once per table (`insert_rows`)."""
    statement = sqlite_insert(table)
    return Prepared(statement.on_conflict_do_nothing() if keep_existing else statement)


class Prepared:
    """A statement on a run's critical path run on the DBAPI connection itself: compiled once for SQLite, its
    parameters converted and its RETURNING (or selected) columns read back with SQLAlchemy's own processors for
    their types (the same text in the database, the same Python values back). A Session spends ~0.35 ms on a
    one-row `UPDATE … RETURNING` and its commit where sqlite3 spends ~0.06; a Core SELECT on a Session's
    connection ~0.02–0.03 ms more than its cursor (tests/unit/test_prepared_statements.py). SQLAlchemy's
    `before_cursor_execute` listeners of the engine still hear each statement (those who count statements see
    these too); nothing else of SQLAlchemy's runs."""

    def __init__(self, statement: Any) -> None:
        from sqlalchemy.dialects import sqlite

        dialect = sqlite.dialect()
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        if "POSTCOMPILE" in self.sql:  # an IN of a list: its "?"s are known only with the values
            raise ValueError("a prepared statement takes no list parameter (write an IN of constants as ORs)")
        self._compiled = compiled
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._binds = [compiled.binds[name].type._cached_bind_processor(dialect) for name in self._names]
        returned = [c for part in getattr(statement, "_returning", ()) for c in getattr(part, "columns", [part])]
        if not returned and getattr(statement, "is_select", False):
            returned = list(statement.selected_columns)
        self.columns: tuple[str, ...] = tuple(c.key for c in returned)
        self._results = [c.type._cached_result_processor(dialect, None) for c in returned]

    def parameters(self, values: dict[str, Any]) -> list[Any]:
        given = self._compiled.construct_params(values)
        return [value if convert is None else convert(value)
                for value, convert in zip((given[name] for name in self._names), self._binds, strict=True)]

    def rows(self, session: Session, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Run it in `session`'s transaction, on its connection; the RETURNING (or selected) rows, by column."""
        connection = session.connection()
        cursor = connection.connection.cursor()
        try:
            return self._rows(cursor, values, connection)
        finally:
            cursor.close()

    def tuples(self, session: Session, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run it in `session`'s transaction, on its connection; the rows it selects (or returns), as tuples."""
        connection = session.connection()
        cursor = connection.connection.cursor()
        try:
            self._execute(cursor, self.parameters(values), connection, False)
            return [tuple(value if convert is None else convert(value)
                          for value, convert in zip(row, self._results, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def _execute(self, cursor: Any, parameters: Any, connection: Any, many: bool) -> None:
        listeners = connection.dispatch.before_cursor_execute if connection is not None else None
        for listener in listeners or ():  # tests that count statements
            listener(connection, cursor, self.sql, parameters, None, many)
        if many:
            cursor.executemany(self.sql, parameters)
        else:
            cursor.execute(self.sql, parameters)

    def _rows(self, cursor: Any, values: dict[str, Any], connection: Any) -> list[dict[str, Any]]:
        self._execute(cursor, self.parameters(values), connection, False)
        return [{name: value if convert is None else convert(value)
                 for name, value, convert in zip(self.columns, row, self._results, strict=True)}
                for row in cursor.fetchall()]

    def many(self, session: Session, rows: list[dict[str, Any]]) -> None:
        """Run it once for each of `rows` (one `executemany`) in `session`'s transaction, on its connection."""
        connection = session.connection()
        cursor = connection.connection.cursor()
        try:
            self._execute(cursor, [self.parameters(values) for values in rows], connection, True)
        finally:
            cursor.close()

    def run(self, database: Database, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Run it in a transaction of its own on a pooled connection, committed; the RETURNING rows."""
        connection = database.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                found = self._rows(cursor, values, database.engine)
            except BaseException:
                connection.rollback()
                raise
            finally:
                cursor.close()
            connection.commit()
            return found
        finally:
            connection.close()  # back to the pool
