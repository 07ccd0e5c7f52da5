"""The event bus: services publish (from any thread), subscribers are WebSocket connections.

Every event is JSON with a `type` and a `version`; each reaches only the members of its workspace.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from mediastudio.common import utcnow

log = logging.getLogger("mediastudio")
VERSION = 1
QUEUE_LIMIT = 1000  # a subscriber this far behind is dropped; it resyncs on reconnect


@dataclass(eq=False)
class Subscriber:
    user_id: str
    workspace_ids: set[str]
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    dropped: bool = False


class EventBus:
    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def subscribe(self, user_id: str, workspace_ids: set[str]) -> Subscriber:
        subscriber = Subscriber(user_id, workspace_ids)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def publish(self, event_type: str, *, workspace_id: str, **data: Any) -> None:
        """Thread-safe: hands the event to the event loop, which fans it out."""
        event = {"type": event_type, "version": VERSION, "at": utcnow().isoformat(), "workspace_id": workspace_id,
                 **data}
        if self.loop is None or self.loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._deliver(event)
        else:
            self.loop.call_soon_threadsafe(self._deliver, event)

    def _deliver(self, event: dict[str, Any]) -> None:
        for subscriber in list(self.subscribers):
            if event["workspace_id"] not in subscriber.workspace_ids:
                continue
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscriber.dropped = True
                self.subscribers.discard(subscriber)
