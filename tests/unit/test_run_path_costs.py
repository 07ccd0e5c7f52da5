"""What a run costs on its way from the request to its `task.succeeded` event, beyond the work itself: a finished
task costs the lane's queue file no transaction, a task ending hands its event to the sockets before the bus's
listeners start their work, the answer's ETAs read a kind's history only when it may have changed, and a picture
the run holds is not decoded again to read its size (benchmarks/README.md, "Seventh round")."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import event

from mediastudio.common import utcnow
from mediastudio.db import Database
from mediastudio.engine.run import _probed
from mediastudio.events.bus import EventBus
from mediastudio.media.probe import PictureTooLarge
from mediastudio.projects.events import ProjectChanged
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.tables import open_database
from mediastudio.tasks.estimates import HISTORY, Rates, seconds_per_unit
from mediastudio.tasks.kinds import KindRegistry
from mediastudio.tasks.queue import LaneStorage, TaskQueue
from mediastudio.tasks.runner import Runner
from mediastudio.tasks.tables import Task
from support import run_async


class NoParams(BaseModel):
    pass


def _queue(tmp_path: Path) -> tuple[TaskQueue, Database]:
    settings = Settings(data_dir=tmp_path)
    db = open_database(tmp_path / "studio.sqlite")
    kinds = KindRegistry()
    kinds.add("test.noop", lambda ctx, params: {"ok": True}, lane="gpu", params=NoParams, title=lambda _: "Noop",
              needs="none", project=False)
    runner = Runner(settings, db, BlobStore(tmp_path / "blobs"), EventBus(), kinds)
    return TaskQueue(settings, runner), db


def test_a_finished_task_costs_the_lane_file_no_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Huey clears a task's revocation after running it; the lanes keep none in their file (a revoked message
    leaves the in-memory lane), so that clearing was a write transaction on the queue file per task for nothing."""
    queue, db = _queue(tmp_path)
    touched: list[str] = []
    for name in ("pop_data", "delete_data", "put_data"):
        original = getattr(LaneStorage, name)
        monkeypatch.setattr(LaneStorage, name, lambda self, *args, _o=original, _n=name: (touched.append(_n),
                                                                                          _o(self, *args))[1])
    with db.transaction() as session:
        session.add(Task(id="t_one", kind="test.noop", lane="gpu", title="t", owner_id="u"))
    lane = queue.lanes["gpu"]
    queue.enqueue(Task(id="t_one", kind="test.noop", lane="gpu", title="t", owner_id="u", priority=0))
    lane.execute(lane.dequeue())
    with db.session() as session:
        row = session.get(Task, "t_one")
        assert row is not None and row.status == "succeeded"
    assert touched == []
    db.close()


def test_the_sockets_have_an_event_before_the_listeners_hear_of_it() -> None:
    """A listener's work (a worker thread recording an inbox line, the queue's summary) starts behind the sockets'
    relays: the event is in every subscriber's queue when the listeners are called."""
    async def scenario() -> None:
        bus = EventBus()
        bus.bind(asyncio.get_running_loop())
        member = bus.subscribe("u_1", {"ws_team"})
        seen: list[int] = []
        bus.listeners.append(lambda _event: seen.append(member.queue.qsize()))
        bus.publish(ProjectChanged(workspace_id="ws_team", project_id="p_1", by="u_1", summary="Renamed"))
        assert seen == [1]

    run_async(scenario())


