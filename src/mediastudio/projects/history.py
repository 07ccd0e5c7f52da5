"""A project's history: commits with readable summaries, any version read-only, restore as a new commit."""

from __future__ import annotations

import json
from typing import Any

from mediastudio.projects.repo import Commit, ProjectRepo

MAX_PHRASES = 4


def snapshot(files: dict[str, bytes]) -> dict[str, Any]:
    """The project as data from its files at one commit: {meta, scenes: [...]}."""
    meta: dict[str, Any] = {}
    scenes = []
    for path, data in files.items():
        if path == "project.json":
            meta = json.loads(data)
        elif path.startswith("scenes/") and path.endswith(".json"):
            scenes.append(json.loads(data))
    return {"meta": meta, "scenes": sorted(scenes, key=lambda s: (s.get("order", 0), s["id"]))}


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
    if len(phrases) > MAX_PHRASES:
        phrases = [*phrases[:MAX_PHRASES], f"{len(phrases) - MAX_PHRASES} more changes"]
    text = ", ".join(phrases)
    return text[:1].upper() + text[1:]


def commit_summary(repo: ProjectRepo, commit: Commit) -> str:
    after = snapshot(repo.files_at(commit.sha))
    if not commit.parents:
        return f"Created the project with {_plural(len(after['scenes']), 'scene')}"
    return describe_changes(snapshot(repo.files_at(commit.parents[0])), after) or "No visible change"


def co_authors(message: str) -> list[str]:
    return [line.split(":", 1)[1].split("<")[0].strip() for line in message.splitlines()
            if line.startswith("Co-authored-by:")]


def first_line(message: str) -> str:
    return message.splitlines()[0] if message else ""
