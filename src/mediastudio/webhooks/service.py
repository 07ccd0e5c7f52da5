"""Webhooks: users register URLs for the task events of their projects; deliveries are signed JSON,
retried with backoff, logged, and sent by the server's own loop, so the queue never waits for them."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from mediastudio import __version__
from mediastudio.auth.models import User
from mediastudio.common import new_id, utcnow
from mediastudio.db import Database
from mediastudio.errors import BadRequest, Forbidden, NotFound
from mediastudio.projects.access import require
from mediastudio.settings import Settings
from mediastudio.webhooks.models import Webhook, WebhookDelivery

log = logging.getLogger("mediastudio")
EVENTS = ("task.queued", "task.started", "task.succeeded", "task.failed", "task.cancelled")
DEFAULT_EVENTS = ["task.succeeded", "task.failed", "task.cancelled"]
SIGNATURE_HEADER = "X-Mediastudio-Signature"
TIMEOUT_SECONDS = 10.0
PARALLEL = 4
MAX_URL = 2048


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> str | None:
    if address.is_link_local or address.is_multicast or address.is_unspecified or address.is_reserved:
        return "link-local, multicast and reserved addresses are never webhook targets"
    if not allow_private and (address.is_private or address.is_loopback):
        return "this server does not send webhooks to private or loopback addresses"
    return None


def check_url(url: str, allow_private: bool) -> str:
    """The URL, if it is an acceptable webhook target; a 400 naming what is wrong otherwise."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise BadRequest(f"The URL is longer than {MAX_URL} characters.", field="url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BadRequest("A webhook URL starts with http:// or https://.", field="url")
    if not parts.hostname:
        raise BadRequest("The webhook URL has no host name.", field="url")
    if parts.username or parts.password:
        raise BadRequest("Put no user name or password in the URL; check the signature header instead.",
                         hint=f"Each delivery is signed with your secret in {SIGNATURE_HEADER}.", field="url")
    if parts.fragment:
        raise BadRequest("A webhook URL has no #fragment.", field="url")
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise BadRequest("The URL's port is not a number between 1 and 65535.", field="url") from exc
    with contextlib.suppress(ValueError):
        problem = _address_problem(ipaddress.ip_address(parts.hostname), allow_private)
        if problem:
            raise BadRequest(f"Refused: {problem}.", field="url")
    return url


def resolve_problem(url: str, allow_private: bool) -> str | None:
    """Checked again when sending, against what the name resolves to now (no DNS rebinding)."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        return f"cannot resolve {parts.hostname}: {exc.strerror or exc}"
    for info in infos:
        problem = _address_problem(ipaddress.ip_address(info[4][0]), allow_private)
        if problem:
            return problem
    return None


# -- the service ----------------------------------------------------------------------------------
def create(db: Session, settings: Settings, actor: User, url: str, project_id: str | None, events: list[str] | None,
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


def listening(db: Session, event: dict[str, Any]) -> list[Webhook]:
    task = event.get("task") or {}
    hooks = db.exec(select(Webhook).where(col(Webhook.active) == True)).all()  # noqa: E712
    return [hook for hook in hooks if event["type"] in hook.events and (
        hook.project_id == task.get("project_id") if hook.project_id is not None
        else hook.owner_id == task.get("owner_id"))]


def queue_delivery(db: Session, hook: Webhook, event_type: str, data: dict[str, Any]) -> WebhookDelivery:
    delivery_id = new_id("whd")
    body = {"id": delivery_id, "event": event_type, "webhook_id": hook.id, "at": utcnow().isoformat(), **data}
    delivery = WebhookDelivery(id=delivery_id, webhook_id=hook.id, event_type=event_type,
                               task_id=(data.get("task") or {}).get("id"),
                               payload=json.dumps(body, separators=(",", ":"), sort_keys=True))
    db.add(delivery)
    return delivery


# -- the sender -----------------------------------------------------------------------------------
class WebhookDispatcher:
    """Turns task events into delivery rows and sends due deliveries, in the server's event loop."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.wake = asyncio.Event()
        self.loop_task: asyncio.Task[None] | None = None
        self.pending: set[asyncio.Task[Any]] = set()

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
        if event["type"] in EVENTS:
            job = asyncio.create_task(asyncio.to_thread(self._record, event))
            self.pending.add(job)
            job.add_done_callback(self.pending.discard)

    def _record(self, event: dict[str, Any]) -> None:
        with self.db.session() as db:
            hooks = listening(db, event)
            for hook in hooks:
                queue_delivery(db, hook, event["type"], {"task": event.get("task")})
            if hooks:
                db.commit()
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
                           .order_by(col(WebhookDelivery.next_attempt_at)).limit(50)).all()
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
        import httpx

        limit = asyncio.Semaphore(PARALLEL)
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            while True:
                due, wait = await asyncio.to_thread(self._due)
                if due:
                    await asyncio.gather(*(self._send(client, limit, d, h) for d, h in due))
                    continue
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), wait)

    async def _send(self, client: Any, limit: asyncio.Semaphore, delivery: WebhookDelivery, hook: Webhook) -> None:
        async with limit:
            body = delivery.payload.encode()
            status, error = None, None
            problem = await asyncio.to_thread(resolve_problem, hook.url, self.settings.webhook_allow_private)
            if problem:
                error = f"Refused: {problem}"
            else:
                try:
                    response = await client.post(hook.url, content=body, headers={
                        "Content-Type": "application/json", SIGNATURE_HEADER: sign(hook.secret, body),
                        "X-Mediastudio-Event": delivery.event_type, "X-Mediastudio-Delivery": delivery.id,
                        "User-Agent": f"Mediastudio/{__version__}"})
                    status = response.status_code
                    if not 200 <= status < 300:
                        error = f"The receiver answered {status}"
                except Exception as exc:  # network trouble: retried later
                    error = f"{type(exc).__name__}: {exc}"[:300]
            await asyncio.to_thread(self._outcome, delivery.id, status, error)

    def _outcome(self, delivery_id: str, status: int | None, error: str | None) -> None:
        with self.db.session() as db:
            delivery = db.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            delivery.attempts += 1
            delivery.response_status, delivery.error = status, error
            if error is None:
                delivery.status, delivery.delivered_at = "delivered", utcnow()
            elif delivery.attempts >= self.settings.webhook_max_attempts:
                delivery.status = "failed"
            else:
                backoff = self.settings.webhook_retry_seconds * 4 ** (delivery.attempts - 1)
                delivery.next_attempt_at = utcnow() + timedelta(seconds=backoff)
            db.add(delivery)
            db.commit()
