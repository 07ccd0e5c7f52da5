"""Which projects used each model: read from the provenance of their generated assets (the `model` a diffusion
node recorded, and the models of finishing steps such as an upscaler), counted only over the projects the caller
may open, so nobody learns of a project they cannot see."""

from __future__ import annotations

import json
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
        for asset_id, project_id in rows[:MAX_ASSETS]:
            path = project_folder(settings, projects[project_id]) / "assets" / f"{asset_id}.json"
            try:
                provenance = json.loads(path.read_text(encoding="utf-8")).get("provenance")
            except (OSError, ValueError, AttributeError):
                continue
            for model in models_in(provenance):
                counts[model][project_id] += 1
        items = [ModelUsage(model=model, projects=sorted(
                    (ProjectUse(project_id=pid, project_name=projects[pid].name, assets=n) for pid, n in used.items()),
                    key=lambda u: (-u.assets, u.project_name.lower())))
                 for model, used in sorted(counts.items())]
        return UsageOut(items=items, partial=len(rows) > MAX_ASSETS)

    return database.reads("model-usage", 256).get_or_compute(user.id, compute)
