"""What the project API takes and answers."""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any, Literal

from litestar.params import Parameter
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import bindparam, func, or_
from sqlmodel import Session, col, select

from mediastudio.api_types import NOT_BLANK, number, text
from mediastudio.auth.tables import User
from mediastudio.common import UtcDatetime
from mediastudio.db import Prepared, loaded
from mediastudio.graph import Graph, GraphIn
from mediastudio.projects import content
from mediastudio.projects.access import require
from mediastudio.projects.history import CommitKind
from mediastudio.projects.tables import Asset, Project
from mediastudio.workspaces.roles import ProjectRole
from mediastudio.workspaces.schemas import MemberUser

NAME_MAX = 120
DESCRIPTION_MAX = 2000
TAG_MAX = 32
TAGS_MAX = 20
TemplateId = Literal["blank", "storyboard", "text-to-image", "image-sequence-to-clip"]  # examples/templates/*.json
Tag = Annotated[str, StringConstraints(max_length=TAG_MAX)]
Name = Annotated[str, *text(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK,
                             message="A name needs something besides spaces.")]
# An optional constrained field (`X | None`) loses its constraints in the document unless they are stated
# once more beside the union.
MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=MODEL_NAME)]
OptionalName = Annotated[Name | None, Parameter(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK)]


class ProjectCreate(BaseModel):
    name: Name
    template: TemplateId = Field("blank", description="The template the project starts from.")
    model: Annotated[ModelName | None, Parameter(min_length=1, max_length=100, pattern=MODEL_NAME)] = Field(
        None, description="An installed model for the template's model nodes; its generators take "
                                          "the size, steps and guidance that suit it.")
    workspace_id: str | None = Field(None, description="Default: your personal workspace.")


class ProjectPatch(BaseModel):
    name: OptionalName = None
    description: str | None = Field(None, max_length=DESCRIPTION_MAX)
    tags: Annotated[list[Tag] | None, Parameter(max_items=TAGS_MAX)] = Field(
        None, max_length=TAGS_MAX,
        description=f"At most {TAGS_MAX} tags of at most {TAG_MAX} characters; stored lower-case, spaces become '-'.")
    cover_asset_id: str | None = None
    archived: bool | None = None


class ProjectOut(BaseModel):
    id: str
    workspace_id: str
    name: str
    description: str
    tags: list[str]
    archived: bool
    cover_asset_id: str | None
    cover_url: str | None = Field(None, description="Preview of the chosen cover, else of the newest image.")
    template: str
    created_by: str
    contributors: list[MemberUser] = Field(description="Everyone who changed the project.")
    scene_count: int
    role: ProjectRole | None = Field(None, description="Your role on it.")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    trashed_at: UtcDatetime | None


def users_by_id(db: Session, ids: set[str]) -> dict[str, User]:
    """The accounts of `ids` (those that exist), by id: one statement, prepared once for any number of ids (they
    go as one JSON list; an IN list was compiled anew for every answer that names people)."""
    wanted = sorted(i for i in ids if isinstance(i, str) and i)  # (an id of no one, None, names no one)
    if not wanted:
        return {}
    rows = _users_named().rows(db, {"ids": json.dumps(wanted)})
    return {row["id"]: loaded(User, row) for row in rows}


@cache
def _users_named() -> Prepared:
    named = func.json_each(bindparam("ids")).table_valued("value")
    return Prepared(select(User).where(col(User.id).in_(select(named.c.value))))


COVER_CATEGORIES = ("image", "generated", "video")


def covers_for(db: Session, projects: list[Project]) -> dict[str, str]:
    """Preview URL per project: its chosen cover asset, else its newest image (generated ones included)."""
    if not projects:
        return {}
    chosen = {p.id: p.cover_asset_id for p in projects if p.cover_asset_id}
    wanted = [p.id for p in projects if p.id not in chosen]
    covers: dict[str, str] = {}
    if wanted:
        rows = _newest_pictures().tuples(db, {"ids": json.dumps(wanted)})
        covers = {project_id: asset_id for project_id, asset_id in rows if asset_id}
    covers.update(chosen)
    return {pid: f"/api/v1/projects/{pid}/assets/{aid}/preview?size=1024" for pid, aid in covers.items()}


