"""The comment and inbox events of `WS /api/v1/events` (docs/events.md): comment events reach the members of
the project's workspace (and webhooks that ask for them); a notification reaches the one person it is for."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mediastudio.events.schema import AddressedEvent, Event, omitted_if_none


class CommentEvent(Event):
    """A comment thread of a project changed, and who changed it."""

    workspace_id: str
    project_id: str
    thread_id: str
    comment_id: str | None = omitted_if_none("The comment it concerns; absent for a change of the whole thread")
    target_kind: Literal["asset", "scene", "node"]
    target_id: str = Field(description="The asset's, scene's or node's id")
    scene_id: str | None = omitted_if_none("For a node: the scene whose canvas holds it")
    by: str = Field(description="The user who made the change")


class CommentCreated(CommentEvent):
    """A comment was written: a new thread, or a reply (`comment_id`)."""

    type: Literal["comment.created"] = "comment.created"
    version: Literal[1] = 1


class CommentUpdated(CommentEvent):
    """A comment's text was edited."""

    type: Literal["comment.updated"] = "comment.updated"
    version: Literal[1] = 1


class CommentDeleted(CommentEvent):
    """A comment was deleted (the thread too when it was its last)."""

    type: Literal["comment.deleted"] = "comment.deleted"
    version: Literal[1] = 1


class CommentResolved(CommentEvent):
    """A thread was marked resolved."""

    type: Literal["comment.resolved"] = "comment.resolved"
    version: Literal[1] = 1


class CommentReopened(CommentEvent):
    """A resolved thread was opened again."""

    type: Literal["comment.reopened"] = "comment.reopened"
    version: Literal[1] = 1


class NotificationCreated(AddressedEvent):
    """A new line in the audience's inbox (a mention, a reply to their thread, a finished run of theirs)."""

    type: Literal["notification.created"] = "notification.created"
    version: Literal[1] = 1
    notification_id: str
    kind: Literal["mention", "reply", "run", "status"]
    project_id: str | None = Field(description="The project it concerns (null: none)")
    unread: int = Field(description="How many unread lines the inbox now has")