def test_a_kinds_rate_is_read_again_only_once_a_task_of_it_succeeded_or_a_while_passed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_database(tmp_path / "studio.sqlite")
    reads: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: reads.append(sql) if "run_seconds" in sql and "ORDER BY" in sql else None)

    def succeed(task_id: str, seconds: float) -> Task:
        with db.transaction() as session:
            session.add(Task(id=task_id, kind="k", lane="gpu", title="t", owner_id="u", status="succeeded",
                             run_seconds=seconds, size=1.0, finished_at=utcnow()))
        return Task(id=task_id, kind="k", lane="gpu", title="t", owner_id="u", status="succeeded",
                    run_seconds=seconds, size=1.0)

    rates = Rates()
    succeed("t_1", 2.0)
    with db.session() as session:
        assert rates.get(session, "k") == 2.0
        succeed("t_2", 4.0)
        assert rates.get(session, "k") == 2.0  # kept: nothing said the kind's history changed
        assert len(reads) == 1
        rates.forget("k")  # a task of the kind succeeded in another process
        assert rates.get(session, "k") == 3.0
        assert len(reads) == 2
        succeed("t_3", 6.0)
        import mediastudio.tasks.estimates as estimates

        monkeypatch.setattr(estimates, "RATE_SECONDS", 0.0)  # a while passed (another process may have run it)
        assert rates.get(session, "k") == 4.0
        assert len(reads) == 3
    db.close()


def test_a_success_of_this_process_joins_its_kinds_rate_with_no_read(tmp_path: Path) -> None:
    db = open_database(tmp_path / "studio.sqlite")
    reads: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: reads.append(sql) if "run_seconds" in sql and "ORDER BY" in sql else None)

    def succeed(task_id: str, seconds: float, size: float = 1.0) -> Task:
        with db.transaction() as session:
            session.add(Task(id=task_id, kind="k", lane="gpu", title="t", owner_id="u", status="succeeded",
                             run_seconds=seconds, size=size, finished_at=utcnow()))
        return Task(id=task_id, kind="k", lane="gpu", title="t", owner_id="u", status="succeeded",
                    run_seconds=seconds, size=size)

    rates = Rates()
    for number in range(HISTORY):
        succeed(f"t_old{number}", 1.0)
    with db.session() as session:
        assert rates.get(session, "k") == 1.0
        for number, (seconds, size) in enumerate([(9.0, 3.0), (4.0, 1.0), (20.0, 2.0)]):
            rates.succeeded(succeed(f"t_new{number}", seconds, size))
            before = len(reads)
            kept = rates.get(session, "k")
            assert len(reads) == before  # no read
            # the same rate a read finds (the oldest run dropped off the kept ones)
            assert kept == pytest.approx(seconds_per_unit(session, "k"))
            rates.heard(f"t_new{number}", "k")  # its own event, heard after: nothing to read again
            assert rates.get(session, "k") == kept and len(reads) == before + 1  # (the one read just above)
        before = len(reads)
        rates.heard("t_elsewhere", "k")  # a success this process did not see: read again
        assert rates.get(session, "k") == pytest.approx(seconds_per_unit(session, "k"))
        assert len(reads) == before + 2
    db.close()


def test_a_read_that_a_success_overtook_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mediastudio.tasks.estimates as estimates

    db = open_database(tmp_path / "studio.sqlite")
    with db.transaction() as session:
        session.add(Task(id="t_1", kind="k", lane="gpu", title="t", owner_id="u", status="succeeded",
                         run_seconds=2.0, size=1.0, finished_at=utcnow()))
    rates, real = Rates(), estimates.latest_runs

    def overtaken(session: Any, kind: str) -> list[tuple[float, float]]:
        runs = real(session, kind)  # read before the success below committed
        with db.transaction() as other:
            other.add(Task(id="t_2", kind="k", lane="gpu", title="t", owner_id="u", status="succeeded",
                           run_seconds=4.0, size=1.0, finished_at=utcnow()))
        rates.succeeded(Task(id="t_2", kind="k", lane="gpu", title="t", owner_id="u", status="succeeded",
                             run_seconds=4.0, size=1.0))
        return runs

    monkeypatch.setattr(estimates, "latest_runs", overtaken)
    with db.session() as session:
        assert rates.get(session, "k") == 2.0  # what that read found
        monkeypatch.setattr(estimates, "latest_runs", real)
        assert rates.get(session, "k") == 3.0  # not kept: read again, with the success
    db.close()