@cache
def _newest_pictures() -> Prepared:
    """Each project's newest image, video or generated picture, found through the (project, created) index: a
    project with thousands of assets costs what one with a single asset does. Prepared once (the projects go as
    one JSON list; the categories as ORs, which SQLite reads as the IN they are)."""
    category = col(Asset.category)
    newest = (select(Asset.id).where(Asset.project_id == Project.id, col(Asset.trashed_at).is_(None),
                                     or_(*(category == name for name in COVER_CATEGORIES)))
              .order_by(col(Asset.created_at).desc()).limit(1).correlate(Project).scalar_subquery())
    wanted = func.json_each(bindparam("ids")).table_valued("value")
    return Prepared(select(Project.id, newest).where(col(Project.id).in_(select(wanted.c.value))))


def project_out(project: Project, people: dict[str, User], role: ProjectRole | None = None,
                cover_url: str | None = None) -> ProjectOut:
    contributors = [MemberUser.model_validate(people[i], from_attributes=True)
                    for i in project.contributors.split() if i in people]
    return ProjectOut(id=project.id, workspace_id=project.workspace_id, name=project.name,
                      description=project.description, tags=project.tags.split(), archived=project.archived,
                      cover_asset_id=project.cover_asset_id, cover_url=cover_url, template=project.template,
                      created_by=project.created_by, contributors=contributors, scene_count=project.scene_count,
                      role=role, created_at=project.created_at, updated_at=project.updated_at,
                      trashed_at=project.trashed_at)


def projects_out(db: Session, projects: list[Project], roles: dict[str, ProjectRole] | None = None) -> list[ProjectOut]:
    people = users_by_id(db, {i for p in projects for i in p.contributors.split()})
    covers = covers_for(db, projects)
    return [project_out(p, people, (roles or {}).get(p.id), covers.get(p.id)) for p in projects]


class Shot(BaseModel):
    node_id: str
    name: str


class SceneOut(BaseModel):
    id: str
    name: str
    order: int
    node_count: int
    shots: list[Shot]

    @classmethod
    def of(cls, scene: dict[str, Any]) -> SceneOut:
        return cls(**_summary(scene, content.scene_graph(scene)))


def _summary(scene: dict[str, Any], graph: Graph) -> dict[str, Any]:
    return {"id": scene["id"], "name": scene["name"], "order": scene.get("order", 0), "node_count": len(graph.nodes),
            "shots": [Shot(**s) for s in content.shots_of(graph)]}


class SceneDetail(SceneOut):
    graph: Graph

    @classmethod
    def of(cls, scene: dict[str, Any]) -> SceneDetail:
        graph = content.scene_graph(scene)
        return cls(**_summary(scene, graph), graph=graph)


class SceneCreate(BaseModel):
    name: Name
    graph: GraphIn | None = None


class ScenePatch(BaseModel):
    name: OptionalName = None
    order: Annotated[int, *number(ge=0)] | None = Field(None, description="New position, 0-based.")


class ProjectDetail(ProjectOut):
    scenes: list[SceneOut]


class TemplateOut(BaseModel):
    id: TemplateId
    name: str
    description: str
    tags: list[str]
    scene_names: list[str]


class TagCount(BaseModel):
    tag: str
    count: int


class BulkAction(BaseModel):
    action: Literal["archive", "unarchive", "delete", "restore", "export"]
    ids: list[str] = Field(min_length=1, max_length=500)


class BulkResult(BaseModel):
    id: str
    ok: bool
    detail: str | None = None


class BulkOut(BaseModel):
    results: list[BulkResult]


class CommitAuthor(BaseModel):
    id: str | None
    name: str


class CommitOut(BaseModel):
    sha: str
    short: str
    message: str
    kind: CommitKind = Field(description="What made it: an edit, a labelled version, generated assets, an upload, "
                                         "a change to assets, a restore, an import, the template it was created "
                                         "from, a change of scenes or of the project's settings, or recovery")
    label: str | None = Field(None, description="The name a person gave this version (kind 'version')")
    restored_from: str | None = Field(None, description="The version a restore brought back (kind 'restore')")
    summary: str = Field(description="What changed, e.g. \"Added 2 nodes to 'Hero shot', changed steps on 'Generate'\"")
    author: CommitAuthor
    co_authors: list[str]
    time: UtcDatetime


class ProjectVersion(BaseModel):
    """The project as it was at one commit (read-only)."""

    commit: CommitOut
    meta: dict[str, Any]
    scenes: list[SceneDetail]


class RoleSet(BaseModel):
    role: ProjectRole | None = Field(description="null = the workspace's default role again")


class ProjectMember(BaseModel):
    user: MemberUser
    workspace_role: str
    role: ProjectRole
    overridden: bool


def project_out_for(db: Session, user: User, project_id: str) -> ProjectOut:
    """One project as `user` sees it (NotFound unless they may view it)."""
    project, role = require(db, user, project_id, "view")
    return projects_out(db, [project], {project.id: role})[0]
