"""A project's history: commits with readable summaries, any version read-only, restore as a new commit."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, Literal, get_args

from mediastudio.projects.repo import KIND_TRAILER, Commit, CommitReader, ProjectRepo

MAX_PHRASES = 4
LABEL_PREFIX = "Saved version: "
RESTORED_TRAILER = "Mediastudio-Restored"  # the full sha of the version a restore brought back

CommitKind = Literal["created", "edit", "version", "generate", "upload", "asset", "restore", "import", "scene",
                     "settings", "recovered", "comment"]
KINDS: tuple[str, ...] = get_args(CommitKind)
# Commits made before they carried a kind: told from their first line.
_INFERRED: tuple[tuple[str, CommitKind], ...] = (
    ("Created project", "created"), ("Imported", "import"), ("Restored the version", "restore"),
    ("Saved version", "version"), ("Uploaded", "upload"), ("Generated", "generate"), ("Recovered", "recovered"),
    ("Added scene", "scene"), ("Renamed scene", "scene"), ("Moved scene", "scene"), ("Duplicated scene", "scene"),
    ("Deleted scene", "scene"), ("Renamed asset", "asset"), ("Tagged asset", "asset"), ("Moved asset", "asset"),
    ("Deleted asset", "asset"), ("Restored asset", "asset"))


def trailers(message: str) -> dict[str, str]:
    """The `Key: value` lines of a commit message's last paragraph."""
    found: dict[str, str] = {}
    for line in message.strip().split("\n\n")[-1].splitlines() if "\n\n" in message else []:
        key, sep, value = line.partition(": ")
        if sep and re.fullmatch(r"[A-Za-z-]+", key):
            found.setdefault(key, value.strip())
    return found


def kind_of(message: str) -> CommitKind:
    said = trailers(message).get(KIND_TRAILER)
    if said in KINDS:
        return said  # type: ignore[return-value]
    first = first_line(message)
    return next((kind for prefix, kind in _INFERRED if first.startswith(prefix)), "edit")


def label_of(message: str) -> str | None:
    """The label a person gave a saved version, if any."""
    first = first_line(message)
    return first[len(LABEL_PREFIX):] or None if first.startswith(LABEL_PREFIX) else None


def restored_from(message: str) -> str | None:
    """The version a restore brought back (its full sha; the short one for commits made before)."""
    said = trailers(message).get(RESTORED_TRAILER)
    if said:
        return said
    found = re.search(r"\(([0-9a-f]{7,40})\)$", first_line(message))
    return found.group(1) if found and first_line(message).startswith("Restored the version") else None


def snapshot(files: dict[str, bytes]) -> dict[str, Any]:
    """The project as data from its files at one commit: {meta, scenes: [...]}."""
    return _snapshot(files, lambda path: json.loads(files[path]))


