"""What a project folder holds: project.json, scenes/<id>.json, assets/<id>.json.

Every path the project store reads or writes is made here, by `inside`: ids come from file names and
match ID, and the resolved path must stay inside the project folder (no `..`, no absolute ids, no
symbolic link leading out), whatever a scene file, an asset file or an imported archive says.
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from pathlib import Path
from typing import Any

from mediastudio.errors import BadRequest, NotFound
from mediastudio.graph import Graph
from mediastudio.projects.files import read_json, write_json

SCHEMA = 1
META_FIELDS = ("name", "description", "tags", "settings", "cover_asset_id", "archived", "template",
               "created_by", "created_at")
# Scene and asset ids: what new_id makes ("sc_3f9a…", "as_…") and the short ids of older tests and templates.
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def is_id(value: object) -> bool:
    return isinstance(value, str) and ID.fullmatch(value) is not None


def inside(folder: Path, *parts: str) -> Path:
    """`folder/parts…`, refused unless it resolves (symbolic links followed) to a place inside `folder`."""
    path = folder.joinpath(*parts)
    if any(part in ("", ".", "..") or "/" in part or "\\" in part or "\0" in part for part in parts):
        refused = True
    elif _no_link_below(folder, parts):  # then it resolves to the folder's own place, and these parts below it
        refused = False
    else:
        try:
            root, resolved = folder.resolve(), path.resolve()
            refused = not resolved.is_relative_to(root) or resolved == root
        except (RuntimeError, OSError):  # a loop of links (or a part that cannot be read) leads nowhere
            refused = True
    if refused:
        raise BadRequest("That file would lie outside its project.",
                         hint="Scene and asset ids are letters, digits, '_' and '-'.")
    return path


def _no_link_below(folder: Path, parts: tuple[str, ...]) -> bool:
    """Whether none of `parts` (plain names), taken one below the other from `folder`, is a symbolic link: each
    one looked at (not followed) down to the first that does not exist. Resolving the folder and the path whole
    walked every folder from the disk's root, in Python, twice (~0.1 ms a file of this CPU, on every scene read
    and every result saved); a link, or a part that cannot be looked at, is resolved whole as before."""
    at = os.fspath(folder)
    for part in parts:
        at = os.path.join(at, part)
        try:
            mode = os.lstat(at).st_mode
        except FileNotFoundError:
            return True  # nor does anything below it exist
        except OSError:
            return False
        if stat.S_ISLNK(mode):
            return False
    return True


def _checked_id(kind: str, value: str) -> str:
    if not is_id(value):
        raise NotFound(f"There is no {kind} '{str(value)[:80]}' in this project.",
                       hint=f"A {kind} id is 1 to 64 letters, digits, '_' or '-'.")
    return value


def meta_path(folder: Path) -> Path:
    return inside(folder, "project.json")


def scene_path(folder: Path, scene_id: str) -> Path:
    """Where a scene's file is; NotFound for an id that no scene can have, BadRequest if it leads out."""
    return inside(folder, "scenes", f"{_checked_id('scene', scene_id)}.json")


def asset_path(folder: Path, asset_id: str) -> Path:
    """Where an asset's metadata file is; NotFound for an id that no asset can have."""
    return inside(folder, "assets", f"{_checked_id('asset', asset_id)}.json")


def empty_graph() -> dict[str, Any]:
    return Graph(nodes={}, edges={}).model_dump()


def read_meta(folder: Path) -> dict[str, Any]:
    meta: dict[str, Any] = read_json(meta_path(folder))
    return meta


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    write_json(meta_path(folder), {"schema": SCHEMA, **{k: meta.get(k) for k in META_FIELDS}})


def _well_formed(scene: Any) -> Graph | None:
    """The scene's graph, when the scene has the shape every reader of a scene relies on (a damaged or foreign file
    is skipped, not fatal)."""
    if not isinstance(scene, dict) or not isinstance(scene.get("name"), str):
        return None
    return Graph.read(scene.get("graph", {}))


def _read_scene(folder: Path, path: Path) -> dict[str, Any] | None:
    if not is_id(path.stem) or path.is_symlink() or not path.is_file():
        return None
    try:
        raw = inside(folder, "scenes", path.name).read_bytes()
    except (OSError, BadRequest):  # unreadable, leads out
        return None
    return scene_of(path.stem, raw)


