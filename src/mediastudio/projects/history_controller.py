"""/api/v1/projects/{id}/history and /roles: versions of a project, and who may do what on it."""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlmodel import select

from mediastudio.auth.identity import IdentityDep
from mediastudio.auth.tables import User
from mediastudio.common import Page
from mediastudio.errors import BadRequest, NotFound
from mediastudio.paging import OffsetCursor, offset_of
from mediastudio.projects.access import project_folder, require
from mediastudio.projects.history import co_authors, commit_summary, first_line, snapshot
from mediastudio.projects.repo import Commit, ProjectRepo
from mediastudio.projects.schemas import (
    CommitAuthor,
    CommitOut,
    ProjectMember,
    ProjectVersion,
    RoleSet,
    SceneDetail,
)
from mediastudio.projects.service import commit as commit_changes
from mediastudio.projects.tables import ProjectRoleOverride
from mediastudio.studio import StudioDep
from mediastudio.workspaces.roles import effective_project_role
from mediastudio.workspaces.schemas import MemberUser
from mediastudio.workspaces.tables import Membership, Workspace


def commit_out(repo: ProjectRepo, commit: Commit) -> CommitOut:
    return CommitOut(
        sha=commit.sha,
        short=commit.sha[:7],
        message=first_line(commit.message),
        summary=commit_summary(repo, commit),
        author=CommitAuthor(id=commit.author_id, name=commit.author_name),
        co_authors=co_authors(commit.message),
        time=commit.time,
    )


def _found(repo: ProjectRepo, ref: str, project_id: str) -> str:
    sha = repo.resolve(ref)
    if sha is None:
        raise NotFound(
            f"Project '{project_id}' has no version '{ref}'.",
            hint=f"GET /api/v1/projects/{project_id}/history lists its versions.",
        )
    return sha


class HistoryController(Controller):
    path = "/api/v1/projects/{project_id:str}"
    tags = ("history",)

    @get("/history", summary="The project's versions, newest first, with what changed", sync_to_thread=True)
    def history(
        self,
        project_id: FromPath[str],
        identity: IdentityDep,
        studio: StudioDep,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: OffsetCursor = None,
    ) -> Page[CommitOut]:
        with studio.db.session() as db:
            project, _ = require(db, identity.user, project_id, "view")
        repo = ProjectRepo(project_folder(studio.settings, project))
        skip = offset_of(cursor)
        commits = repo.log(limit=limit + 1, skip=skip)
        return Page(
            items=[commit_out(repo, c) for c in commits[:limit]],
            next_cursor=str(skip + limit) if len(commits) > limit else None,
        )

    @get("/history/{commit:str}", summary="The project as it was at one version (read-only)", sync_to_thread=True)
    def version(
        self, project_id: FromPath[str], commit: FromPath[str], identity: IdentityDep, studio: StudioDep
    ) -> ProjectVersion:
        with studio.db.session() as db:
            project, _ = require(db, identity.user, project_id, "view")
        repo = ProjectRepo(project_folder(studio.settings, project))
        sha = _found(repo, commit, project_id)
        (found,) = [c for c in repo.log(limit=1, skip=0) if c.sha == sha] or [None]
        if found is None:
            found = next(c for c in repo.log(limit=100_000) if c.sha == sha)
        state = snapshot(repo.files_at(sha))
        scenes = [SceneDetail.of(s) for s in state["scenes"]]
        return ProjectVersion(commit=commit_out(repo, found), meta=state["meta"], scenes=scenes)

    @post(
        "/history/{commit:str}/restore",
        summary="Make an earlier version current (as a new commit)",
        status_code=200,
    )
    async def restore(
        self, project_id: FromPath[str], commit: FromPath[str], identity: IdentityDep, studio: StudioDep
    ) -> CommitOut:
        await studio.rooms.save_version(project_id)  # live edits are committed first: nothing is lost

        def restore_files() -> tuple[ProjectRepo, str | None]:
            with studio.db.transaction() as db:
                project, _ = require(db, identity.user, project_id, "edit")
                repo = ProjectRepo(project_folder(studio.settings, project))
                sha = _found(repo, commit, project_id)
                when = next((c.time for c in repo.log(limit=100_000) if c.sha == sha), None)
                repo.checkout_files(sha)
                label = f"{when:%Y-%m-%d %H:%M} UTC" if when else sha[:7]
                message = f"Restored the version of {label} ({sha[:7]})"
                return repo, commit_changes(db, studio.settings, project, identity.user, message)

        repo, made = await to_thread.run_sync(restore_files)
        if made is None:
            raise BadRequest("That version is the current one already.")
        await studio.rooms.reload_from_files(project_id)  # open browsers see the restored graphs live
        return commit_out(repo, repo.log(limit=1)[0])

    @get("/roles", summary="Everyone in the project's workspace and their role on it", sync_to_thread=True)
    def roles(self, project_id: FromPath[str], identity: IdentityDep, studio: StudioDep) -> list[ProjectMember]:
        with studio.db.session() as db:
            project, _ = require(db, identity.user, project_id, "view")
            workspace = db.get(Workspace, project.workspace_id)
            overrides = {
                o.user_id: o.role
                for o in db.exec(select(ProjectRoleOverride).where(ProjectRoleOverride.project_id == project_id)).all()
            }
            rows = db.exec(
                select(Membership, User)
                .join(User, User.id == Membership.user_id)  # type: ignore[arg-type]
                .where(Membership.workspace_id == project.workspace_id)
            ).all()
            return [
                ProjectMember(
                    user=MemberUser.model_validate(u, from_attributes=True),
                    workspace_role=m.role,
                    role=effective_project_role(
                        m.role,
                        workspace.default_project_role,  # type: ignore[union-attr, arg-type]
                        overrides.get(u.id),
                    ),  # type: ignore[arg-type]
                    overridden=u.id in overrides,
                )
                for m, u in rows
            ]

    @put(
        "/roles/{user_id:str}",
        summary="Give a member a role on this project (null: the workspace default)",
        sync_to_thread=True,
    )
    def set_role(
        self,
        project_id: FromPath[str],
        user_id: FromPath[str],
        data: JSONBody[RoleSet],
        identity: IdentityDep,
        studio: StudioDep,
    ) -> list[ProjectMember]:
        with studio.db.transaction() as db:
            project, _ = require(db, identity.user, project_id, "manage")
            if db.get(Membership, (project.workspace_id, user_id)) is None:
                raise NotFound(
                    f"User '{user_id}' is not in this project's workspace.", hint="Invite them to the workspace first."
                )
            existing = db.get(ProjectRoleOverride, (project_id, user_id))
            if existing is not None:
                db.delete(existing)
                db.flush()
            if data.role is not None:
                db.add(ProjectRoleOverride(project_id=project_id, user_id=user_id, role=data.role))
            from mediastudio.events.access import access_changed  # their open sockets re-check

            access_changed(db, user_id=user_id)
        return self.roles.fn(self, project_id, identity, studio)  # type: ignore[attr-defined]
