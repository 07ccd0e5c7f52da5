"""A task's claim and its outcome run as prepared statements on the DBAPI connection (`db.Prepared`): the row they
leave holds exactly the text the ORM's statements wrote, the task read back has the same values of the same types,
the outcome is part of its transaction (rolled back with it), and the claim opens no Session at all."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import bindparam, func, null, update
from sqlmodel import Session, col

from mediastudio.common import utcnow
from mediastudio.db import Database, Prepared
from mediastudio.events.bus import EventBus
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.tables import open_database
from mediastudio.tasks.kinds import KindRegistry
from mediastudio.tasks.runner import Runner, _claim, _outcome
from mediastudio.tasks.tables import Task

TIMES = ("created_at", "started_at", "finished_at", "updated_at")


class NoParams(BaseModel):
    pass


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(tmp_path / "studio.sqlite")
    with database.transaction() as session:
        for n in range(4):
            session.add(Task(id=f"t{n}", kind="scene.run", lane="gpu", title="Run", owner_id="u",
                             params={"scene_id": "s", "graph": {"nodes": {"a": {"type": "prompt"}}}},
                             detail={"nodes": {}}, status="interrupted" if n == 3 else "queued"))
    return database


def _orm_claim() -> Any:
    """The claim as the ORM ran it before (the reference), with the line a started task says since."""
    return (update(Task).where(col(Task.id) == bindparam("task_id"),
                               col(Task.status).in_(("queued", "interrupted")),
                               col(Task.cancel_requested) == False)  # noqa: E712
            .values(status="running", started_at=bindparam("now"), attempts=Task.attempts + 1,
                    worker=bindparam("worker"), step=0, progress=0.0, message="Starting", eta_seconds=None,
                    step_seconds=None,
                    revision=Task.revision + 1, updated_at=bindparam("now"))
            .returning(Task).execution_options(synchronize_session=False))


def _stored(db: Database, task_id: str) -> dict[str, Any]:
    with sqlite3.connect(db.path) as raw:
        raw.row_factory = sqlite3.Row
        return dict(raw.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone())


def _same_but_times(a: dict[str, Any], b: dict[str, Any]) -> None:
    for name in a:
        if name in TIMES:
            assert (a[name] is None) == (b[name] is None), name
            if isinstance(a[name], str):
                assert len(a[name]) == len(b[name]) and a[name][:11] == b[name][:11], (name, a[name], b[name])
        elif name != "id":
            assert a[name] == b[name] and type(a[name]) is type(b[name]), (name, a[name], b[name])


def test_the_claim_leaves_the_text_and_gives_the_values_the_orm_did(db: Database) -> None:
    now = utcnow()
    with db.session() as session:
        by_orm = session.scalars(_orm_claim(), {"task_id": "t0", "now": now, "worker": "w:1"}).one()
        session.commit()
    claimed = _claim().run(db, {"task_id": "t1", "now": now, "worker": "w:1"})
    assert len(claimed) == 1
    prepared = Task(**claimed[0])
    _same_but_times(_stored(db, "t0"), _stored(db, "t1"))
    assert _stored(db, "t0")["started_at"] == _stored(db, "t1")["started_at"]  # the same moment, the same text
    _same_but_times(by_orm.model_dump(), prepared.model_dump())
    assert prepared.started_at == by_orm.started_at and prepared.started_at.tzinfo is not None
    assert prepared.params == {"scene_id": "s", "graph": {"nodes": {"a": {"type": "prompt"}}}}
    assert prepared.cancel_requested is False and prepared.attempts == 1 and prepared.revision == 1
    # An interrupted task is claimed too; one claimed already, or asked to cancel, is not.
    assert _claim().run(db, {"task_id": "t3", "now": now, "worker": "w:1"})[0]["status"] == "running"
    assert _claim().run(db, {"task_id": "t1", "now": now, "worker": "w:2"}) == []
    with db.transaction() as session:
        session.get(Task, "t2").cancel_requested = True  # type: ignore[union-attr]
    assert _claim().run(db, {"task_id": "t2", "now": now, "worker": "w:1"}) == []
    assert _stored(db, "t2")["status"] == "queued"


def test_the_outcome_writes_what_the_orm_wrote_and_rolls_back_with_its_transaction(db: Database) -> None:
    now = utcnow()
    for task_id in ("t0", "t1"):
        _claim().run(db, {"task_id": task_id, "now": now, "worker": "w:1"})
    fields = {"status": "succeeded", "result": {"assets": ["a_1"]}, "progress": 1.0, "eta_seconds": None,
              "step": 4, "total": 4, "detail": {"nodes": {"n": {"state": "done"}}}, "finished_at": now,
              "run_seconds": 1.5, "worker": None, "step_seconds": None}
    names = tuple(sorted((k, v is None) for k, v in fields.items()))
    bound = {**{f"v_{k}": v for k, v in fields.items() if v is not None}, "now": now, "after_revision": 7}
    reference = (update(Task).where(col(Task.id) == bindparam("task_id"), col(Task.status) == "running",
                                    col(Task.cancel_requested) == False)  # noqa: E712
                 .values({**{n: null() if empty else bindparam(f"v_{n}") for n, empty in names},
                          "updated_at": bindparam("now"),
                          "revision": func.max(Task.revision, bindparam("after_revision")) + 1})
                 .returning(Task).execution_options(synchronize_session=False))
    with db.transaction() as session:
        by_orm = session.scalars(reference, {**bound, "task_id": "t0"}).one()
    with db.transaction() as session:
        rows = _outcome(names, True).rows(session, {**bound, "task_id": "t1"})
    prepared = Task(**rows[0])
    _same_but_times(_stored(db, "t0"), _stored(db, "t1"))
    _same_but_times(by_orm.model_dump(), prepared.model_dump())
    assert prepared.revision == 8 and prepared.worker is None and prepared.result == {"assets": ["a_1"]}
    assert _stored(db, "t1")["worker"] is None and _stored(db, "t1")["eta_seconds"] is None

    # Part of its transaction: rolled back with the rest of it.
    _claim().run(db, {"task_id": "t2", "now": now, "worker": "w:1"})
    with pytest.raises(RuntimeError), db.transaction() as session:
        assert _outcome(names, True).rows(session, {**bound, "task_id": "t2"})[0]["status"] == "succeeded"
        raise RuntimeError("what the task made could not be recorded")
    assert _stored(db, "t2")["status"] == "running"


def test_a_list_parameter_is_refused_when_prepared() -> None:
    with pytest.raises(ValueError, match="no list parameter"):
        Prepared(update(Task.__table__).where(Task.__table__.c.status.in_(("queued", "running")))  # type: ignore[attr-defined]
                 .values(step=1))


def test_claiming_a_task_opens_no_session(tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = KindRegistry()
    runner = Runner(Settings(data_dir=tmp_path), db, BlobStore(tmp_path / "blobs"), EventBus(), kinds)
    opened: list[object] = []
    real = Session.__init__
    monkeypatch.setattr(Session, "__init__", lambda self, *a, **k: (opened.append(self), real(self, *a, **k))[1])
    _claim().run(db, {"task_id": "t0", "now": utcnow(), "worker": "w:0"})
    runner.execute("t0")  # taken by another worker already: nothing to run, and no Session to find that out
    assert opened == []


def _raw_rows(db: Database, table: str, order: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db.path) as raw:
        return [tuple(row) for row in raw.execute(f"SELECT * FROM {table} ORDER BY {order}")]


def test_inserted_rows_hold_the_text_the_session_wrote(db: Database) -> None:
    """`insert_rows` (the outcome's assets, takes, ledger, cache and log rows): the same text as a Session's
    INSERT of the same values — times, JSON, NULLs, an id SQLite gives — and a taken key left alone on request."""
    from sqlalchemy.dialects.sqlite import insert

    from mediastudio.db import insert_rows
    from mediastudio.engine.cache import NodeOutput
    from mediastudio.tasks.tables import TaskLogLine

    now = utcnow()
    outputs = [{"key": f"k{n}", "node_type": "prompt", "outputs": {"text": "é ∞", "n": n, "none": None,
                                                                    "list": [1.5, True]}, "created_at": now}
               for n in range(3)]
    lines = [{"id": None, "task_id": "t0", "attempt": 1, "seq": n, "at": now, "level": "info", "source": "task",
              "message": f"line {n}"} for n in range(3)]
    with db.transaction() as session:
        session.execute(insert(NodeOutput), outputs[:2])
        session.execute(insert(TaskLogLine), lines)
    reference = _raw_rows(db, "node_outputs", "key"), _raw_rows(db, "task_log", "id")
    with db.transaction() as session:
        session.execute(NodeOutput.__table__.delete())  # type: ignore[attr-defined]
        session.execute(TaskLogLine.__table__.delete())  # type: ignore[attr-defined]
    with db.transaction() as session:
        insert_rows(session, NodeOutput, outputs[:2])
        insert_rows(session, TaskLogLine, lines)
    assert (_raw_rows(db, "node_outputs", "key"), [r[1:] for r in _raw_rows(db, "task_log", "id")]) == \
        (reference[0], [r[1:] for r in reference[1]])
    with db.transaction() as session:  # a key stored before keeps its first row
        insert_rows(session, NodeOutput, [{**outputs[0], "node_type": "seed"}, outputs[2]], keep_existing=True)
    stored = _raw_rows(db, "node_outputs", "key")
    assert [row[:2] for row in stored] == [("k0", "prompt"), ("k1", "prompt"), ("k2", "prompt")]
    with pytest.raises(Exception, match="UNIQUE"), db.transaction() as session:  # otherwise a taken key fails
        insert_rows(session, NodeOutput, [outputs[0]])


def test_inserted_rows_roll_back_with_their_transaction(db: Database) -> None:
    from mediastudio.db import insert_rows
    from mediastudio.tasks.tables import TaskLogLine

    with pytest.raises(RuntimeError), db.transaction() as session:
        insert_rows(session, TaskLogLine, [{"id": None, "task_id": "t0", "attempt": 1, "seq": 0, "at": utcnow(),
                                            "level": "info", "source": "task", "message": "gone"}])
        raise RuntimeError("the outcome failed")
    assert _raw_rows(db, "task_log", "id") == []


def test_a_prepared_select_reads_what_the_session_reads_and_is_heard_by_listeners(db: Database) -> None:
    """The rights check of every write, a run's index and the owner's counts read as prepared SELECTs: the same rows,
    of the same Python types (a time comes back aware), as the session reads; and SQLAlchemy's `before_cursor_execute`
    listeners (what tests count statements with) hear them as they hear the session's."""
    from sqlalchemy import event
    from sqlmodel import select

    from mediastudio.auth.tables import User
    from mediastudio.db import loaded
    from mediastudio.engine.service import Engine
    from mediastudio.tasks.service import active_counts

    with db.transaction() as session:
        session.add(User(id="u", username="ada", display_name="Ada", password_hash="x", color="#336699"))
    statement = select(User).where(col(User.id) == bindparam("user_id"))
    heard: list[str] = []

    def hear(_connection: object, _cursor: object, sql: str, *_: object) -> None:
        heard.append(" ".join(sql.split())[:40])

    with db.session() as session:
        by_session = session.exec(select(User).where(col(User.id) == "u")).one()
        event.listen(db.engine, "before_cursor_execute", hear)
        try:
            (row,) = Prepared(statement).rows(session, {"user_id": "u"})
            counted = Engine.run_index(session, "s")
            counts = active_counts(session, "u", "gpu")
        finally:
            event.remove(db.engine, "before_cursor_execute", hear)
    prepared = loaded(User, row)
    assert prepared.model_dump() == by_session.model_dump()
    assert type(prepared.created_at) is type(by_session.created_at) and prepared.created_at.tzinfo is not None
    assert counted == 4 and counts == (4, 4)  # t0–t2 queued, t3 interrupted: all the scene's, all waiting
    assert [h.split(" FROM")[0][:13] for h in heard] == ["SELECT users.", "SELECT count(", "SELECT count("], heard


def _recorded(db: Database, task_id: str, at: Any) -> Task:
    """A task written as a run's request writes it (`new_task`: a new row's object, one INSERT)."""
    from mediastudio.db import fresh, insert_new

    task = fresh(Task, {"id": task_id, "created_at": at, "updated_at": at, "kind": "scene.run", "lane": "gpu",
                        "title": "Run", "owner_id": "u",
                        "params": {"scene_id": "s", "graph": {"nodes": {"a": {"type": "prompt", "v": 1.5}}}},
                        "size": 2.0, "priority": -1, "enqueued_at": 1.25, "message": "Waiting in the queue"})
    with db.transaction() as session:
        insert_new(session, [task])
    return task


def test_a_handed_task_is_claimed_as_the_whole_row_would_read(tmp_path: Path, db: Database,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim of a task recorded in this process reads back only its counts and takes the rest from the row as
    it was written: the task it leaves is the one the claim of the whole row gives, column by column, of the same
    types; a row changed since it was recorded (its revision moved on) is read as the database has it."""
    import mediastudio.tasks.runner as runner_module
    from mediastudio.db import loaded
    from mediastudio.tasks.schemas import task_out

    now = utcnow()
    monkeypatch.setattr(runner_module, "utcnow", lambda: now)
    runner = Runner(Settings(data_dir=tmp_path), db, BlobStore(tmp_path / "blobs"), EventBus(), KindRegistry())
    handed, _ = _recorded(db, "h1", now), _recorded(db, "h2", now)
    runner.hand("h1", NoParams(), handed)
    claimed = runner._claim("h1")
    (whole,) = _claim().run(db, {"task_id": "h2", "now": now, "worker": runner.name})
    assert claimed is not None and claimed is not handed
    got = {k: v for k, v in claimed.__dict__.items() if not k.startswith("_")}
    assert set(got) == set(whole)
    # (SQLite gives back a whole number of a FLOAT column as an int: the same value, and the same in the task's JSON)
    numbers = (int, float)
    wrong = [(name, got[name], value) for name, value in whole.items()
             if name != "id" and not (got[name] == value and (type(got[name]) is type(value) or (
                 isinstance(got[name], numbers) and isinstance(value, numbers))))]
    assert not wrong
    as_sent = task_out(claimed).model_dump(mode="json")
    assert as_sent == {**task_out(loaded(Task, whole)).model_dump(mode="json"), "id": "h1"}
    assert handed.status == "queued" and handed.revision == 0  # the request's object is left as it was
    assert _stored(db, "h1")["status"] == "running" and runner._claim("h1") is None  # taken once

    changed = _recorded(db, "h3", now)
    runner.hand("h3", NoParams(), changed)
    with db.transaction() as session:  # written since it was recorded (its revision moves on)
        session.execute(update(Task).where(col(Task.id) == "h3").values(title="Renamed", revision=Task.revision + 1))
    claimed = runner._claim("h3")
    assert claimed is not None and claimed.title == "Renamed" and claimed.revision == 2 and claimed.attempts == 1
    assert claimed.status == "running" and claimed.worker == runner.name