def scene_of(scene_id: str, raw: bytes) -> dict[str, Any] | None:
    """The scene a scene file's bytes hold (None when they are not a well-formed scene)."""
    read = _scene_and_graph(scene_id, raw)
    return None if read is None else read[0]


def _scene_and_graph(scene_id: str, raw: bytes) -> tuple[dict[str, Any], Graph] | None:
    """The scene a scene file's bytes hold and its graph as its check read it (None when they are not a well-formed
    scene)."""
    try:
        scene = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8 or not JSON
        return None
    graph = _well_formed(scene)
    if graph is None:
        return None
    order = scene.get("order")
    return {**scene, "id": scene_id,  # the id is the file's name, never what the file says
            "order": order if isinstance(order, int) and not isinstance(order, bool) else 0}, graph


def read_scene_bytes(folder: Path, scene_id: str) -> bytes | None:
    """The bytes of one scene's file (None when it is missing or not a regular file). NotFound for an id that no
    scene can have. Neither `scenes` nor the file may be a symbolic link (opened without following one, each
    relative to the last): it stays inside the project folder without resolving the whole path (`inside` walks
    every folder of it, twice: most of the cost of a read answered from memory)."""
    read = _scene_file(folder, scene_id, None)
    return None if read is None else read[1]


Signature = tuple[int, int, int, int]  # a file's inode, size, modification and change times (ns)


def _signature(found: os.stat_result) -> Signature:
    return found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


def _scene_file(folder: Path, scene_id: str, known: Signature | None) -> tuple[Signature, bytes | None] | None:
    """The scene file's signature and its bytes, opened as `read_scene_bytes` says; the bytes are None (the file
    is not opened) when its signature is `known`. None when it is missing, a link or not a regular file."""
    name = f"{_checked_id('scene', scene_id)}.json"
    try:
        scenes = os.open(folder / "scenes", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:  # missing, or a link (ELOOP), or not a folder
        return None
    try:
        if known is not None:
            try:  # the entry itself, not what a link names: a link is no regular file
                found = os.stat(name, dir_fd=scenes, follow_symlinks=False)
            except OSError:
                return None
            if stat.S_ISREG(found.st_mode) and _signature(found) == known:
                return known, None
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=scenes)
        except OSError:
            return None
    finally:
        os.close(scenes)
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode):  # a folder opens too, and a file object of it raises
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as file:
        return _signature(found), file.read()


class _ReadScenes:
    """Scenes read to run them, with the graph their check read, kept by project folder and scene id beside their
    file's signature (inode, size, times): a scene is written by replacing its file (a new inode), so a file with
    the same signature holds the same bytes, and its read is a `stat` instead of an open, a read, a parse and a
    validation of its graph (on every run's request). At most `KEPT` scenes (the ones being run: a graph of
    hundreds of nodes holds a few hundred KB)."""

    KEPT = 32

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], tuple[Signature, dict[str, Any], Graph]] = {}
        self._lock = threading.Lock()

    def read(self, folder: Path, scene_id: str) -> tuple[dict[str, Any], Graph] | None:
        key = (str(folder), scene_id)
        with self._lock:
            kept = self._kept.get(key)
        found = _scene_file(folder, scene_id, kept[0] if kept is not None else None)
        if found is None:
            with self._lock:
                self._kept.pop(key, None)
            return None
        signature, raw = found
        if raw is None and kept is not None:
            return kept[1], kept[2]
        read = _scene_and_graph(scene_id, raw or b"")
        with self._lock:
            if read is None:
                self._kept.pop(key, None)
            else:
                if len(self._kept) >= self.KEPT:
                    self._kept.clear()
                self._kept[key] = (signature, *read)
        return read


_read_scenes = _ReadScenes()


def read_scene(folder: Path, scene_id: str) -> dict[str, Any] | None:
    """One scene, read from its own file alone (None when it is missing, a link or not a well-formed scene; NotFound
    for an id no scene can have). Opened as `read_scene_bytes` opens it: resolving its whole path twice, as
    `inside` does, was most of reading a scene to run it."""
    raw = read_scene_bytes(folder, scene_id)
    return None if raw is None else scene_of(scene_id, raw)


