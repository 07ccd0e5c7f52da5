"""Which projects used each model: read from the provenance of their generated assets (the `model` a diffusion
node recorded, and the models of finishing steps such as an upscaler), counted only over the projects the caller
may open, so nobody learns of a project they cannot see."""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from mediastudio.auth.tables import User
from mediastudio.db import Database
from mediastudio.projects.access import project_folder, roles_for
from mediastudio.projects.tables import Asset, Project
from mediastudio.settings import Settings
from mediastudio.workspaces.roles import project_allows
from mediastudio.workspaces.tables import Membership

MAX_ASSETS = 20_000  # generated assets read per answer at most (the newest); an answer says when it stopped short

# The models each generated asset's file names, by asset id, with the file's time and size when read: an answer is
# made again after every commit anywhere (each run makes one), and reading every asset's file again cost ~28 µs an
# asset (0.14 s at 5,000, on each Models page opened in a busy studio). A provenance is written once, with the
# asset; a file changed since (by hand) has another time or size and is read again. At most 2 × MAX_ASSETS kept.
_MODELS_OF: dict[str, tuple[int, int, frozenset[str]]] = {}
_MODELS_OF_LOCK = threading.Lock()


class ProjectUse(BaseModel):
    project_id: str
    project_name: str
    assets: int = Field(description="Generated assets of the project that this model made")


class ModelUsage(BaseModel):
    model: str
    projects: list[ProjectUse]


class UsageOut(BaseModel):
    items: list[ModelUsage]
    partial: bool = Field(False, description=f"Only the newest {MAX_ASSETS} generated assets were read")


def models_in(provenance: Any) -> set[str]:
    """The models a generated asset's provenance names: the generator's, and any finishing step's."""
    if not isinstance(provenance, dict):
        return set()
    found = {provenance["model"]} if isinstance(provenance.get("model"), str) else set()
    for value in provenance.values():
        if isinstance(value, dict) and isinstance(value.get("model"), str) and "node" in value:
            found.add(value["model"])
    return {m for m in found if m}


def _visible(db: Session, user: User) -> list[Project]:
    workspaces = select(Membership.workspace_id).where(col(Membership.user_id) == user.id)
    projects = list(db.exec(select(Project).where(col(Project.workspace_id).in_(workspaces),
                                                  col(Project.trashed_at).is_(None))).all())
    roles = roles_for(db, user, projects)
    return [p for p in projects if p.id in roles and project_allows(roles[p.id], "view")]


def _models_of(asset_id: str, path: str) -> frozenset[str]:
    """The models the asset's file names in its provenance (none when it cannot be read): as read before while
    the file has the same time and size (`_MODELS_OF`)."""
    try:
        stat = os.stat(path)
    except OSError:
        return frozenset()
    with _MODELS_OF_LOCK:
        kept = _MODELS_OF.get(asset_id)
    if kept is not None and kept[:2] == (stat.st_mtime_ns, stat.st_size):
        return kept[2]
    try:
        with open(path, encoding="utf-8") as file:
            found = frozenset(models_in(json.loads(file.read()).get("provenance")))
    except (OSError, ValueError, AttributeError):
        return frozenset()
    with _MODELS_OF_LOCK:
        if len(_MODELS_OF) >= 2 * MAX_ASSETS:
            _MODELS_OF.clear()
        _MODELS_OF[asset_id] = (stat.st_mtime_ns, stat.st_size, found)
    return found


def usage(database: Database, settings: Settings, user: User) -> UsageOut:
    """Kept until the next commit anywhere (a new asset, a right taken away), per caller."""
    def compute() -> UsageOut:
        with database.session() as db:
            projects = {p.id: p for p in _visible(db, user)}
            rows = db.exec(select(Asset.id, Asset.project_id)
                           .where(col(Asset.project_id).in_(list(projects)), col(Asset.category) == "generated",
                                  col(Asset.trashed_at).is_(None))
                           .order_by(col(Asset.created_at).desc()).limit(MAX_ASSETS + 1)).all()
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        folders = {pid: os.path.join(project_folder(settings, project), "assets") for pid, project in projects.items()}
        for asset_id, project_id in rows[:MAX_ASSETS]:  # ids of the index's rows: `new_id`'s letters and digits
            for model in _models_of(asset_id, os.path.join(folders[project_id], f"{asset_id}.json")):
                counts[model][project_id] += 1
        items = [ModelUsage(model=model, projects=sorted(
                    (ProjectUse(project_id=pid, project_name=projects[pid].name, assets=n) for pid, n in used.items()),
                    key=lambda u: (-u.assets, u.project_name.lower())))
                 for model, used in sorted(counts.items())]
        return UsageOut(items=items, partial=len(rows) > MAX_ASSETS)

    return database.reads("model-usage", 256).get_or_compute(user.id, compute)
