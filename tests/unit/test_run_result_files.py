"""A run's results are recorded with its outcome: their asset files go to the disk while the outcome's rows are
written (`write_atomic_soon`: the fsyncs on a helper thread), and the transaction commits only once they are
durable. A file that cannot be made durable (a full disk) fails the run saying so, and leaves nothing behind:
no row, no asset file, no temporary file, no new blob."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pydantic import BaseModel
from sqlalchemy import event
from sqlmodel import col, select

from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.auth.tables import User
from mediastudio.engine.run import _asset_writer
from mediastudio.media.assets import read_meta
from mediastudio.projects import service
from mediastudio.projects.access import project_folder
from mediastudio.projects.files import write_atomic_soon
from mediastudio.projects.repo import ProjectRepo
from mediastudio.projects.tables import Asset, Project
from mediastudio.settings import Settings
from mediastudio.studio import Studio
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.tables import Task


class Params(BaseModel):
    colour: str = "teal"


def _picture(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _maker(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    """What a shot node does with its pictures (engine/nodes/output.py), without a graph around it."""
    ids = _asset_writer(ctx)([("Hero.png", _picture(params["colour"]), {"shot": "Hero", "size": (8, 8)})],
                             {"scene_id": "sc", "node_id": "shot"}, ["generated"])
    return {"assets": ids}


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    made.tasks.kinds.add("test.maker", _maker, lane="cpu", params=Params, title=lambda _: "Maker", needs="edit")
    yield made
    made.db.close()


def _run(studio: Studio, colour: str) -> tuple[Task, Project]:
    with studio.db.transaction() as db:
        ana = create_user(db, username=f"ana-{colour}", password="violet tram sixteen")
        project = service.create_project(db, studio.settings, ana, name="Film", workspace_id=None)
        task = studio.tasks.new(db, ana, "test.maker", {"colour": colour}, project.id)
    studio.tasks.runner.execute(task.id)  # as a lane's worker does, in this thread
    with studio.db.session() as db:
        row = db.get(Task, task.id)
        assert row is not None
        return row, project


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts)


def test_a_result_is_recorded_once_its_file_is_durable(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    task, project = _run(studio, "teal")
    assert task.status == "succeeded", task.error_message
    (asset_id,) = task.result["assets"]
    meta = read_meta(studio.settings, project, asset_id)
    assert meta["name"] == "Hero · #1.png" and meta["provenance"]["node_id"] == "shot"
    assert any(f"/.{asset_id}.json." in path for path in synced)  # its bytes were fsynced before the rename
    assert not [n for n in _files(project_folder(studio.settings, project)) if n.endswith(".tmp")]
    with studio.db.session() as db:
        assert db.get(Asset, asset_id) is not None


def test_the_outcome_is_written_while_the_result_file_goes_to_the_disk(studio: Studio,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The transaction waits for the asset file last, after the task's own row is written: the outcome's statement
    runs while the disk syncs the file (it waited for the file before, ~0.7 ms of every run on a small machine)."""
    import threading

    from mediastudio.projects import files
    from mediastudio.tasks import runner

    outcome_written = threading.Event()
    order: list[str] = []
    real_outcome = runner._outcome

    class Watched:
        def __init__(self, prepared: Any) -> None:
            self.prepared = prepared

        def rows(self, db: Any, values: dict[str, Any]) -> Any:
            found = self.prepared.rows(db, values)
            order.append("outcome written")
            outcome_written.set()
            return found

    monkeypatch.setattr(runner, "_outcome", lambda *args: Watched(real_outcome(*args)))
    real_write = files.write_atomic

    def write_atomic(path: Path, data: bytes, **options: Any) -> None:
        if path.parent.name != "assets":
            return real_write(path, data, **options)
        waited = outcome_written.wait(5)
        real_write(path, data, **options)
        order.append("file durable" if waited else "file durable, waited for before the outcome")

    monkeypatch.setattr(files, "write_atomic", write_atomic)
    task, project = _run(studio, "plum")
    assert task.status == "succeeded", task.error_message
    assert order == ["outcome written", "file durable"]
    (asset_id,) = task.result["assets"]
    assert read_meta(studio.settings, project, asset_id)["name"] == "Hero · #1.png"


