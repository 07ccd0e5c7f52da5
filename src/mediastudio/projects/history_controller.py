"""/api/v1/projects/{id}/history: versions of a project (its roles are in roles_controller.py)."""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from litestar import Controller, get, post
from litestar.params import FromPath, QueryParameter

from mediastudio.api_types import PLAIN_LINE
from mediastudio.auth.former import FORMER_MEMBER, former_members
from mediastudio.auth.identity import IdentityDep
from mediastudio.common import Page
from mediastudio.db import Database, DatabaseDep
from mediastudio.errors import BadRequest, Conflict, NotFound
from mediastudio.paging import OffsetCursor, offset_of
from mediastudio.projects.access import project_folder, require
from mediastudio.projects.history import (
    RESTORED_TRAILER,
    Snapshots,
    co_authors,
    commit_summary,
    first_line,
    kind_of,
    label_of,
    matches,
    restored_from,
)
from mediastudio.projects.live import LiveScenesDep
from mediastudio.projects.repo import Commit, ProjectRepo
from mediastudio.projects.schemas import (
    CommitAuthor,
    CommitOut,
    ProjectVersion,
    SceneDetail,
)
from mediastudio.projects.service import commit as commit_changes
from mediastudio.settings import SettingsDep


def commit_outs(repo: ProjectRepo, commits: list[Commit]) -> list[CommitOut]:
    """The commits as the API shows them; their files read through one git process (none when every summary
    is known)."""
    with Snapshots(repo) as snapshots:
        return [commit_out(snapshots, c) for c in commits]


def commit_out(snapshots: Snapshots, commit: Commit) -> CommitOut:
    return CommitOut(
        sha=commit.sha,
        short=commit.sha[:7],
        message=first_line(commit.message),
        kind=kind_of(commit.message),
        label=label_of(commit.message),
        restored_from=restored_from(commit.message),
        summary=commit_summary(snapshots, commit),
        author=CommitAuthor(id=commit.author_id, name=commit.author_name),
        co_authors=co_authors(commit.message),
        time=commit.time,
    )


def credited(database: Database, items: list[CommitOut]) -> list[CommitOut]:
    """Versions by accounts deleted since read "Former member" (an imported project's authors from elsewhere keep
    the names their commits carry)."""
    with database.session() as db:
        former = former_members(db, (c.author.id for c in items))
    for item in items:
        if item.author.id in former:
            item.author = CommitAuthor(id=None, name=FORMER_MEMBER)
    return items


SEARCH_MAX = 100
SEARCH_CHUNK = 200


def search_words(q: str | None) -> list[str]:
    """The words of a history search, lower-cased; control characters are refused (they match nothing a
    person typed, and would end up in logs)."""
    if q is None:
        return []
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in q):
        raise BadRequest("The search holds control characters.", field="q",
                         hint="Search with plain words: a label, a word of a message, an author's name.")
    return q.lower().split()[:8]


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
        database: DatabaseDep, settings: SettingsDep,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: OffsetCursor = None,
        # The plain-line rule is stated in the document (a request it allows is not refused) and checked by
        # search_words, which says it in words.
        q: Annotated[str | None, QueryParameter(max_length=SEARCH_MAX, schema_extra={"pattern": PLAIN_LINE},
                                                description=(
            "Only versions whose label, message or author holds every word of this (any case)"))] = None,
    ) -> Page[CommitOut]:
        words = search_words(q)
        with database.session() as db:
            project, _ = require(db, identity.user, project_id, "view")
        repo = ProjectRepo(project_folder(settings, project))
        skip = offset_of(cursor)
        if not words:
            commits = repo.log(limit=limit + 1, skip=skip)
            return Page(items=credited(database, commit_outs(repo, commits[:limit])),
                        next_cursor=str(skip + limit) if len(commits) > limit else None)
        found: list[tuple[Commit, int]] = []
        position = skip  # the cursor counts commits looked at, matching or not
        while len(found) <= limit:
            chunk = repo.log(limit=SEARCH_CHUNK, skip=position)
            for commit in chunk:
                position += 1
                if matches(commit, words):
                    found.append((commit, position))
                    if len(found) > limit:
                        break
            if len(chunk) < SEARCH_CHUNK:
                break
        more = len(found) > limit
        return Page(items=credited(database, commit_outs(repo, [c for c, _ in found[:limit]])),
                    next_cursor=str(found[limit - 1][1]) if more else None)

    @get("/history/{commit:str}", summary="The project as it was at one version (read-only)", sync_to_thread=True)
    def version(
        self,
        project_id: FromPath[str],
        commit: FromPath[str],
        identity: IdentityDep,
        database: DatabaseDep,
        settings: SettingsDep,
    ) -> ProjectVersion:
        with database.session() as db:
            project, _ = require(db, identity.user, project_id, "view")
        repo = ProjectRepo(project_folder(settings, project))
        sha = _found(repo, commit, project_id)
        found = repo.commit_of(sha)
        if found is None:  # a sha of some other object (a tree, a file) of the project's repository
            raise NotFound(f"Project '{project_id}' has no version '{commit}'.",
                           hint=f"GET /api/v1/projects/{project_id}/history lists its versions.")
        with Snapshots(repo) as snapshots:
            state = snapshots.at(sha)
            out = commit_out(snapshots, found)
        scenes = [SceneDetail.of(s) for s in state["scenes"]]
        return ProjectVersion(commit=credited(database, [out])[0], meta=state["meta"], scenes=scenes)

    @post(
        "/history/{commit:str}/restore",
        summary="Make an earlier version current (as a new commit)",
        status_code=200,
    )
    async def restore(
        self,
        project_id: FromPath[str],
        commit: FromPath[str],
        identity: IdentityDep,
        database: DatabaseDep,
        settings: SettingsDep,
        rooms: LiveScenesDep,
    ) -> CommitOut:
        await rooms.save_version(project_id)  # live edits are committed first: nothing is lost

        def restore_files() -> tuple[ProjectRepo, str | None]:
            with database.transaction() as db:
                project, _ = require(db, identity.user, project_id, "edit")
                repo = ProjectRepo(project_folder(settings, project))
                sha = _found(repo, commit, project_id)
                when = found.time if (found := repo.commit_of(sha)) else None
                repo.checkout_files(sha)
                label = f"{when:%Y-%m-%d %H:%M} UTC" if when else sha[:7]
                message = f"Restored the version of {label} ({sha[:7]})"
                return repo, commit_changes(db, settings, project, identity.user, message, kind="restore",
                                            extra={RESTORED_TRAILER: sha})

        repo, made = await to_thread.run_sync(restore_files)
        if made is None:
            raise Conflict("That version is the current one already: restoring it would change nothing.",
                           hint="Pick an earlier version in the History list.")
        await rooms.reload_from_files(project_id)  # open browsers see the restored graphs live
        return commit_outs(repo, repo.log(limit=1))[0]
