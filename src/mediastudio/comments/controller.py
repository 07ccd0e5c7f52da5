"""/api/v1/projects/{id}/comments (threads on assets, scenes and nodes) and /api/v1/inbox (each person's
notifications). Rights are checked on every request (comments/service.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from mediastudio.auth.identity import IdentityDep
from mediastudio.comments import inbox, service
from mediastudio.comments.schemas import (
    CommentIn,
    CommentsSummary,
    InboxOut,
    InboxRead,
    TargetCount,
    ThreadIn,
    ThreadOut,
    ThreadPatch,
    ThreadsOut,
    UnreadOut,
    notification_out,
    thread_out,
)
from mediastudio.db import DatabaseDep
from mediastudio.projects.schemas import users_by_id
from mediastudio.settings import SettingsDep

ThreadId = FromPath[str]


class CommentsController(Controller):
    path = "/api/v1/projects/{project_id:str}/comments"
    tags = ("comments",)

    @get("", summary="Comment threads of the project (of one target when asked), oldest first", sync_to_thread=True)
    def list_threads(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                     settings: SettingsDep,
                     target_kind: Annotated[Literal["asset", "scene", "node"] | None, QueryParameter()] = None,
                     target_id: Annotated[str | None, QueryParameter(max_length=64)] = None) -> ThreadsOut:
        with database.session() as db:
            found = service.threads(db, settings, identity.user, project_id, target_kind, target_id)
            marks = service.read_marks(db, identity.user, project_id)
            items = [thread_out(db, t, service.unread_in(t, identity.user, marks)) for t in found]
        return ThreadsOut(items=items, unread=sum(t.unread for t in items))

    @get("/summary", summary="Threads, open threads and unread comments per target, for badges",
         sync_to_thread=True)
    def summary(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                settings: SettingsDep) -> CommentsSummary:
        with database.session() as db:
            found = service.threads(db, settings, identity.user, project_id)
            marks = service.read_marks(db, identity.user, project_id)
        counts: dict[tuple[str, str, str | None], TargetCount] = {}
        for thread in found:
            key = (thread.target.kind, thread.target.id, thread.target.scene_id)
            count = counts.setdefault(key, TargetCount(target=thread.target, threads=0, open=0, unread=0))
            count.threads += 1
            count.open += not thread.resolved
            count.unread += service.unread_in(thread, identity.user, marks)
        return CommentsSummary(unread=sum(c.unread for c in counts.values()), targets=list(counts.values()))

    @post("", summary="Start a thread on an asset, a scene or a node (viewers may comment)", sync_to_thread=True)
    def start(self, project_id: FromPath[str], data: JSONBody[ThreadIn], identity: IdentityDep,
              database: DatabaseDep, settings: SettingsDep) -> ThreadOut:
        with database.transaction() as db:
            thread = service.start_thread(db, settings, identity.user, project_id, data.stored_target(),
                                          data.stored_pin(), data.clean_body())
            return thread_out(db, thread, 0)

    @get("/{thread_id:str}", summary="One thread", sync_to_thread=True)
    def get_thread(self, project_id: FromPath[str], thread_id: ThreadId, identity: IdentityDep,
                   database: DatabaseDep, settings: SettingsDep) -> ThreadOut:
        with database.session() as db:
            thread = service.one(db, settings, identity.user, project_id, thread_id)
            marks = service.read_marks(db, identity.user, project_id)
            return thread_out(db, thread, service.unread_in(thread, identity.user, marks))

    @post("/{thread_id:str}/replies", summary="Reply in a thread", sync_to_thread=True)
    def reply(self, project_id: FromPath[str], thread_id: ThreadId, data: JSONBody[CommentIn],
              identity: IdentityDep, database: DatabaseDep, settings: SettingsDep) -> ThreadOut:
        with database.transaction() as db:
            thread = service.reply(db, settings, identity.user, project_id, thread_id, data.clean_body())
            return thread_out(db, thread, 0)

    @patch("/{thread_id:str}", summary="Resolve or reopen a thread", sync_to_thread=True)
    def resolve(self, project_id: FromPath[str], thread_id: ThreadId, data: JSONBody[ThreadPatch],
                identity: IdentityDep, database: DatabaseDep, settings: SettingsDep) -> ThreadOut:
        with database.transaction() as db:
            thread = service.set_resolved(db, settings, identity.user, project_id, thread_id, data.resolved)
            marks = service.read_marks(db, identity.user, project_id)
            return thread_out(db, thread, service.unread_in(thread, identity.user, marks))

    @post("/{thread_id:str}/read", summary="Mark a thread read (and its lines in the inbox)", status_code=204,
          sync_to_thread=True)
    def read(self, project_id: FromPath[str], thread_id: ThreadId, identity: IdentityDep, database: DatabaseDep,
             settings: SettingsDep) -> None:
        with database.transaction() as db:
            service.read(db, settings, identity.user, project_id, thread_id)

    @patch("/{thread_id:str}/comments/{comment_id:str}", summary="Edit your comment", sync_to_thread=True)
    def edit(self, project_id: FromPath[str], thread_id: ThreadId, comment_id: FromPath[str],
             data: JSONBody[CommentIn], identity: IdentityDep, database: DatabaseDep,
             settings: SettingsDep) -> ThreadOut:
        with database.transaction() as db:
            thread = service.edit(db, settings, identity.user, project_id, thread_id, comment_id, data.clean_body())
            marks = service.read_marks(db, identity.user, project_id)
            return thread_out(db, thread, service.unread_in(thread, identity.user, marks))

    @delete("/{thread_id:str}/comments/{comment_id:str}",
            summary="Delete a comment (yours; any, for owners of the project and administrators)",
            sync_to_thread=True)
    def remove(self, project_id: FromPath[str], thread_id: ThreadId, comment_id: FromPath[str],
               identity: IdentityDep, database: DatabaseDep, settings: SettingsDep) -> None:
        with database.transaction() as db:
            service.delete(db, settings, identity.user, project_id, thread_id, comment_id)


class InboxController(Controller):
    path = "/api/v1/inbox"
    tags = ("comments",)

    @get("", summary="Your notifications, newest first, and how many are unread", sync_to_thread=True)
    def list_inbox(self, identity: IdentityDep, database: DatabaseDep,
                   limit: Annotated[int, QueryParameter(ge=1, le=100)] = 30,
                   cursor: Annotated[str | None, QueryParameter(max_length=64)] = None) -> InboxOut:
        with database.session() as db:
            lines, unread = inbox.visible(db, identity.user, limit + 1, cursor)
            people = users_by_id(db, {line.by for line in lines if line.by})
        items = [notification_out(line, people) for line in lines[:limit]]
        return InboxOut(items=items, unread=unread, next_cursor=items[-1].id if len(lines) > limit else None)

    @post("/read", summary="Mark lines of your inbox read (all of them without ids)", sync_to_thread=True,
          status_code=200)
    def mark_read(self, data: JSONBody[InboxRead], identity: IdentityDep, database: DatabaseDep) -> UnreadOut:
        with database.transaction() as db:
            return UnreadOut(unread=inbox.mark_read(db, identity.user, data.ids))



