"""Webhooks: users register URLs for the task and comment events of their projects; deliveries are signed JSON,
retried with backoff, logged, and sent by the server's own loop, so the queue never waits for them."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, get_args

from litestar.di import NamedDependency
from sqlalchemy import Engine, literal_column
from sqlalchemy import event as sql_event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from mediastudio import __version__
from mediastudio.auth.tables import User
from mediastudio.common import new_id, utcnow
from mediastudio.db import Database
from mediastudio.errors import BadRequest, Conflict, Forbidden, MediastudioError, NotFound
from mediastudio.projects.access import require
from mediastudio.projects.tables import Project
from mediastudio.settings import Settings
from mediastudio.webhooks import sender
from mediastudio.webhooks.tables import Webhook, WebhookDelivery
from mediastudio.webhooks.targets import SIGNATURE_HEADER, check_url
from mediastudio.workspaces.roles import Action

__all__ = ["SIGNATURE_HEADER", "check_url"]  # the URL checks live in targets.py

log = logging.getLogger("mediastudio")
Event = Literal["task.queued", "task.started", "task.succeeded", "task.failed", "task.cancelled",
                "comment.created", "comment.updated", "comment.deleted", "comment.resolved", "comment.reopened"]
EVENTS: tuple[str, ...] = get_args(Event)
DEFAULT_EVENTS = ["task.succeeded", "task.failed", "task.cancelled"]
PARALLEL = 4
RECOUNT_S = 5.0  # the longest a count of active webhooks stands (a change made by another process)


class ActiveHooks:
    """How many webhooks are active, known without a query or a thread: counted again after a session of this
    process committed a change to a webhook row (creating one, turning one on or off, deleting one), and at least
    every RECOUNT_S. Most studios register none, and every run announces three task events; the database's own
    version changes with every write of any kind, so under load a count kept under it was asked for each event."""

    def __init__(self) -> None:
        self.changes = 0
        self._lock = threading.Lock()
        self._count: tuple[int, float, int] | None = None  # (changes seen, when, count)

    def changed(self) -> None:
        with self._lock:
            self.changes += 1

    def known(self) -> int | None:
        count = self._count
        if count is None or count[0] != self.changes or time.monotonic() - count[1] > RECOUNT_S:
            return None
        return count[2]

    def count(self, counting: Any) -> int:
        known = self.known()
        if known is not None:
            return known
        changes, at = self.changes, time.monotonic()  # read before counting: a change meanwhile counts again
        value = int(counting())
        self._count = (changes, at, value)
        return value


_ACTIVE: weakref.WeakKeyDictionary[Engine, ActiveHooks] = weakref.WeakKeyDictionary()
_ACTIVE_LOCK = threading.Lock()


def active_hooks(engine: Engine) -> ActiveHooks:
    """The count of the database `engine` opens (one per database of this process)."""
    with _ACTIVE_LOCK:
        found = _ACTIVE.get(engine)
        if found is None:
            found = _ACTIVE[engine] = ActiveHooks()
        return found


@sql_event.listens_for(OrmSession, "after_flush")
def _note_webhook_writes(session: OrmSession, _context: Any) -> None:
    if any(isinstance(row, Webhook) for rows in (session.new, session.dirty, session.deleted) for row in rows):
        bind = session.get_bind()
        session.info["webhooks_changed"] = getattr(bind, "engine", bind)


@sql_event.listens_for(OrmSession, "after_commit")
def _count_again(session: OrmSession) -> None:
    engine = session.info.pop("webhooks_changed", None)
    if isinstance(engine, Engine):
        active_hooks(engine).changed()


@sql_event.listens_for(OrmSession, "after_rollback")
def _forget(session: OrmSession) -> None:
    session.info.pop("webhooks_changed", None)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- the service ----------------------------------------------------------------------------------
def create(db: Session, settings: Settings, actor: User, url: str, project_id: str | None, events: Sequence[str] | None,
           description: str) -> Webhook:
    if actor.is_guest:
        raise Forbidden("Guests cannot register webhooks.", hint="Register an account to use webhooks.")
    unknown = [e for e in events or [] if e not in EVENTS]
    if unknown:
        raise BadRequest(f"Unknown event '{unknown[0]}'.", hint=f"Webhooks can send {', '.join(EVENTS)}.",
                         field="events")
    if project_id:
        require(db, actor, project_id, "edit")
    hook = Webhook(id=new_id("wh"), owner_id=actor.id, project_id=project_id or None,
                   url=check_url(url, settings.webhook_allow_private), secret=secrets.token_hex(24),
                   events=list(dict.fromkeys(events or DEFAULT_EVENTS)), description=description)
    db.add(hook)
    return hook


def owned(db: Session, actor: User, webhook_id: str) -> Webhook:
    hook = db.get(Webhook, webhook_id)
    if hook is None or (hook.owner_id != actor.id and not actor.is_admin):
        raise NotFound(f"No webhook '{webhook_id}' of yours.", hint="GET /api/v1/webhooks lists them.")
    return hook


def require_active(hook: Webhook) -> Webhook:
    if not hook.active:
        raise Conflict(f"This webhook is off. {hook.disabled_reason or ''}".strip(),
                       hint="Remove it and add it again once its owner has access to the project again.")
    return hook


def subject(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What a delivery reports: ("task", the task) for a task event, ("comment", the event's fields) for a
    comment event (its project, thread, comment, target and author; never the text)."""
    if event["type"].startswith("comment."):
        return "comment", {key: value for key, value in event.items() if key not in ("type", "version", "at")}
    return "task", event.get("task") or {}


