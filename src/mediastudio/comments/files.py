"""A comment thread as it lives in the project's folder: `comments/<thread id>.json`, one file per thread,
versioned with the scenes and assets (so a .msproj carries it). Files come from people and from imported
archives: every read checks the shape and the bounds, and a file that fails is skipped, never trusted."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from mediastudio.api_types import number, text
from mediastudio.projects import content
from mediastudio.projects.files import write_json

FOLDER = "comments"
BODY_MAX = 4000  # characters of one comment
COMMENTS_MAX = 200  # comments in one thread
THREADS_MAX = 2000  # threads in one project
FILE_MAX = 2_000_000  # bytes of one thread file (200 comments of 4000 characters, escaped, fit)
MENTIONS_MAX = 20

# The rule is stated with `text()` so that the OpenAPI document states it too (the request bodies use Target).
Id = Annotated[str, *text(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
                          message="An id has 1 to 64 letters, digits, '_' or '-'.")]
Body = Annotated[str, StringConstraints(min_length=1, max_length=BODY_MAX)]
Unit = Annotated[float, *number(ge=0.0, le=1.0)]  # stated in the OpenAPI document, also when null is allowed
TargetKind = Literal["asset", "scene", "node"]


class Stored(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class Target(Stored):
    """What a thread is about: an asset (a take), a scene (a shot), or a node of a scene's canvas."""

    kind: TargetKind
    id: Id = Field(description="The asset's, scene's or node's id")
    scene_id: Id | None = Field(None, description="For a node: the scene whose canvas holds it")


class Pin(Stored):
    """Where on the target: x, y from 0 to 1 across the picture (or the node), optionally a time in a clip."""

    x: Unit | None = None
    y: Unit | None = None
    time: Annotated[float, *number(ge=0.0, le=86_400.0)] | None = None


class Comment(Stored):
    id: Id
    author: Id
    body: Body
    mentions: Annotated[list[Id], Field(max_length=MENTIONS_MAX)] = []
    created_at: datetime
    edited_at: datetime | None = None


class Thread(Stored):
    id: Id
    target: Target
    pin: Pin | None = None
    resolved: bool = False
    resolved_by: Id | None = None
    resolved_at: datetime | None = None
    created_by: Id
    created_at: datetime
    comments: Annotated[list[Comment], Field(min_length=1, max_length=COMMENTS_MAX)]


def thread_path(folder: Path, thread_id: str) -> Path:
    """Where a thread's file is (the id is checked, and the path must stay in the project)."""
    if not content.is_id(thread_id):
        from mediastudio.errors import NotFound

        raise NotFound(f"There is no comment thread '{str(thread_id)[:80]}' in this project.",
                       hint="A thread id is 1 to 64 letters, digits, '_' or '-'.")
    return content.inside(folder, FOLDER, f"{thread_id}.json")


class BadThread(ValueError):
    """A thread file that is not one the studio writes; the message names no path and no content."""


def parse(name: str, raw: bytes) -> Thread:
    """The thread in a file's bytes, checked: its size, its shape, its id matching its file name."""
    if len(raw) > FILE_MAX:
        raise BadThread(f"comment file '{name[:80]}' is larger than {FILE_MAX} bytes")
    try:
        thread = Thread.model_validate_json(raw)
    except ValidationError:
        raise BadThread(f"comment file '{name[:80]}' is not a comment thread the studio can read") from None
    if f"{thread.id}.json" != name:
        raise BadThread(f"comment file '{name[:80]}' names another thread than its file")
    return thread


def _read(path: Path) -> Thread | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as file:
            raw = file.read(FILE_MAX + 1)
        return parse(path.name, raw)
    except (OSError, BadThread):
        return None


def read_thread(folder: Path, thread_id: str) -> Thread | None:
    return _read(thread_path(folder, thread_id))


def read_threads(folder: Path) -> list[Thread]:
    """Every readable thread of a project, oldest first (a file that fails its checks is left out)."""
    where = folder / FOLDER
    if not where.is_dir() or where.is_symlink():
        return []
    names = sorted(p.name for p in where.iterdir() if p.suffix == ".json" and content.is_id(p.stem))
    threads = [t for t in (_read(where / name) for name in names[:THREADS_MAX]) if t is not None]
    return sorted(threads, key=lambda t: t.created_at)


def write_thread(folder: Path, thread: Thread) -> Path:
    path = thread_path(folder, thread.id)
    path.parent.mkdir(exist_ok=True)
    write_json(path, thread.model_dump(mode="json", exclude_none=True))
    return path


def check_folder(folder: Path) -> None:
    """For an import: every file under comments/ must be a thread the studio would write (BadThread if not)."""
    where = folder / FOLDER
    if not where.exists():
        return
    if where.is_symlink() or not where.is_dir():
        raise BadThread("comments is not a folder")
    names = [p.name for p in where.iterdir() if p.name != ".keep"]
    if len(names) > THREADS_MAX:
        raise BadThread(f"more than {THREADS_MAX} comment threads")
    for name in names:
        path = where / name
        if path.is_symlink() or not path.is_file() or not content.is_id(path.stem) or path.suffix != ".json":
            raise BadThread(f"comments holds '{name[:80]}', which is not a comment thread")
        if path.stat().st_size > FILE_MAX:
            raise BadThread(f"comment file '{name[:80]}' is larger than {FILE_MAX} bytes")
        parse(name, path.read_bytes())

