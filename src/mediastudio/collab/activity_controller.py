"""/api/v1/projects/{id}/activity and /save: who changed what, and "Save version"."""

from __future__ import annotations

from typing import Annotated, Literal

from anyio import to_thread
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, Field

from mediastudio.api_types import PLAIN_LINE, text
from mediastudio.auth.former import FORMER_MEMBER, former_members
from mediastudio.auth.identity import IdentityDep
from mediastudio.collab.activity import recent
from mediastudio.collab.rooms import RoomsDep
from mediastudio.common import Page, UtcDatetime
from mediastudio.db import DatabaseDep
from mediastudio.paging import OffsetCursor, offset_of
from mediastudio.projects.access import project_folder, require
from mediastudio.projects.repo import ProjectRepo
from mediastudio.projects.schemas import users_by_id
from mediastudio.settings import SettingsDep
from mediastudio.workspaces.schemas import MemberUser

FORMER = MemberUser(id="", username="", display_name=FORMER_MEMBER, color="#8b8d98")


class ActivityOut(BaseModel):
    id: int
    user: MemberUser | None = Field(description="A deleted account reads \"Former member\" (with no id or "
                                                "username); null for an author this studio never knew.")
    at: UtcDatetime
    scene_id: str | None
    node_id: str | None = Field(description="The node it concerns, to link to; null for scene-wide changes.")
    text: str = Field(description="e.g. \"changed steps 20→30 on 'Hero shot'\" (the user's name goes before it)")


LABEL_MAX = 120
# One line of text (api_types.PLAIN_LINE); nothing but spaces counts as no label.


class SaveVersion(BaseModel):
    message: Annotated[str, *text(max_length=LABEL_MAX, pattern=PLAIN_LINE,
                                  message="must be one line of text, without control characters",
                                  description="A label for this version")] | None = None


class SavedVersion(BaseModel):
    status: Literal["saved", "unchanged"] = Field(
        description="'unchanged': no label and nothing new since the last version, so no version was made")
    commit: str | None = Field(description="The version made (a labelled save always makes one)")
    label: str | None


class ActivityController(Controller):
    path = "/api/v1/projects/{project_id:str}"
    tags = ("collaboration",)

    @get("/activity", summary="Recent changes with who made them, newest first", sync_to_thread=True)
    def activity(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                 limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
                 cursor: OffsetCursor = None) -> Page[ActivityOut]:
        with database.session() as db:
            require(db, identity.user, project_id, "view")
            rows = recent(db, project_id, limit + 1, offset_of(cursor) or None)
            people = users_by_id(db, {r.user_id for r in rows})
            former = former_members(db, {r.user_id for r in rows} - people.keys())
        items = [ActivityOut(id=r.id or 0, at=r.at, scene_id=r.scene_id, node_id=r.node_id, text=r.text,
                             user=MemberUser.model_validate(people[r.user_id], from_attributes=True)
                             if r.user_id in people else FORMER if r.user_id in former else None)
                 for r in rows[:limit]]
        return Page(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)

    @post("/save", summary="Save a version now: write and commit every open scene", status_code=200)
    async def save_version(self, project_id: FromPath[str], data: JSONBody[SaveVersion], identity: IdentityDep,
                           database: DatabaseDep, settings: SettingsDep, rooms: RoomsDep) -> SavedVersion:
        def head() -> str | None:
            with database.session() as db:
                project, _ = require(db, identity.user, project_id, "edit")
            latest = ProjectRepo(project_folder(settings, project)).log(limit=1)
            return latest[0].sha if latest else None

        before = await to_thread.run_sync(head)
        label = " ".join((data.message or "").split()) or None
        made = await rooms.save_version(project_id, label, by=identity.user.id)
        if label is None:
            after = await to_thread.run_sync(head)
            made = after if after != before else None
        return SavedVersion(status="saved" if made else "unchanged", commit=made, label=label)
