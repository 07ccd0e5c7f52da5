"""Node outputs cached by key = sha256(type, version, canonical params, input keys).

Small values live in SQLite (`node_outputs`), pictures and clips as blobs, so "unchanged → instant"
also holds after a restart; decoded values of recent keys stay in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import weakref
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel

from mediastudio.common import utcnow
from mediastudio.db import Database, insert_rows
from mediastudio.storage.blobs import BlobStore
from mediastudio.tasks.context import TaskContext

MEMORY_ENTRIES = 64
FRESH_PNGS = 4  # a batch's pictures of one node (a shot saves them right after): their PNG bytes kept


class NodeOutput(SQLModel, table=True):
    __tablename__ = "node_outputs"

    key: str = Field(primary_key=True)
    node_type: str
    outputs: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


def node_key(type_id: str, version: int, params: dict[str, Any], inputs: dict[str, str], nonce: str = "") -> str:
    payload = json.dumps({"type": type_id, "version": version, "params": params, "inputs": inputs, "nonce": nonce},
                         sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


class NodeCache:
    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db, self.blobs = db, blobs
        self.memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.pending: dict[str, tuple[str, dict[str, Any]]] = {}  # rows not yet written (flushed per run)
        # id(image) → (weak reference, blob): which image objects are stored as PNG already. Not the image's
        # `info`: PIL copies that into derived images (a resized one would claim the original's bytes).
        self.png_of: dict[int, tuple[weakref.ref[Any], str]] = {}
        # The bytes of the last few PNGs this cache encoded, by image: a shot output saving the picture a moment
        # later takes them from here instead of reading its blob back (`encoded_png`).
        self.fresh_png: OrderedDict[int, tuple[weakref.ref[Any], bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def has(self, key: str) -> bool:
        with self.lock:
            if key in self.pending:
                return True
            remembered = self.memory.get(key)
        if remembered is not None and self._whole(key, remembered):
            return True
        return self._row(key) is not None

    def get(self, key: str, types: dict[str, str]) -> dict[str, Any] | None:
        with self.lock:
            remembered = self.memory.get(key)
            if remembered is not None:
                self.memory.move_to_end(key)
        if remembered is not None and self._whole(key, remembered):
            return remembered
        row = self._row(key)
        if row is None:
            return None
        values = {name: self._decode(stored, types.get(name, "")) for name, stored in row.outputs.items()}
        self._remember(key, values)
        return values

    def _whole(self, key: str, values: dict[str, Any]) -> bool:
        """Whether the decoded values in memory still have the blobs they name by hash (a ControlNet's control
        picture, on the model port): pictures are held decoded, but those are read from the store when used. When
        one is gone (collected), the key is forgotten here too."""
        if all(self.blobs.has(sha) for sha in _control_pictures(values)):
            return True
        with self.lock:
            self.memory.pop(key, None)
        return False

    def _row(self, key: str) -> NodeOutput | None:
        """The stored row of `key`, while every blob it names is still there: `mediastudio blobs collect` keeps
        only what assets name, so a cached picture may be gone; its row is then dropped and the node computed
        anew."""
        with self.db.session() as db:
            row = db.get(NodeOutput, key)
            if row is None or all(self.blobs.has(sha) for sha in _blobs_named(row.outputs)):
                return row
            db.delete(row)
            db.commit()
            return None

    def stored(self, key: str) -> dict[str, Any] | None:
        """The encoded form (blob hashes), for previews and provenance."""
        with self.lock:
            if key in self.pending:
                return dict(self.pending[key][1])
        with self.db.session() as db:
            row = db.get(NodeOutput, key)
            return dict(row.outputs) if row else None

    def put(self, key: str, type_id: str, values: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
        """Remember a node's outputs; pictures go to the blob store now, the row with the next `flush`."""
        encoded = {name: self._encode(value, types.get(name, "")) for name, value in values.items()
                   if types.get(name) != "latent"}
        with self.lock:
            self.pending[key] = (type_id, encoded)
        self._remember(key, values)
        return encoded

    def add_facts(self, key: str, facts: dict[str, Any]) -> None:
        with self.lock:
            if key in self.pending:
                type_id, encoded = self.pending[key]
                self.pending[key] = (type_id, {**encoded, "$facts": facts})

    def flush(self, db: Session | None = None) -> None:
        """Write the rows of everything put since the last flush: in `db` (the caller commits), or in a
        transaction of its own."""
        with self.lock:
            pending, self.pending = self.pending, {}
        if not pending:
            return
        rows = [{"key": key, "node_type": type_id, "outputs": encoded, "created_at": utcnow()}
                for key, (type_id, encoded) in pending.items()]
        if db is not None:
            self._insert(db, rows)
            return
        with self.db.session() as own:
            self._insert(own, rows)
            own.commit()

    @staticmethod
    def _insert(db: Session, rows: list[dict[str, Any]]) -> None:
        # A key stored before keeps its first row. The rows go as parameters of one statement (compiled once for
        # the process): a statement made with the rows in its VALUES was compiled anew on every flush.
        insert_rows(db, NodeOutput, rows, keep_existing=True)

    def rows_with(self, task: TaskContext) -> None:
        """The rows put so far are written with `task`'s outcome, in its transaction (each run's own commit
        spared); a task that runs again after a stop or a crash computes them anew."""
        task.with_outcome(_CacheRows(self))

    def _remember(self, key: str, values: dict[str, Any]) -> None:
        with self.lock:
            self.memory[key] = values
            self.memory.move_to_end(key)
            while len(self.memory) > MEMORY_ENTRIES:
                self.memory.popitem(last=False)

    # -- encoding -----------------------------------------------------------------------------------
    def _encode(self, value: Any, port_type: str) -> Any:
        if port_type in ("image", "mask"):
            return {"$image": self._put_image(value)}
        if port_type == "images":
            return {"$images": [self._put_image(v) for v in value]}
        if port_type == "video":
            return {"$video": self.blobs.put_bytes(value)}
        return value

    def _decode(self, stored: Any, port_type: str) -> Any:
        if isinstance(stored, dict):
            if "$image" in stored:
                return self._image(stored["$image"])
            if "$images" in stored:
                return [self._image(s) for s in stored["$images"]]
            if "$video" in stored:
                return self.blobs.path(stored["$video"]).read_bytes()
        return stored

    def encoded(self, image: Any) -> str | None:
        """The blob holding exactly this image object as PNG, if the cache wrote or read one."""
        with self.lock:
            entry = self.png_of.get(id(image))
        return entry[1] if entry is not None and entry[0]() is image and self.blobs.has(entry[1]) else None

    def encoded_png(self, image: Any) -> bytes | None:
        """The PNG the cache stored for exactly this image object, if it did: from memory when it encoded it a
        moment ago, else read from its blob."""
        with self.lock:
            fresh = self.fresh_png.get(id(image))
        if fresh is not None and fresh[0]() is image:
            return fresh[1]
        known = self.encoded(image)
        if known is None:
            return None
        try:
            return self.blobs.path(known).read_bytes()
        except FileNotFoundError:  # collected this instant: the caller encodes it again
            return None

    def _known(self, image: Any, sha: str) -> None:
        with self.lock:
            if len(self.png_of) > 256:
                self.png_of = {k: v for k, v in self.png_of.items() if v[0]() is not None}
            self.png_of[id(image)] = (weakref.ref(image), sha)

    def _put_image(self, image: Any) -> str:
        known = self.encoded(image)
        if known:
            return known
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=False)
        data = buffer.getvalue()
        sha = self.blobs.put_bytes(data)
        self._known(image, sha)  # a later saver (a shot output) reuses these bytes instead of encoding again
        with self.lock:
            self.fresh_png[id(image)] = (weakref.ref(image), data)
            while len(self.fresh_png) > FRESH_PNGS:
                self.fresh_png.popitem(last=False)
        return sha

    def _image(self, sha256: str) -> Any:
        from PIL import Image

        with Image.open(self.blobs.path(sha256)) as image:
            image.load()
            copy = image.copy()
        self._known(copy, sha256)
        return copy


