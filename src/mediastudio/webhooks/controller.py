"""/api/v1/webhooks: register URLs for task events, list them with their recent deliveries, remove them."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel import delete as delete_rows

from mediastudio.api_types import text
from mediastudio.audit.actions import Action
from mediastudio.audit.record import ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep
from mediastudio.common import Page, UtcDatetime
from mediastudio.db import DatabaseDep
from mediastudio.settings import SettingsDep
from mediastudio.webhooks import service
from mediastudio.webhooks.service import WebhooksDep
from mediastudio.webhooks.tables import Webhook, WebhookDelivery
from mediastudio.webhooks.targets import MAX_URL


class WebhookIn(BaseModel):
    url: Annotated[str, *text(max_length=MAX_URL, pattern=r"^https?://",
                              message="A webhook URL starts with http:// or https://.")] = Field(
        description="http(s) URL that receives JSON POSTs (a URL this server will not send to: 422)")
    project_id: str | None = Field(None, description="Task events of this project (you need edit rights); "
                                                     "none: events of your own tasks in any project")
    events: list[service.Event] | None = Field(None, description=f"Default: {', '.join(service.DEFAULT_EVENTS)}")
    description: str = Field("", max_length=200)


class WebhookOut(BaseModel):
    id: str
    url: str
    project_id: str | None
    events: list[str]
    description: str
    active: bool
    disabled_reason: str | None = Field(None, description="Why the server turned the webhook off (its owner lost "
                                                          "access to the project, the account was disabled)")
    created_at: UtcDatetime
    secret: str | None = Field(None, description=f"Shown once, when created: verify {service.SIGNATURE_HEADER} "
                                                 "(sha256=HMAC-SHA256 of the body with it)")

    @classmethod
    def of(cls, hook: Webhook, *, with_secret: bool = False) -> WebhookOut:
        return cls(id=hook.id, url=hook.url, project_id=hook.project_id, events=hook.events,
                   description=hook.description, active=hook.active, disabled_reason=hook.disabled_reason,
                   created_at=hook.created_at,
                   secret=hook.secret if with_secret else None)


class DeliveryOut(BaseModel):
    id: str
    event_type: str
    task_id: str | None
    status: str = Field(description="pending, delivered or failed (after the last retry)")
    attempts: int
    response_status: int | None
    error: str | None
    created_at: UtcDatetime
    next_attempt_at: UtcDatetime
    delivered_at: UtcDatetime | None


def _target(hook: Webhook) -> Target:
    # Only the URL's host: its path or user part may be the receiver's secret (many services put one there).
    return Target("webhook", hook.id, urlsplit(hook.url).hostname or "")


class WebhooksController(Controller):
    path = "/api/v1/webhooks"

    @post(summary="Register a webhook (the answer shows its signing secret once)", status_code=HTTP_201_CREATED,
          sync_to_thread=True)
    def create(self, data: JSONBody[WebhookIn], identity: IdentityDep, database: DatabaseDep,
               settings: SettingsDep, actor: ActorDep) -> WebhookOut:
        with database.transaction() as db:
            hook = service.create(db, settings, identity.user, data.url, data.project_id, data.events,
                                   data.description)
            record(db, actor, Action.WEBHOOK_CREATE, _target(hook),
                   {"project_id": hook.project_id, "events": data.events})
        return WebhookOut.of(hook, with_secret=True)

    @get(summary="Your webhooks", sync_to_thread=True)
    def list_hooks(self, identity: IdentityDep, database: DatabaseDep) -> Page[WebhookOut]:
        with database.session() as db:
            hooks = db.exec(select(Webhook).where(col(Webhook.owner_id) == identity.user.id)
                            .order_by(col(Webhook.created_at))).all()
        return Page(items=[WebhookOut.of(h) for h in hooks])

    @delete("/{webhook_id:str}", summary="Remove a webhook (pending deliveries are dropped)",
            status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def remove(self, webhook_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
               actor: ActorDep) -> None:
        with database.transaction() as db:
            hook = service.owned(db, identity.user, webhook_id)
            record(db, actor, Action.WEBHOOK_REMOVE, _target(hook))
            # One statement, not each delivery (and its body) loaded to be deleted: a busy hook has thousands.
            db.exec(delete_rows(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == hook.id))
            db.delete(hook)

    @get("/{webhook_id:str}/deliveries", summary="The webhook's deliveries, newest first, with their outcome",
         sync_to_thread=True)
    def deliveries(self, webhook_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                   limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50) -> Page[DeliveryOut]:
        with database.session() as db:
            hook = service.owned(db, identity.user, webhook_id)
            rows = service.newest_deliveries(db, hook.id, limit)
        return Page(items=[DeliveryOut.model_validate(r, from_attributes=True) for r in rows])

    @post("/{webhook_id:str}/ping", summary="Send a test delivery ('ping') now", status_code=202,
          sync_to_thread=True)
    def ping(self, webhook_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
             webhooks: WebhooksDep) -> DeliveryOut:
        with database.transaction() as db:
            hook = service.require_active(service.owned(db, identity.user, webhook_id))
            delivery = service.queue_delivery(db, hook, "ping", {"message": "Hello from Mediastudio"})
        webhooks.wake_soon()
        return DeliveryOut.model_validate(delivery, from_attributes=True)