def read_scene_and_graph(folder: Path, scene_id: str) -> tuple[dict[str, Any], Graph] | None:
    """`read_scene`, with the scene's graph as reading it checked it (`scene_graph` of the scene, not read again:
    a run's request). Kept while the file is unchanged (`_ReadScenes`): the scene and the graph are shared by
    every caller, to read and never to change."""
    return _read_scenes.read(folder, scene_id)


def read_scenes(folder: Path) -> list[dict[str, Any]]:
    """The project's scenes in order; files that are not well-formed scenes of this project are skipped."""
    found = (_read_scene(folder, p) for p in (folder / "scenes").glob("*.json"))
    scenes = [s for s in found if s is not None]
    return sorted(scenes, key=lambda s: (s["order"], s["name"], s["id"]))


def count_scenes(folder: Path) -> int:
    """How many scene files the project holds, from the folder's listing alone (no file is opened)."""
    try:
        with os.scandir(folder / "scenes") as entries:
            return sum(1 for e in entries if e.name.endswith(".json") and not e.name.startswith("."))
    except FileNotFoundError:
        return 0


def _scenes_stamp(folder: Path) -> int | None:
    try:
        return os.stat(folder / "scenes").st_mtime_ns
    except FileNotFoundError:
        return None


class SceneCounts:
    """How many scene files each project folder holds, kept beside the `scenes` folder's modification time (ns).

    Counting lists the folder (1.5 ms at 3,000 scenes), and a new scene is numbered by the count under the
    folder's lock, where every other writer of the project waits: a count is given again while the folder's time
    is the one it was kept with. Any file added or removed there, by this process or another (a worker, a
    restore, a person), gives the folder a new time: on filesystems with fine-grained times (ext4, xfs, btrfs
    and tmpfs since Linux 6.13) a change made after the time was read always does. Only a holder of the
    folder's lock keeps a count (`kept_count`, `keep`), so two writers never race to keep theirs."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def count(self, folder: Path) -> int:
        """The count kept, if the folder is unchanged since; else the folder is listed (and nothing kept)."""
        stamp = _scenes_stamp(folder)
        with self._lock:
            kept = self._kept.get(str(folder))
        if stamp is not None and kept is not None and kept[0] == stamp:
            return kept[1]
        return count_scenes(folder)

    def kept_count(self, folder: Path) -> int:
        """`count`, for a holder of the folder's lock, which keeps what it listed."""
        stamp = _scenes_stamp(folder)
        with self._lock:
            kept = self._kept.get(str(folder))
        if stamp is not None and kept is not None and kept[0] == stamp:
            return kept[1]
        counted = count_scenes(folder)  # the time was read first: a change while listing leaves it stale
        if stamp is not None:
            with self._lock:
                self._kept[str(folder)] = (stamp, counted)
        return counted

    def keep(self, folder: Path, count: int) -> None:
        """A holder of the folder's lock that just added or removed scene files: the folder now holds `count`."""
        stamp = _scenes_stamp(folder)
        with self._lock:
            if stamp is None:
                self._kept.pop(str(folder), None)
            else:
                self._kept[str(folder)] = (stamp, count)

    def forget(self, folder: Path) -> None:
        with self._lock:
            self._kept.pop(str(folder), None)


SCENE_COUNTS = SceneCounts()  # one per process, as the folder locks are


def write_scene(folder: Path, scene: dict[str, Any]) -> None:
    write_json(scene_path(folder, scene["id"]), scene)


def scene_graph(scene: dict[str, Any]) -> Graph:
    """A scene's graph, read leniently (graph/model.py)."""
    return Graph.model_validate(scene.get("graph") or {})


def shots_of(graph: Graph) -> list[dict[str, Any]]:
    """Shots are the `shot` nodes of a scene's graph, from the top of the canvas down."""
    return [{"node_id": node_id, "name": str(node.params.get("name") or node.title or node_id)}
            for node_id, node in sorted(graph.nodes.items(), key=lambda kv: kv[1].position.y)
            if node.type == "shot"]
