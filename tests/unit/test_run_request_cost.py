"""What answering a request for runs costs besides recording them: describing the new tasks (their places and
ETAs) reads the database only, not the lanes' queue storage (whether a lane is paused changes no place)."""

from pathlib import Path

import pytest

from mediastudio.auth.tables import User
from mediastudio.db import Database
from mediastudio.events.bus import EventBus
from mediastudio.projects.access import task_scope
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.tables import open_database
from mediastudio.tasks.kinds import KindRegistry
from mediastudio.tasks.system import TaskSystem
from mediastudio.tasks.tables import Task


def _queue_of_four(tmp_path: Path) -> tuple[Database, TaskSystem]:
    """A task system over a database holding Ada's four runs of project p1: one ended, one running, two waiting."""
    db = open_database(tmp_path / "studio.sqlite")
    system = TaskSystem(Settings(data_dir=tmp_path), db, BlobStore(tmp_path / "blobs"), EventBus(), KindRegistry(),
                        task_scope)
    with db.transaction() as session:
        session.add(User(id="u1", username="ada", display_name="Ada", password_hash="x", color="#336699"))
        for n, status in enumerate(("succeeded", "running", "queued", "queued")):
            session.add(Task(id=f"t{n}", kind="scene.run", lane="gpu", title="Run", owner_id="u1", status=status,
                             size=4.0, run_seconds=2.0 if status == "succeeded" else None, enqueued_at=float(n),
                             project_id="p1"))
    return db, system


def test_describing_new_tasks_reads_nothing_from_the_lanes_queue_storage(tmp_path: Path) -> None:
    db, system = _queue_of_four(tmp_path)
    with db.session() as session:
        tasks = [session.get(Task, "t2"), session.get(Task, "t3")]
    system.queue.set_paused(True, ("gpu",))
    seen: list[str] = []
    for lane in system.queue.lanes.values():
        lane.storage.conn.set_trace_callback(seen.append)
    described = system.describe([t for t in tasks if t is not None])
    assert [(t.id, t.position) for t in described] == [("t2", 1), ("t3", 2)]
    assert described[1].starts_in_seconds is not None and described[1].eta_seconds is not None
    assert seen == [], seen
    for lane in system.queue.lanes.values():
        lane.storage.conn.set_trace_callback(None)
        lane.storage.close()
    db.close()


def test_planning_runs_and_resolving_their_model_walk_no_model_folder(tmp_path: Path) -> None:
    """Each run plans its graph (on the request, then in the task) and resolves its model: that needs each
    model's kind and path, not its size, so no model folder is walked (a real one holds many files)."""
    from file_audit import opened
    from mediastudio.models.pipelines import PipelineCache
    from mediastudio.models.registry import ModelRegistry

    source = tmp_path / "weights"
    (source / "unet").mkdir(parents=True)
    (source / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    (source / "unet" / "weights.bin").write_bytes(b"w" * 1000)
    registry = ModelRegistry(tmp_path / "data")
    registry.add(source, "tiny")
    with opened() as seen:
        assert registry.kinds() == {"tiny": "text-to-image"}
        assert registry.names() == {"tiny"}
        cache = PipelineCache(registry, device="cpu")
        assert cache.resolve_name("tiny") == cache.resolve_name(None) == "tiny"
    walked = [s for s in seen if s.startswith(("os.scandir", "os.listdir"))
              and ("weights" in s or "models/tiny" in s)]
    assert walked == [], walked
    (listed,) = registry.list()  # what people are shown still says how large each model is
    assert listed.size_bytes >= 1000


def test_an_installed_models_index_is_read_again_only_when_it_changed(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run asks for the installed models (plan, model node): an index read before is not opened again,
    and one rewritten since (another pipeline) is, so its kind follows (once the kept listing is older than
    `LISTING_KEPT_S`: the linked folder changed in place, the models folder did not; test_model_listing.py)."""
    import os

    import mediastudio.models.registry as registry_module
    from file_audit import opened
    from mediastudio.models.registry import ModelRegistry

    source = tmp_path / "weights"
    source.mkdir()
    index = source / "model_index.json"
    index.write_text('{"_class_name": "StableDiffusionPipeline"}')
    registry = ModelRegistry(tmp_path / "data")
    registry.add(source, "tiny")
    assert registry.kinds() == {"tiny": "text-to-image"}
    with opened() as seen:
        assert registry.kinds() == {"tiny": "text-to-image"}
        assert registry.get("tiny", sized=False).pipeline == "StableDiffusionPipeline"
    assert [s for s in seen if s.endswith("model_index.json")] == [], seen
    index.write_text('{"_class_name": "StableDiffusionInpaintPipeline"}')
    os.utime(index, ns=(1, 1))  # a rewrite within the clock's tick still shows in the size; this in the time
    monkeypatch.setattr(registry_module, "LISTING_KEPT_S", 0.0)
    assert registry.kinds() == {"tiny": "inpaint"}
    index.unlink()
    assert registry.kinds() == {}


def test_new_runs_are_described_from_what_their_transaction_read(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's answer is described from the places read in the transaction that recorded it, with the names the
    request knows: describing it opens no session of its own (it did, while the lane's worker, just woken, made
    its claim: both waited for the interpreter). What it says is what reading the database afterwards says."""
    db, system = _queue_of_four(tmp_path)
    with db.session() as session:
        places = system.places(session)
        tasks = [t for t in (session.get(Task, "t2"), session.get(Task, "t3")) if t is not None]
    read_afterwards = system.describe(tasks, owner_names={"u1": "Ada"}, project_names={"p1": "Film"})

    def no_session() -> None:
        raise AssertionError("describing the new runs opened a session")

    monkeypatch.setattr(db, "session", no_session)
    described = system.describe(tasks, places, owner_names={"u1": "Ada"}, project_names={"p1": "Film"})
    assert [(t.id, t.position, t.owner_name, t.project_name) for t in described] == [
        ("t2", 1, "Ada", "Film"), ("t3", 2, "Ada", "Film")]
    assert [t.model_dump() for t in described] == [t.model_dump() for t in read_afterwards]
    with pytest.raises(AssertionError, match="opened a session"):  # a name it does not know is read
        system.describe(tasks, places)
    for lane in system.queue.lanes.values():
        lane.storage.close()
    db.close()
