"""What a run writes besides its pictures costs a bounded number of statements, whatever the history holds:
the node cache's rows go in one statement, and media added by someone with no storage quota is not summed."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlmodel import select

from mediastudio.auth.tables import User
from mediastudio.db import Database, _GatedCursor
from mediastudio.engine.cache import NodeCache, NodeOutput
from mediastudio.media.quota import charge, usage
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.tables import open_database


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The statements run on `db`'s connections meanwhile: watched at the connection, where SQLAlchemy's and
    those prepared on the connection itself (`db.insert_rows`) both pass (SQLAlchemy's events see only its own)."""
    seen: list[str] = []
    real_execute, real_many = _GatedCursor.execute, _GatedCursor.executemany

    def note(cursor: _GatedCursor, statement: str) -> None:
        if getattr(cursor.connection, "gate", None) is db.gate:
            seen.append(" ".join(statement.split()).lower())

    def execute(cursor: _GatedCursor, statement: str, parameters: Any = ()) -> _GatedCursor:
        note(cursor, statement)
        return real_execute(cursor, statement, parameters)

    def executemany(cursor: _GatedCursor, statement: str, parameters: Any) -> _GatedCursor:
        note(cursor, statement)
        return real_many(cursor, statement, parameters)

    _GatedCursor.execute, _GatedCursor.executemany = execute, executemany  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        _GatedCursor.execute, _GatedCursor.executemany = real_execute, real_many  # type: ignore[method-assign]


def test_flushing_a_runs_outputs_writes_the_cache_rows_in_one_statement(tmp_path: Path) -> None:
    db = open_database(tmp_path / "studio.sqlite")
    cache = NodeCache(db, BlobStore(tmp_path / "blobs"))
    cache.put("earlier", "prompt", {"text": "kept as it was"}, {"text": "string"})
    cache.flush()
    for n in range(6):
        cache.put(f"key-{n}", "prompt", {"text": f"text {n}"}, {"text": "string"})
    cache.put("earlier", "prompt", {"text": "computed again"}, {"text": "string"})  # a forced run: already stored
    with statements(db) as seen:
        cache.flush()
    on_table = [s for s in seen if "node_outputs" in s]
    assert len(on_table) == 1, on_table
    with db.session() as session:
        rows = {r.key: r.outputs for r in session.exec(select(NodeOutput)).all()}
    assert set(rows) == {"earlier", *(f"key-{n}" for n in range(6))}
    assert rows["earlier"] == {"text": "kept as it was"}  # the first stored result of a key stays
    assert rows["key-3"] == {"text": "text 3"}
    db.close()


def _ada(session: Any) -> User:
    """A person to charge, stored."""
    user = User(id="u1", username="ada", display_name="Ada", password_hash="x", color="#336699")
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def test_media_added_without_a_quota_does_not_sum_the_users_storage(tmp_path: Path) -> None:
    db = open_database(tmp_path / "studio.sqlite")
    settings = Settings(data_dir=tmp_path, storage_quota_bytes=0)
    with db.session() as session:
        user = _ada(session)
        with statements(db) as seen:
            assert charge(session, settings, user, [("a" * 64, 1000)]) == 1000
        assert not [s for s in seen if "sum(" in s], seen
        quota = Settings(data_dir=tmp_path, storage_quota_bytes=10_000)
        with statements(db) as seen:
            charge(session, quota, user, [("b" * 64, 500)])
        assert [s for s in seen if "sum(" in s]  # with a quota the usage is still counted
        session.commit()
        assert usage(session, "u1") == 0  # no asset names these blobs yet
    db.close()


def test_a_cached_result_whose_picture_was_collected_is_computed_anew(tmp_path: Path) -> None:
    """`mediastudio blobs collect` keeps only the blobs assets name: a node's cached picture may go. The cache then
    says it has no result for that node (so the run computes it again) instead of failing the run."""
    from PIL import Image

    db = open_database(tmp_path / "studio.sqlite")
    blobs = BlobStore(tmp_path / "blobs")
    cache = NodeCache(db, blobs)
    encoded = cache.put("picture", "load_image", {"image": Image.new("RGB", (8, 8), (200, 10, 10))},
                        {"image": "image"})
    cache.put("words", "prompt", {"text": "no blob"}, {"text": "string"})
    cache.flush()
    blobs.remove(encoded["image"]["$image"])
    later = NodeCache(db, blobs)  # the next start: nothing in memory
    assert later.has("words")
    assert not later.has("picture")
    assert later.get("picture", {"image": "image"}) is None
    with db.session() as session:
        assert session.get(NodeOutput, "picture") is None  # the row naming a missing blob is gone
    db.close()