def _snapshot(paths: Iterable[str], load: Callable[[str], Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    scenes = []
    assets: dict[str, dict[str, Any]] = {}
    for path in paths:
        if path == "project.json":
            meta = load(path)
        elif path.startswith("scenes/") and path.endswith(".json"):
            scenes.append(load(path))
        elif path.startswith("assets/") and path.endswith(".json"):
            with contextlib.suppress(ValueError):
                assets[path[len("assets/"):-len(".json")]] = load(path)
    return {"meta": meta, "scenes": sorted(scenes, key=lambda s: (s.get("order", 0), s["id"])), "assets": assets}


class Snapshots:
    """The project as data (`snapshot`) at the commits of one history, read through one git process (opened at
    the first read, closed on leaving the `with`): each commit's tree listed once and each distinct file parsed
    once, however many commits hold it (a page of 200 versions is 200 snapshots and their parents, nearly all
    the same files). What it gives is shared: read it, never change it."""

    def __init__(self, repo: ProjectRepo) -> None:
        self._repo = repo
        self._opened = contextlib.ExitStack()
        self._reader: CommitReader | None = None
        self._parsed: dict[bytes, Any] = {}  # a file's sha -> its JSON, or the ValueError parsing it raised
        self._at: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> Snapshots:
        return self

    def __exit__(self, *exc: object) -> None:
        self._opened.close()

    def at(self, sha: str) -> dict[str, Any]:
        known = self._at.get(sha)
        if known is None:
            if self._reader is None:
                self._reader = self._opened.enter_context(self._repo.reader())
            listing = self._reader.listing(sha)
            known = self._at[sha] = _snapshot(listing, lambda path: self._load(listing[path]))
        return known

    def _load(self, blob: bytes) -> Any:
        if blob not in self._parsed:
            try:
                assert self._reader is not None
                self._parsed[blob] = json.loads(self._reader.read(blob))
            except ValueError as error:
                self._parsed[blob] = error
        value = self._parsed[blob]
        if isinstance(value, ValueError):
            raise value
        return value


def _asset_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """'added 3 assets', 'deleted 'a.png'' — what a commit did to the project's assets."""
    old, new = before.get("assets", {}), after.get("assets", {})
    phrases: list[str] = []
    added = [new[i] for i in new if i not in old]
    trashed = [new[i] for i in new if i in old and new[i].get("trashed_at") and not old[i].get("trashed_at")]
    back = [new[i] for i in new if i in old and old[i].get("trashed_at") and not new[i].get("trashed_at")]
    renamed = [(old[i], new[i]) for i in new if i in old and old[i].get("name") != new[i].get("name")]
    for verb, items in (("added", added), ("deleted", trashed), ("restored", back)):
        if items:
            phrases.append(f"{verb} '{items[0].get('name')}'" if len(items) == 1
                           else f"{verb} {_plural(len(items), 'asset')}")
    phrases.extend(f"renamed '{a.get('name')}' to '{b.get('name')}'" for a, b in renamed[:2])
    gone = [i for i in old if i not in new]
    if gone:
        phrases.append(f"removed {_plural(len(gone), 'asset')}")
    return phrases


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _graph_changes(before: dict[str, Any], after: dict[str, Any], scene_name: str) -> list[str]:
    old_nodes, new_nodes = before.get("nodes", {}), after.get("nodes", {})
    phrases = []
    added = [n for n in new_nodes if n not in old_nodes]
    removed = [n for n in old_nodes if n not in new_nodes]
    if added:
        phrases.append(f"added {_plural(len(added), 'node')} to '{scene_name}'")
    if removed:
        phrases.append(f"removed {_plural(len(removed), 'node')} from '{scene_name}'")
    for node_id in sorted(set(old_nodes) & set(new_nodes)):
        old, new = old_nodes[node_id], new_nodes[node_id]
        title = new.get("title") or node_id
        changed = sorted(k for k in set(old.get("params", {})) | set(new.get("params", {}))
                         if old.get("params", {}).get(k) != new.get("params", {}).get(k))
        if changed:
            phrases.append(f"changed {', '.join(changed)} on '{title}'")
        if old.get("position") != new.get("position") and not changed:
            phrases.append(f"moved '{title}'")
    old_edges, new_edges = set(before.get("edges", {})), set(after.get("edges", {}))
    if new_edges - old_edges:
        phrases.append(f"connected {_plural(len(new_edges - old_edges), 'edge')}")
    if old_edges - new_edges:
        phrases.append(f"disconnected {_plural(len(old_edges - new_edges), 'edge')}")
    return phrases


def describe_changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    """'added 2 nodes to 'Hero shot', changed steps on 'Generate'' — a readable summary of a change."""
    phrases: list[str] = []
    old_meta, new_meta = before.get("meta", {}), after.get("meta", {})
    if old_meta and new_meta:
        for key in ("name", "description", "tags", "archived", "cover_asset_id", "settings"):
            if old_meta.get(key) != new_meta.get(key):
                phrases.append(f"changed the project's {key.replace('_asset_id', '')}")
    moved: list[str] = []
    old_scenes = {s["id"]: s for s in before.get("scenes", [])}
    new_scenes = {s["id"]: s for s in after.get("scenes", [])}
    for scene_id, scene in new_scenes.items():
        if scene_id not in old_scenes:
            phrases.append(f"added scene '{scene['name']}'")
            continue
        old = old_scenes[scene_id]
        if old.get("name") != scene.get("name"):
            phrases.append(f"renamed scene '{old['name']}' to '{scene['name']}'")
        if old.get("order") != scene.get("order"):
            moved.append(scene["name"])
        phrases.extend(_graph_changes(old.get("graph", {}), scene.get("graph", {}), scene["name"]))
    phrases.extend(f"deleted scene '{s['name']}'" for i, s in old_scenes.items() if i not in new_scenes)
    if moved and not any(p.startswith(("added scene", "deleted scene")) for p in phrases):
        phrases.append("reordered scenes" if len(moved) > 1 else f"moved scene '{moved[0]}'")
    phrases.extend(_asset_changes(before, after))
    if len(phrases) > MAX_PHRASES:
        phrases = [*phrases[:MAX_PHRASES], f"{len(phrases) - MAX_PHRASES} more changes"]
    text = ", ".join(phrases)
    return text[:1].upper() + text[1:]


_UNCHANGED: dict[str, str] = {
    "version": "Nothing changed since the version before",
    "restore": "The files were as that version already",
}


SUMMARIES_KEPT = 20_000  # commits' summaries kept in memory (~100 bytes each)
_summaries: OrderedDict[str, str] = OrderedDict()
_summaries_guard = threading.Lock()


def commit_summary(snapshots: Snapshots, commit: Commit) -> str:
    """What a commit changed, in words. A function of the commit's sha alone (its files, its parent's, its
    message), so it is worked out once per process and kept: the history's next view reads no file."""
    with _summaries_guard:
        known = _summaries.get(commit.sha)
        if known is not None:
            _summaries.move_to_end(commit.sha)
            return known
    after = snapshots.at(commit.sha)
    if not commit.parents:
        summary = f"Created the project with {_plural(len(after['scenes']), 'scene')}"
    else:
        summary = describe_changes(snapshots.at(commit.parents[0]), after) \
            or _UNCHANGED.get(kind_of(commit.message), "Nothing changed in the files")
    with _summaries_guard:
        _summaries[commit.sha] = summary
        while len(_summaries) > SUMMARIES_KEPT:
            _summaries.popitem(last=False)
    return summary


def matches(commit: Commit, words: list[str]) -> bool:
    """Whether every word is in the commit's message (its label, its summary line, its co-authors) or its
    author's name."""
    haystack = f"{commit.message}\n{commit.author_name}".lower()
    return all(word in haystack for word in words)


def co_authors(message: str) -> list[str]:
    return [line.split(":", 1)[1].split("<")[0].strip() for line in message.splitlines()
            if line.startswith("Co-authored-by:")]


def first_line(message: str) -> str:
    return message.splitlines()[0] if message else ""
