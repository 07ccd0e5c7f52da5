"""Scenes of a project: each is a file holding a node graph; shots are its `shot` nodes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from sqlmodel import Session

from mediastudio.auth.tables import User
from mediastudio.common import new_id
from mediastudio.errors import BadRequest, NotFound
from mediastudio.graph import Graph, GraphIn
from mediastudio.projects import content
from mediastudio.projects.access import project_folder, require, require_row
from mediastudio.projects.files import folder_syncs, write_json
from mediastudio.projects.repo import ProjectRepo
from mediastudio.projects.service import record, save
from mediastudio.settings import Settings

NAME_MAX = 120


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX:
        raise BadRequest(f"A scene name needs 1 to {NAME_MAX} characters.", field="name")
    return cleaned


def list_scenes(db: Session, settings: Settings, actor: User, project_id: str) -> list[dict[str, Any]]:
    project, _ = require(db, actor, project_id, "view")
    return content.read_scenes(project_folder(settings, project))


def get_scene(db: Session, settings: Settings, actor: User, project_id: str, scene_id: str) -> dict[str, Any]:
    """One scene: reads its file and no other (the cost of a read does not grow with the project)."""
    project, _ = require(db, actor, project_id, "view")
    scene = content.read_scene(project_folder(settings, project), scene_id)
    if scene is not None:
        return scene
    raise no_such_scene(project_id, scene_id)


def no_such_scene(project_id: str, scene_id: str) -> NotFound:
    return NotFound(f"Project '{project_id}' has no scene '{scene_id}'.",
                    hint=f"GET /api/v1/projects/{project_id}/scenes lists its scenes.")


def _renumber(folder: Path, scenes: list[dict[str, Any]]) -> list[Path]:
    """Number the scenes 0, 1, 2… in this order; returns the files it rewrote."""
    written = []
    for order, scene in enumerate(scenes):
        if scene.get("order") != order:
            scene["order"] = order
            content.write_scene(folder, scene)
            written.append(content.scene_path(folder, scene["id"]))
    return written


def _found(folder: Path, project_id: str, scene_id: str) -> dict[str, Any]:
    scene = content.read_scene(folder, scene_id)
    if scene is not None:
        return scene
    raise NotFound(f"Project '{project_id}' has no scene '{scene_id}'.",
                   hint=f"GET /api/v1/projects/{project_id}/scenes lists its scenes.")


# Each write below holds the project's folder lock (live rooms write scene files under the same lock) only while
# it reads and writes files and notes the change for the folder's commit (`save`); what it tells the index
# (`record`) comes after, so the writers of one project never queue behind one another's database work.


def create_scene(db: Session, settings: Settings, actor: User, project_id: str, name: str,
                 graph: GraphIn | None = None) -> dict[str, Any]:
    project, _ = require_row(db, actor, project_id, "edit")
    stored = graph.stored() if graph else Graph(nodes={}, edges={})
    folder = project_folder(settings, project)
    scene_id, scene_name, graph_dict = new_id("sc"), _clean_name(name), stored.model_dump()
    path = content.scene_path(folder, scene_id)
    repo = ProjectRepo(folder)
    # Every writer of the project waits while this one holds the folder: it does there only what the scene's
    # number needs (the count, the file, the journal's line) and takes the fsyncs of the folder and the journal
    # after letting go, before it answers (concurrent fsyncs of one folder share the disk's flush).
    names = folder_syncs(path.parent)
    with repo.lock:
        order = content.SCENE_COUNTS.kept_count(folder)  # a new scene comes last
        scene = {"id": scene_id, "name": scene_name, "order": order, "graph": graph_dict}
        write_json(path, scene, sync_folder=False)  # the file itself is fsynced before its rename
        named = names.ticket()
        content.SCENE_COUNTS.keep(folder, order + 1)
        saved = save(settings, project, actor, f"Added scene '{scene_name}'", kind="scene", deferred=[path],
                     sync=False)
    names.sync(named)  # the writers of the project share these two fsyncs (files.SyncGroup)
    repo.sync_pending(saved.line)
    record(db, settings, project, actor, saved, refresh="scenes")
    return scene


def update_scene(db: Session, settings: Settings, actor: User, project_id: str, scene_id: str, *,
                 name: str | None = None, order: int | None = None) -> dict[str, Any]:
    project, _ = require_row(db, actor, project_id, "edit")
    folder = project_folder(settings, project)
    repo = ProjectRepo(folder)
    path = content.scene_path(folder, scene_id)
    names, named = folder_syncs(path.parent), None
    # As a creation: the file is fsynced under the lock, its name and its journal line after letting go.
    with repo.lock:
        scene = _found(folder, project_id, scene_id)
        said = []
        written = [path]
        if name is not None and _clean_name(name) != scene["name"]:
            said.append(f"Renamed scene '{scene['name']}' to '{_clean_name(name)}'")
            scene["name"] = _clean_name(name)
            write_json(path, scene, sync_folder=False)
            named = names.ticket()
        if order is not None:
            others = [s for s in content.read_scenes(folder) if s["id"] != scene_id]
            others.insert(max(0, min(order, len(others))), scene)
            written += _renumber(folder, others)
            said.append(f"Moved scene '{scene['name']}' to position {others.index(scene) + 1}")
        saved = save(settings, project, actor, "; ".join(said), kind="scene", deferred=written,
                     sync=False) if said else None
    if named is not None:
        names.sync(named)
    if saved is not None:
        repo.sync_pending(saved.line)
        record(db, settings, project, actor, saved, refresh="none")  # the index holds no scene's name or place
    return scene  # what its file now says (read under the lock, then changed and written)


def duplicate_scene(db: Session, settings: Settings, actor: User, project_id: str, scene_id: str) -> dict[str, Any]:
    project, _ = require_row(db, actor, project_id, "edit")
    folder = project_folder(settings, project)
    with ProjectRepo(folder).lock:
        source = _found(folder, project_id, scene_id)
        scenes = content.read_scenes(folder)
        copy_ = {"id": new_id("sc"), "name": f"{source['name']} copy"[:NAME_MAX],
                 "graph": copy.deepcopy(source["graph"])}
        scenes.insert(scenes.index(next(s for s in scenes if s["id"] == scene_id)) + 1, copy_)
        content.write_scene(folder, {**copy_, "order": 0})
        written = [content.scene_path(folder, copy_["id"]), *_renumber(folder, scenes)]
        content.SCENE_COUNTS.forget(folder)  # the folder's time tells too; this does not rely on it
        saved = save(settings, project, actor, f"Duplicated scene '{source['name']}'", kind="scene",
                     deferred=written)
        answer = _found(folder, project_id, copy_["id"])
    record(db, settings, project, actor, saved, refresh="scenes")
    return answer


def delete_scene(db: Session, settings: Settings, actor: User, project_id: str, scene_id: str) -> None:
    project, _ = require_row(db, actor, project_id, "edit")
    folder = project_folder(settings, project)
    with ProjectRepo(folder).lock:
        scene = _found(folder, project_id, scene_id)
        content.scene_path(folder, scene_id).unlink()
        written = [content.scene_path(folder, scene_id), *_renumber(folder, content.read_scenes(folder))]
        content.SCENE_COUNTS.forget(folder)  # the folder's time tells too; this does not rely on it
        saved = save(settings, project, actor, f"Deleted scene '{scene['name']}'", kind="scene", deferred=written)
    record(db, settings, project, actor, saved, refresh="scenes")
