"""Node outputs cached by key = sha256(type, version, canonical params, input keys).

Small values live in SQLite (`node_outputs`), pictures and clips as blobs, so "unchanged → instant"
also holds after a restart; decoded values of recent keys stay in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from mediastudio.common import utcnow
from mediastudio.db import Database
from mediastudio.media.blobs import BlobStore

MEMORY_ENTRIES = 64


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
        self.lock = threading.Lock()

    def has(self, key: str) -> bool:
        with self.lock:
            if key in self.memory:
                return True
        with self.db.session() as db:
            return db.get(NodeOutput, key) is not None

    def get(self, key: str, types: dict[str, str]) -> dict[str, Any] | None:
        with self.lock:
            if key in self.memory:
                self.memory.move_to_end(key)
                return self.memory[key]
        with self.db.session() as db:
            row = db.get(NodeOutput, key)
        if row is None:
            return None
        values = {name: self._decode(stored, types.get(name, "")) for name, stored in row.outputs.items()}
        self._remember(key, values)
        return values

    def stored(self, key: str) -> dict[str, Any] | None:
        """The encoded form (blob hashes), for previews and provenance."""
        with self.db.session() as db:
            row = db.get(NodeOutput, key)
            return dict(row.outputs) if row else None

    def put(self, key: str, type_id: str, values: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
        encoded = {name: self._encode(value, types.get(name, "")) for name, value in values.items()
                   if types.get(name) != "latent"}
        with self.db.session() as db:
            existing = db.get(NodeOutput, key)
            if existing is None:
                db.add(NodeOutput(key=key, node_type=type_id, outputs=encoded))
                db.commit()
        self._remember(key, values)
        return encoded

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

    def _put_image(self, image: Any) -> str:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=False)
        return self.blobs.put_bytes(buffer.getvalue())

    def _image(self, sha256: str) -> Any:
        from PIL import Image

        with Image.open(self.blobs.path(sha256)) as image:
            image.load()
            return image.copy()