def test_the_runner_says_which_task_succeeded(tmp_path: Path) -> None:
    queue, db = _queue(tmp_path)
    told: list[Task] = []
    queue.runner.succeeded = told.append
    with db.transaction() as session:
        session.add(Task(id="t_ok", kind="test.noop", lane="gpu", title="t", owner_id="u"))
    queue.runner.execute("t_ok")
    assert [(t.id, t.kind, t.status) for t in told] == [("t_ok", "test.noop", "succeeded")]
    assert told[0].run_seconds is not None
    db.close()


def test_a_running_task_says_it_started_and_a_succeeded_one_that_it_finished(tmp_path: Path) -> None:
    """Its line said "Waiting in the queue" from its queuing to its end (unless the kind said something else): in
    the started event, on the task's row while it ran, and in the succeeded event and the API after."""
    settings = Settings(data_dir=tmp_path)
    db = open_database(tmp_path / "studio.sqlite")
    kinds = KindRegistry()
    seen: list[str] = []

    def look(ctx: Any, params: Any) -> dict[str, Any]:
        with db.session() as session:
            row = session.get(Task, ctx.task_id)
            seen.append(row.message if row is not None else "")
        return {"ok": True}

    kinds.add("test.look", look, lane="gpu", params=NoParams, title=lambda _: "Look", needs="none", project=False)
    runner = Runner(settings, db, BlobStore(tmp_path / "blobs"), EventBus(), kinds)
    started: list[str] = []
    publish = runner.publish

    def told(event: Any, task: Task) -> None:
        started.append(f"{event.__name__}: {task.message}")
        publish(event, task)

    runner.publish = told  # type: ignore[method-assign]
    with db.transaction() as session:
        session.add(Task(id="t_look", kind="test.look", lane="gpu", title="t", owner_id="u"))
    runner.execute("t_look")
    assert seen == ["Starting"]
    assert started == ["TaskStarted: Starting", "TaskSucceeded: Finished"]
    with db.session() as session:
        row = session.get(Task, "t_look")
        assert row is not None and (row.status, row.message) == ("succeeded", "Finished")
    db.close()