def test_a_cached_controlnet_whose_control_picture_was_collected_is_computed_anew(tmp_path: Path) -> None:
    """A ControlNet node's result is the model port's value, naming its control picture by blob (no asset names
    it): once collected, neither the row (after a restart) nor the value kept in memory counts as cached."""
    db = open_database(tmp_path / "studio.sqlite")
    blobs = BlobStore(tmp_path / "blobs")
    control = blobs.put_bytes(b"edges, as PNG")
    steered = {"model": {"name": "tiny-sd", "loras": [], "controlnets": [
        {"controlnet": "edges-cn", "image": control, "strength": 1.0, "start": 0.0, "end": 1.0}]}}
    cache = NodeCache(db, blobs)
    cache.put("cn", "controlnet", steered, {"model": "model"})
    cache.put("lora", "lora", steered, {"model": "model"})  # a node after it carries the same value
    cache.flush()
    later = NodeCache(db, blobs)
    assert later.get("cn", {"model": "model"}) == steered  # in memory now
    blobs.remove(control)
    assert not cache.has("cn") and cache.get("cn", {"model": "model"}) is None  # in memory, not whole
    assert not later.has("cn") and not NodeCache(db, blobs).has("lora")
    with db.session() as session:
        assert session.get(NodeOutput, "cn") is None and session.get(NodeOutput, "lora") is None
    db.close()


def test_one_blob_is_charged_by_a_prepared_statement_and_once_while_an_asset_names_it(tmp_path: Path) -> None:
    """A run's picture (or an upload) is one blob: its charge looks it up by one statement prepared once, not by an
    IN list compiled on each call; it is charged once while an asset names it, and again once none does."""
    import sqlite3

    db = open_database(tmp_path / "studio.sqlite")
    settings = Settings(data_dir=tmp_path, storage_quota_bytes=0)
    one, other = "a" * 64, "c" * 64
    with db.session() as session:
        user = _ada(session)
        with statements(db) as seen:
            assert charge(session, settings, user, [(one, 1000)]) == 1000
        lookups = [s for s in seen if s.startswith("select") and "user_blobs" in s]
        assert len(lookups) == 1 and " in (" not in lookups[0], lookups
        session.commit()
        assert charge(session, settings, user, [(one, 1000)]) == 1000  # no asset names it: charged again
        session.commit()
        with sqlite3.connect(db.path) as raw:  # an asset row naming it (without its project: no foreign keys here)
            raw.execute("INSERT INTO assets (id, project_id, name, category, mime, size, sha256, tags, created_by, "
                        "created_at) VALUES ('as_1', 'p_1', 'a.png', 'generated', 'image/png', 1000, ?, '', 'u1', "
                        "'2026-12-06 00:00:00')", (one,))
        assert charge(session, settings, user, [(one, 1000)]) == 0
        assert charge(session, settings, user, [(one, 1000), (other, 10)]) == 10  # several: the IN list
    db.close()


def test_the_png_the_cache_just_encoded_is_handed_on_from_memory(tmp_path: Path, monkeypatch: Any) -> None:
    """A shot output saves the picture the cache encoded a moment before: it gets those bytes without reading
    its blob back; an image encoded longer ago comes from its blob, and one the cache never stored from nowhere."""
    import io

    from PIL import Image

    from mediastudio.engine import cache as cache_module

    blobs = BlobStore(tmp_path / "blobs")
    cache = NodeCache(open_database(tmp_path / "studio.sqlite"), blobs)
    pictures = [Image.new("RGB", (8, 8), colour) for colour in ("teal", "plum", "gold", "navy", "coral", "olive")]
    cache.put("made", "generate", {"images": pictures}, {"images": "images"})
    read: list[Path] = []
    real_read = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        read.append(path)
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    newest = pictures[-cache_module.FRESH_PNGS:]
    for picture in newest:
        data = cache.encoded_png(picture)
        assert data is not None and Image.open(io.BytesIO(data)).getpixel((0, 0)) == picture.getpixel((0, 0))
    assert read == []  # from memory
    oldest = cache.encoded_png(pictures[0])
    assert oldest is not None and read == [blobs.path(cache.encoded(pictures[0]) or "")]
    assert cache.encoded_png(Image.new("RGB", (8, 8), "teal")) is None  # same pixels, never stored: encode it