def _control_pictures(values: dict[str, Any]) -> list[str]:
    """The control pictures a model port's value names by their blob (what a ControlNet node adds to it: see
    engine/nodes/control.py); they travel as hashes, so nothing else keeps them, and assets do not name them."""
    found: list[str] = []
    for value in values.values():
        controls = value.get("controlnets") if isinstance(value, dict) else None
        if isinstance(controls, list):
            found += [c["image"] for c in controls if isinstance(c, dict) and isinstance(c.get("image"), str)]
    return found


def _blobs_named(outputs: dict[str, Any]) -> list[str]:
    """The blobs a stored row's values name (`$image`, `$images`, `$video`, and a ControlNet's control picture)."""
    found: list[str] = _control_pictures(outputs)
    for stored in outputs.values():
        if isinstance(stored, dict):
            for tag in ("$image", "$video"):
                if isinstance(stored.get(tag), str):
                    found.append(stored[tag])
            if isinstance(stored.get("$images"), list):
                found += [sha for sha in stored["$images"] if isinstance(sha, str)]
    return found


class _CacheRows:
    """The node cache's pending rows, written in a task's outcome transaction (`NodeCache.rows_with`)."""

    def __init__(self, cache: NodeCache) -> None:
        self.cache = cache

    def files(self, db: Session) -> None:
        pass

    def rows(self, db: Session) -> None:
        self.cache.flush(db)

    def settle(self) -> None:
        pass

    def drop(self) -> None:
        pass  # left pending: the next flush writes them (they are a cache: nothing depends on them)