def test_a_result_whose_file_cannot_be_made_durable_fails_the_run_and_leaves_nothing(
        studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs_before = _files(studio.settings.data_dir / "blobs")
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the disk fills up as an asset's file is made durable
        if "/assets/" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    task, project = _run(studio, "plum")
    assert task.status == "failed"
    assert task.error_message is not None and "could not be saved" in task.error_message
    assert "No space left on device" in task.error_message
    folder = project_folder(studio.settings, project)
    assert not [n for n in _files(folder) if n.startswith((".as_", "as_"))], _files(folder)
    with studio.db.session() as db:
        assert db.exec(select(Asset).where(col(Asset.project_id) == project.id)).all() == []
    assert _files(studio.settings.data_dir / "blobs") == blobs_before  # the result's new blob went too


def test_a_file_written_soon_is_in_place_once_settled_and_nowhere_when_it_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "deep" / "as_1.json"
    write_atomic_soon(target, b"{}\n").result()
    assert target.read_bytes() == b"{}\n" and _files(tmp_path) == ["as_1.json"]

    def replace(source: str, destination: str) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", replace)
    future = write_atomic_soon(tmp_path / "deep" / "as_2.json", b"{}\n")
    with pytest.raises(OSError, match="Input/output error"):
        future.result()
    assert _files(tmp_path) == ["as_1.json"]  # no temporary file left behind


def test_a_file_written_soon_is_created_by_the_helper_not_the_caller(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Creating the temporary file waits on the file system too (~0.2 ms on a small machine): the caller, a run's
    outcome with rows to write meanwhile, hands that to the helper thread with the rest."""
    import threading

    from mediastudio.projects import files

    makers: list[str] = []
    real_new_aside = files._new_aside

    def new_aside(path: Path) -> tuple[int, str]:
        makers.append(threading.current_thread().name)
        return real_new_aside(path)

    monkeypatch.setattr(files, "_new_aside", new_aside)
    write_atomic_soon(tmp_path / "as_3.json", b"{}\n").result()
    assert makers and threading.current_thread().name not in makers, makers
    assert (tmp_path / "as_3.json").read_bytes() == b"{}\n"


def test_the_temporary_file_is_a_new_one_of_its_own_beside_the_file(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary file is made new (never one already there: another writer's, a link someone planted), in
    the file's folder (made if missing), with a name git ignores (`*.tmp`)."""
    import secrets

    from mediastudio.projects import files

    folder = tmp_path / "assets"
    folder.mkdir()
    (folder / ".as_4.json.taken.tmp").write_bytes(b"another writer's")
    (folder / ".as_4.json.link.tmp").symlink_to(tmp_path / "elsewhere.json")
    names = iter(["taken", "link", "free"])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(names))
    files.write_atomic(folder / "as_4.json", b"{}\n")
    assert (folder / "as_4.json").read_bytes() == b"{}\n"
    assert (folder / ".as_4.json.taken.tmp").read_bytes() == b"another writer's"
    assert not (tmp_path / "elsewhere.json").exists()
    assert sorted(p.name for p in folder.iterdir()) == [".as_4.json.link.tmp", ".as_4.json.taken.tmp", "as_4.json"]

    names = iter(["first"])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(names))
    files.write_atomic(tmp_path / "new" / "deeper" / "as_5.json", b"[]\n")
    assert (tmp_path / "new" / "deeper" / "as_5.json").read_bytes() == b"[]\n"
    assert [p.name for p in (tmp_path / "new" / "deeper").iterdir()] == ["as_5.json"]


def test_a_runs_results_join_the_pending_commit_without_loading_orm_objects(studio: Studio) -> None:
    """The follow-up that puts a run's asset files in the project's pending commit (after its event) reads the
    owner and the project as plain rows: their ORM objects were a fifth of its CPU, on every run. What it records
    is unchanged: a commit of the files by the owner, the project's contributors and the moment it changed."""
    loads: list[str] = []

    def count(target: Any, _context: Any) -> None:
        loads.append(type(target).__name__)

    for model in (Project, User):
        event.listen(model, "load", count)
    try:
        task, project = _run(studio, "olive")
        studio.tasks.runner.drain_follow_ups()
    finally:
        for model in (Project, User):
            event.remove(model, "load", count)
    assert task.status == "succeeded", task.error_message
    assert loads == []
    repo = ProjectRepo(project_folder(studio.settings, project))
    repo.commit_pending()  # the commit window's, now (its timer may have made it already)
    (asset_id,) = task.result["assets"]
    head = repo.log()[0]
    assert head.message.splitlines()[0].startswith("Generated") and head.author_id == task.owner_id
    assert f"assets/{asset_id}.json" in repo.files_at(head.sha, "assets/")
    with studio.db.session() as db:
        row = db.get(Project, project.id)
        assert row is not None and task.owner_id in row.contributors.split() and row.updated_at > project.updated_at


def test_the_outcomes_event_goes_out_before_the_events_of_what_it_recorded(studio: Studio) -> None:
    """A client waits for `task.succeeded` (its result names the assets, committed with it): the `asset.created`
    of the assets recorded with the outcome follow it, and are not lost."""
    import asyncio
    import json

    from support import run_async

    with studio.db.transaction() as db:
        ana = create_user(db, username="ana-events", password="violet tram sixteen")
        project = service.create_project(db, studio.settings, ana, name="Film", workspace_id=None)
        task = studio.tasks.new(db, ana, "test.maker", {"colour": "navy"}, project.id)

    async def scenario() -> list[dict[str, Any]]:
        studio.events.bind(asyncio.get_running_loop())
        subscriber = studio.events.subscribe(ana.id, {project.workspace_id}, is_admin=False)
        await asyncio.to_thread(studio.tasks.runner.execute, task.id)
        await asyncio.sleep(0.3)
        heard = []
        while not subscriber.queue.empty():
            heard.append(json.loads(subscriber.queue.get_nowait()))
        return heard

    heard = [e for e in run_async(scenario()) if e["type"] in ("task.succeeded", "asset.created")]
    assert [e["type"] for e in heard] == ["task.succeeded", "asset.created"], heard
    assert heard[1]["asset_id"] == heard[0]["task"]["result"]["assets"][0]


def test_the_results_are_checked_in_the_transaction_that_records_them(studio: Studio,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The owner's rights and storage quota are read where the results are recorded, in the outcome's transaction:
    the shot opened a session of its own for them (~0.9 ms of a small CPU on every run's way)."""
    from mediastudio.engine import run as engine_run
    from mediastudio.media.assets import NewAssets

    sessions: dict[str, object] = {}
    real_prepare, real_record = engine_run.prepare_assets, NewAssets.record

    def prepare(db: object, *args: Any, **kwargs: Any) -> Any:
        sessions["checked"] = db
        return real_prepare(db, *args, **kwargs)  # type: ignore[arg-type]

    def record(self: NewAssets, db: Any) -> Any:
        sessions["recorded"] = db
        return real_record(self, db)

    monkeypatch.setattr(engine_run, "prepare_assets", prepare)
    monkeypatch.setattr(NewAssets, "record", record)
    task, _ = _run(studio, "olive")
    assert task.status == "succeeded", task.error_message
    assert sessions["checked"] is sessions["recorded"]