def listening(db: Session, event: dict[str, Any]) -> list[Webhook]:
    """A project's hooks hear its events; a hook of no project hears its owner's tasks and the comments of
    the projects its owner may open (access_stop checks that)."""
    name, about = subject(event)
    hooks = db.exec(select(Webhook).where(col(Webhook.active) == True)).all()  # noqa: E712
    return [hook for hook in hooks if event["type"] in hook.events and (
        hook.project_id == about.get("project_id") if hook.project_id is not None
        else name == "comment" or hook.owner_id == about.get("owner_id"))]


# -- who may still hear ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Stop:
    """Why an event must not reach a hook; `disable`: the hook itself is done (not only this event)."""

    reason: str
    disable: bool


def _may(db: Session, user: User, project_id: str, action: Action) -> bool:
    project = db.get(Project, project_id)
    if project is None:
        return False
    try:
        require(db, user, project_id, action, trashed=project.trashed_at is not None)
    except MediastudioError:
        return False
    return True


def access_stop(db: Session, hook: Webhook, task: dict[str, Any] | None) -> Stop | None:
    """Checked for every event and every delivery attempt: the owner must still be allowed what the hook
    needed when it was made (edit rights on its project), and see the project of the task it reports."""
    owner = db.get(User, hook.owner_id)
    if owner is None or owner.disabled:
        return Stop("Turned off: its owner's account is disabled.", disable=True)
    if owner.is_guest:
        return Stop("Turned off: guests cannot have webhooks.", disable=True)
    if hook.project_id is not None and not _may(db, owner, hook.project_id, "edit"):
        return Stop("Turned off: its owner can no longer edit this project (membership or role changed).",
                    disable=True)
    project_id = (task or {}).get("project_id")
    if hook.project_id is None and project_id and not _may(db, owner, project_id, "view"):
        return Stop("Not sent: you can no longer open this project.", disable=False)
    return None


def turn_off(db: Session, hook: Webhook, reason: str) -> None:
    hook.active, hook.disabled_reason = False, reason
    db.add(hook)
    log.info("webhook %s turned off: %s", hook.id, reason)


