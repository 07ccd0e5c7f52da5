"""What the comment and inbox endpoints take and answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from mediastudio.api_types import text
from mediastudio.auth.tables import User
from mediastudio.comments.files import BODY_MAX, Pin, Target, Thread
from mediastudio.comments.tables import Notification
from mediastudio.common import UtcDatetime
from mediastudio.projects.schemas import users_by_id
from mediastudio.workspaces.schemas import MemberUser

# Any text a person types, new lines and tabs included but no other control character, and not only spaces.
# Written so that a regular expression engine checks it in linear time (the leading spaces and the first other
# character are told apart at once, then the rest is one run): a 4,000-character body costs microseconds.
BODY_TEXT = (r"^[ \t\n\r]*[^ \t\n\r\u0000-\u001f\u007f]"
             r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$")
BodyIn = Annotated[str, *text(min_length=1, max_length=BODY_MAX, pattern=BODY_TEXT,
                              message="must hold some text, and no control characters other than new lines and tabs",
                              description="The comment; @username mentions a member")]


class TargetIn(Target):
    """A thread's target as a client names it: fields it does not know are ignored (a file refuses them)."""

    model_config = ConfigDict(extra="ignore")


class PinIn(Pin):
    model_config = ConfigDict(extra="ignore")


class ThreadIn(BaseModel):
    target: TargetIn
    pin: PinIn | None = None
    body: BodyIn

    def stored_target(self) -> Target:
        return Target.model_validate(self.target.model_dump())

    def stored_pin(self) -> Pin | None:
        return Pin.model_validate(self.pin.model_dump()) if self.pin else None

    def clean_body(self) -> str:
        return self.body


class CommentIn(BaseModel):
    body: BodyIn

    def clean_body(self) -> str:
        return self.body


class ThreadPatch(BaseModel):
    resolved: bool = Field(description="true: resolve the thread; false: reopen it")


class CommentOut(BaseModel):
    id: str
    author: MemberUser | None = Field(description="Null when the account is gone")
    body: str = Field(description="Plain text: show it as text, never as HTML")
    mentions: list[MemberUser] = Field(description="The members it mentions (others' @names are plain text)")
    created_at: UtcDatetime
    edited_at: UtcDatetime | None


class ThreadOut(BaseModel):
    id: str
    target: Target
    pin: Pin | None
    resolved: bool
    resolved_by: MemberUser | None
    resolved_at: UtcDatetime | None
    created_by: MemberUser | None
    created_at: UtcDatetime
    unread: int = Field(description="Comments of others the caller has not read yet")
    comments: list[CommentOut]


class ThreadsOut(BaseModel):
    items: list[ThreadOut]
    unread: int = Field(description="Unread comments in these threads, for the caller")


class TargetCount(BaseModel):
    target: Target
    threads: int
    open: int = Field(description="Threads not resolved")
    unread: int


class CommentsSummary(BaseModel):
    unread: int = Field(description="Unread comments in the whole project, for the caller")
    targets: list[TargetCount]


class NotificationOut(BaseModel):
    id: str
    kind: Literal["mention", "reply", "run", "status"]
    project_id: str | None
    thread_id: str | None
    comment_id: str | None
    target_kind: str | None = Field(description="asset, scene, node or task: what to open")
    target_id: str | None
    scene_id: str | None
    by: MemberUser | None
    text: str = Field(description="A one-line excerpt, plain text")
    created_at: UtcDatetime
    read: bool


class InboxOut(BaseModel):
    items: list[NotificationOut]
    unread: int
    next_cursor: str | None = None


class InboxRead(BaseModel):
    ids: Annotated[list[Annotated[str, *text(max_length=64)]], Field(max_length=500)] | None = Field(
        None, description="The lines to mark read; leave out to mark them all read")


class UnreadOut(BaseModel):
    unread: int


def thread_out(db: Session, thread: Thread, unread: int, people: dict[str, User] | None = None) -> ThreadOut:
    ids = {thread.created_by, thread.resolved_by or "", *(c.author for c in thread.comments),
           *(m for c in thread.comments for m in c.mentions)} - {""}
    people = people if people is not None else users_by_id(db, ids)

    def who(user_id: str | None) -> MemberUser | None:
        user = people.get(user_id or "")
        return MemberUser.model_validate(user, from_attributes=True) if user else None

    return ThreadOut(
        id=thread.id, target=thread.target, pin=thread.pin, resolved=thread.resolved,
        resolved_by=who(thread.resolved_by), resolved_at=thread.resolved_at, created_by=who(thread.created_by),
        created_at=thread.created_at, unread=unread,
        comments=[CommentOut(id=c.id, author=who(c.author), body=c.body, created_at=c.created_at,
                             edited_at=c.edited_at, mentions=[m for m in map(who, c.mentions) if m is not None])
                  for c in thread.comments])


def notification_out(line: Notification, people: dict[str, User]) -> NotificationOut:
    by = people.get(line.by or "")
    return NotificationOut(id=line.id, kind=line.kind, project_id=line.project_id,
                           thread_id=line.thread_id, comment_id=line.comment_id, target_kind=line.target_kind,
                           target_id=line.target_id, scene_id=line.scene_id, text=line.text,
                           by=MemberUser.model_validate(by, from_attributes=True) if by else None,
                           created_at=line.created_at, read=line.read_at is not None)

