"""Answers of the most asked reads, kept encoded: a scene as `GET …/scenes/{id}` answers it.

A scene's answer is kept beside the bytes of the file it was made from, and given again only while the file
still holds those very bytes (read again on every request: a few microseconds for a page-cached file), so an
edit by anyone — this process, a live room, a worker process, a person with a text editor — is seen at once.
Parsing, checking and encoding a large scene takes milliseconds; comparing its bytes, microseconds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from litestar.serialization import encode_json

from mediastudio.projects import content
from mediastudio.projects.schemas import SceneDetail

BUDGET_BYTES = 64 * 1024 * 1024  # files and answers kept, together


class SceneAnswers:
    """Encoded `SceneDetail`s by scene file, the least recently used dropped past `budget` bytes."""

    def __init__(self, budget: int = BUDGET_BYTES) -> None:
        self.budget = budget
        self._kept: OrderedDict[tuple[str, str], tuple[bytes, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def known(self, folder: Path, scene_id: str) -> bytes | None:
        """The answer if it is kept and the file has not changed (None: call `answer`, in a worker thread).
        Raises as `content.scene_path` does for an id no scene can have."""
        raw = content.read_scene_bytes(folder, scene_id)
        if raw is None:
            return None
        with self._lock:
            kept = self._kept.get((str(folder), scene_id))
            if kept is None or kept[0] != raw:
                return None
            self._kept.move_to_end((str(folder), scene_id))
            return kept[1]

    def answer(self, folder: Path, scene_id: str) -> bytes | None:
        """The scene's answer (None when the project has no such scene)."""
        raw = content.read_scene_bytes(folder, scene_id)
        scene = content.scene_of(scene_id, raw) if raw is not None else None
        if raw is None or scene is None:
            return None
        encoded = encode_json(SceneDetail.of(scene).model_dump(mode="json"))
        key = (str(folder), scene_id)
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._size -= len(old[0]) + len(old[1])
            if len(raw) + len(encoded) <= self.budget // 8:  # a huge scene is answered, not kept
                self._kept[key] = (raw, encoded)
                self._size += len(raw) + len(encoded)
            while self._size > self.budget:
                _, (dropped_raw, dropped) = self._kept.popitem(last=False)
                self._size -= len(dropped_raw) + len(dropped)
        return encoded


# One per process: an answer is only ever given for the exact bytes it was made from, whichever studio asks.
SCENES = SceneAnswers()