def queue_delivery(db: Session, hook: Webhook, event_type: str, data: dict[str, Any]) -> WebhookDelivery:
    delivery_id = new_id("whd")
    body = {"id": delivery_id, "event": event_type, "webhook_id": hook.id, "at": utcnow().isoformat(), **data}
    delivery = WebhookDelivery(id=delivery_id, webhook_id=hook.id, event_type=event_type,
                               task_id=(data.get("task") or {}).get("id"),
                               payload=json.dumps(body, separators=(",", ":"), sort_keys=True))
    db.add(delivery)
    return delivery


def newest_deliveries(db: Session, hook_id: str, limit: int) -> list[WebhookDelivery]:
    """The hook's `limit` newest deliveries, read in order on `NEWEST_DELIVERIES` (a hook's deliveries are kept:
    a busy one has thousands, each with its body)."""
    return list(db.exec(select(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == hook_id)
                        .order_by(col(WebhookDelivery.created_at).desc()).limit(limit)).all())


# -- the sender -----------------------------------------------------------------------------------
class WebhookDispatcher:
    """Turns task events into delivery rows and sends due deliveries, in the server's event loop."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.active = active_hooks(db.engine)
        self.wake = asyncio.Event()
        self.loop_task: asyncio.Task[None] | None = None
        self.pending: set[asyncio.Task[Any]] = set()
        self._heard: list[dict[str, Any]] = []  # events not recorded yet, in the order they came
        self._recorder: asyncio.Task[None] | None = None

    def start(self, events: Any) -> None:
        events.listeners.append(self.on_event)
        self.loop_task = asyncio.create_task(self._send_loop())

    async def stop(self) -> None:
        for task in [self.loop_task, *self.pending]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def on_event(self, event: dict[str, Any]) -> None:
        # Most studios register no webhook: while none was counted (ActiveHooks), a task event costs no worker
        # thread and no query.
        if event["type"] in EVENTS and self.active.known() != 0:
            self._heard.append(event)
            if self._recorder is None or self._recorder.done():
                self._recorder = asyncio.create_task(self._record_heard())
                self.pending.add(self._recorder)
                self._recorder.add_done_callback(self.pending.discard)

    async def _record_heard(self) -> None:
        """The events heard, recorded one after another in the order they came, on one worker thread at a time:
        each on a thread of its own, a comment's `resolved` could be recorded (and sent) before its `created`
        when the first one's look at the hooks took longer."""
        while self._heard:
            events, self._heard = self._heard, []
            await asyncio.to_thread(self._record_all, events)

    def _record_all(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            try:
                self._record(event)
            except Exception:  # one event's trouble (the database busy past its wait) does not lose the others
                log.exception("Recording the webhook deliveries of a %s event failed", event.get("type"))

    def _count_active(self) -> int:
        with self.db.session() as db:
            return len(db.exec(select(Webhook.id).where(col(Webhook.active) == True)).all())  # noqa: E712

    def _record(self, event: dict[str, Any]) -> None:
        if self.active.count(self._count_active) == 0:
            return
        with self.db.session() as db:
            queued = 0
            for hook in listening(db, event):
                name, about = subject(event)
                stop = access_stop(db, hook, about)
                if stop is None:
                    queue_delivery(db, hook, event["type"], {name: about})
                    queued += 1
                elif stop.disable:
                    turn_off(db, hook, stop.reason)
            db.commit()
            if queued:
                self.wake_soon()

    def wake_soon(self) -> None:
        with contextlib.suppress(RuntimeError):
            loop = self.loop_task.get_loop() if self.loop_task else None
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self.wake.set)

    def _due(self) -> tuple[list[tuple[WebhookDelivery, Webhook]], float]:
        now = utcnow()
        with self.db.session() as db:
            rows = db.exec(select(WebhookDelivery, Webhook).join(Webhook)
                           .where(col(WebhookDelivery.status) == "pending",
                                  col(WebhookDelivery.next_attempt_at) <= now)
                           .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.created_at),
                                     literal_column("webhook_deliveries.rowid"))  # recorded in that order
                           .limit(50)).all()
            upcoming = db.exec(select(WebhookDelivery.next_attempt_at)
                               .where(col(WebhookDelivery.status) == "pending",
                                      col(WebhookDelivery.next_attempt_at) > now)
                               .order_by(col(WebhookDelivery.next_attempt_at)).limit(1)).first()
        wait = 30.0
        if upcoming is not None:
            moment = upcoming if upcoming.tzinfo else upcoming.replace(tzinfo=now.tzinfo)
            wait = max(0.05, min(wait, (moment - now).total_seconds()))
        return [(d, h) for d, h in rows], wait

    async def _send_loop(self) -> None:
        limit = asyncio.Semaphore(PARALLEL)
        async with sender.new_client() as client:
            while True:
                # Cleared before the look, not after it: a delivery recorded while the look runs (its wake-up
                # set meanwhile) is then seen by the next look, at once. Cleared after it, that wake-up was lost
                # and the delivery waited for the next timer (up to 30 s: a test under load saw half of them late).
                self.wake.clear()
                due, wait = await asyncio.to_thread(self._due)
                if due:
                    # One hook's deliveries go one after another, in the order their events came (a comment's
                    # `created` before its `resolved`); different hooks' go side by side.
                    by_hook: dict[str, list[tuple[WebhookDelivery, Webhook]]] = {}
                    for delivery, hook in due:
                        by_hook.setdefault(hook.id, []).append((delivery, hook))
                    await asyncio.gather(*(self._send_in_order(client, limit, each) for each in by_hook.values()))
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), wait)

    async def _send_in_order(self, client: Any, limit: asyncio.Semaphore,
                             deliveries: list[tuple[WebhookDelivery, Webhook]]) -> None:
        for delivery, hook in deliveries:
            await self._send(client, limit, delivery, hook)

    async def _send(self, client: Any, limit: asyncio.Semaphore, delivery: WebhookDelivery, hook: Webhook) -> None:
        async with limit:
            stopped = await asyncio.to_thread(self._still_allowed, delivery, hook.id)
            if stopped:
                await asyncio.to_thread(self._outcome, delivery.id, None, stopped, final=True)
                return
            body = delivery.payload.encode()
            status, error = await sender.post(client, hook.url, body, {
                "Content-Type": "application/json", SIGNATURE_HEADER: sign(hook.secret, body),
                "X-Mediastudio-Event": delivery.event_type, "X-Mediastudio-Delivery": delivery.id,
                "User-Agent": f"Mediastudio/{__version__}"}, allow_private=self.settings.webhook_allow_private)
            await asyncio.to_thread(self._outcome, delivery.id, status, error)

    def _still_allowed(self, delivery: WebhookDelivery, hook_id: str) -> str | None:
        """None if the delivery may go now; else why not (the hook is turned off when its owner lost access)."""
        with self.db.session() as db:
            hook = db.get(Webhook, hook_id)
            if hook is None or not hook.active:
                return (hook.disabled_reason if hook else None) or "Not sent: the webhook is off."
            sent = json.loads(delivery.payload)
            stop = access_stop(db, hook, sent.get("task") or sent.get("comment"))
            if stop is None:
                return None
            if stop.disable:
                turn_off(db, hook, stop.reason)
                db.commit()
            return stop.reason

    def _outcome(self, delivery_id: str, status: int | None, error: str | None, *, final: bool = False) -> None:
        with self.db.session() as db:
            delivery = db.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            delivery.attempts += 1
            delivery.response_status, delivery.error = status, error
            if error is None:
                delivery.status, delivery.delivered_at = "delivered", utcnow()
            elif final or delivery.attempts >= self.settings.webhook_max_attempts:
                delivery.status = "failed"
            else:
                backoff = self.settings.webhook_retry_seconds * 4 ** (delivery.attempts - 1)
                delivery.next_attempt_at = utcnow() + timedelta(seconds=backoff)
            db.add(delivery)
            db.commit()


WebhooksDep = NamedDependency[WebhookDispatcher]