def test_a_run_constructs_no_task_row_and_reports_without_change_tracking(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim's and the outcome's rows are made from their statements' RETURNING as loaded rows are (`loaded`),
    and a progress report changes the row kept in memory in place: constructing a Task and setting its columns
    one by one through SQLAlchemy's bookkeeping cost ~0.1 ms a row, on every run's path (benchmarks/README.md,
    "Tenth round"). What they hold is what the database holds."""
    queue, db = _queue(tmp_path)

    def reports(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        for step in range(1, 4):
            ctx.progress(step, 3, f"step {step}")
        return {"reported": 3}

    queue.runner.kinds.add("test.reports", reports, lane="gpu", params=NoParams, title=lambda _: "Reports",
                           needs="none", project=False)
    with db.transaction() as session:
        session.add(Task(id="t_rep", kind="test.reports", lane="gpu", title="t", owner_id="u"))
    made: list[int] = []
    changed: list[str] = []
    real_init = Task.__init__
    monkeypatch.setattr(Task, "__init__", lambda self, **values: (made.append(1), real_init(self, **values))[1])
    for column in ("step", "message", "revision"):
        event.listen(getattr(Task, column), "set", lambda *_, _c=column: changed.append(_c))
    told: list[Task] = []
    queue.runner.succeeded = told.append
    queue.runner.execute("t_rep")
    assert made == [] and changed == []
    monkeypatch.undo()
    with db.session() as session:
        stored = session.get(Task, "t_rep")
        assert stored is not None
        assert told[0].model_dump() == stored.model_dump()
        assert (stored.status, stored.step, stored.total, stored.result) == ("succeeded", 3, 3, {"reported": 3})
    db.close()


def test_a_new_row_made_without_its_init_is_the_row_its_init_makes(tmp_path: Path) -> None:
    """`fresh` (a run's new task on its request's path) gives what `Task(**values)` gives: every default, each
    default factory called anew (no two rows share a dict); a column with no default is asked for."""
    from datetime import timedelta

    from mediastudio.db import fresh, insert_new

    values = {"id": "t_new", "kind": "k", "lane": "gpu", "title": "t", "owner_id": "u", "priority": -2}
    made, built = fresh(Task, values), Task(**values)
    clock = {"created_at", "updated_at"}
    assert {k: v for k, v in made.model_dump().items() if k not in clock} == \
        {k: v for k, v in built.model_dump().items() if k not in clock}
    assert all(abs(getattr(made, k) - getattr(built, k)) < timedelta(seconds=5) for k in clock)
    assert made.params is not fresh(Task, {**values, "id": "t_other"}).params
    with pytest.raises(TypeError, match="owner_id"):
        fresh(Task, {k: v for k, v in values.items() if k != "owner_id"})
    db = open_database(tmp_path / "studio.sqlite")
    with db.transaction() as session:
        insert_new(session, [made])
    with db.session() as session:
        stored = session.get(Task, "t_new")
        assert stored is not None and stored.model_dump() == made.model_dump()
    db.close()


def test_the_queues_view_reads_no_tasks_params(tmp_path: Path) -> None:
    """The view of the lanes (every run's answer, each task event's queue summary) reads the waiting and running
    tasks' columns but their params (a scene run's whole graph): loading whole tasks was most of its cost. The
    queue a person is shown still describes their whole tasks, in run order."""
    from mediastudio.accounts.users import create_user
    from mediastudio.app import build_studio

    studio = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    studio.tasks.kinds.add("test.noop", lambda ctx, params: {}, lane="cpu", params=NoParams, title=lambda _: "Noop",
                           needs="none", project=False)
    with studio.db.transaction() as session:
        user = create_user(session, username="ana", password="violet tram sixteen", is_admin=True)
        made = [studio.tasks.new(session, user, "test.noop", {}, None) for _ in range(3)]
    read: list[str] = []
    event.listen(studio.db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: read.append(sql))
    state = studio.tasks.queue_state()
    assert [t["id"] for t in state["tasks"]] == [t.id for t in made]
    assert [t["position"] for t in state["tasks"]] == [1, 2, 3]
    assert read and not any("tasks.params" in sql for sql in read), read
    _, shown = studio.tasks.visible_queue(user)
    assert [(t.id, t.title, t.position) for t in shown] == [(t.id, "Noop", n) for n, t in enumerate(made, 1)]
    studio.db.close()


class _Ctx:
    def __init__(self, tmp_path: Path, max_pixels: int) -> None:
        self.settings = SimpleNamespace(max_image_pixels=max_pixels)
        self.blobs = BlobStore(tmp_path / "blobs")


class _Sniffed:
    category, mime = "image", "image/png"


def test_a_picture_the_run_holds_gives_its_size_without_being_decoded_again(tmp_path: Path) -> None:
    ctx: Any = _Ctx(tmp_path, max_pixels=10_000)
    missing = "0" * 64  # no such blob: reading it would fail
    found = _probed(ctx, missing, _Sniffed(), (64, 32))
    assert (found.width, found.height) == (64, 32)
    # Anything else is read from the blob as an upload is: a size over the limit is refused there.
    ctx_small: Any = _Ctx(tmp_path, max_pixels=100)
    sha, _ = ctx_small.blobs.store_bytes(_png(64, 32))
    with pytest.raises(PictureTooLarge):
        _probed(ctx_small, sha, _Sniffed(), (64, 32))
    found = _probed(ctx, sha, _Sniffed(), None)
    assert (found.width, found.height) == (64, 32)


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()
