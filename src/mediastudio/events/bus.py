"""The event bus: services publish (from any thread), subscribers are WebSocket connections.

Every event is a model (events/schema.py; each feature defines its own types), sent as JSON with a `type`
and a `version`; listeners and subscribers get that JSON. Project and asset events reach the members of their
workspace; task events (`audience` = the task's owner) reach that owner and administrators (a shared one, a
scene's run, the members of its workspace as well); events with
no workspace (`queue.changed`) reach everyone, each subscriber seeing only its own tasks in them (admins
see all). With Redis (scale-out) events travel over a pub/sub channel, so a worker on another machine
reaches the server's clients; internal listeners (webhooks, the queue watcher) see every event.
`access.changed` (events/access.py) is internal: it re-checks open sockets and reaches no subscriber.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from litestar.di import NamedDependency
from litestar.serialization import encode_json

from mediastudio.events.access import ACCESS_CHANGED, LiveConnections
from mediastudio.events.schema import Event

log = logging.getLogger("mediastudio")
QUEUE_LIMIT = 1000  # a subscriber this far behind is dropped; it resyncs on reconnect


@dataclass(eq=False)
class Subscriber:
    user_id: str
    workspace_ids: set[str]
    is_admin: bool = False
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))  # events as JSON text
    dropped: bool = False


class Transport(Protocol):
    """Carries events between processes (Redis pub/sub); `start` calls `deliver` for every event seen."""

    def send(self, event: dict[str, Any]) -> None: ...
    def start(self, deliver: Callable[[dict[str, Any]], None]) -> None: ...
    def stop(self) -> None: ...


def view_for(subscriber: Subscriber, event: dict[str, Any]) -> dict[str, Any] | None:
    """What one subscriber may see of an event (None: nothing)."""
    if event.get("type") == ACCESS_CHANGED:
        return None
    audience = event.get("audience")
    if audience is not None and not event.get("shared"):
        return event if (audience == subscriber.user_id or subscriber.is_admin) else None
    workspace_id = event.get("workspace_id")
    if workspace_id is not None and workspace_id not in subscriber.workspace_ids:
        return None
    if event["type"] == "queue.changed" and not subscriber.is_admin:
        mine = [t for t in event.get("tasks", []) if t.get("owner_id") == subscriber.user_id]
        return {**event, "tasks": mine}
    return event


class EventBus:
    def __init__(self, transport: Transport | None = None) -> None:
        self.subscribers: set[Subscriber] = set()
        self.listeners: list[Callable[[dict[str, Any]], None]] = []  # called in the loop for every event
        self.loop: asyncio.AbstractEventLoop | None = None
        self.transport = transport
        self._handed: deque[dict[str, Any]] = deque()  # events from other threads, in order, for the loop
        self._handing = threading.Lock()
        self._woken = False  # the loop was asked to deliver `_handed` and has not yet
        self.live = LiveConnections()  # open sockets, re-checked when someone's rights change
        self.listeners.append(self.live.on_event)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        if self.transport is not None:
            self.transport.start(self._from_transport)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.stop()

    def subscribe(self, user_id: str, workspace_ids: set[str], is_admin: bool = False) -> Subscriber:
        subscriber = Subscriber(user_id, workspace_ids, is_admin)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def publish(self, model: Event) -> None:
        """Thread-safe: hands the event to the event loop (through the transport, if any), which fans it out."""
        event = model.model_dump(mode="json")
        if self.transport is not None:
            self.transport.send(event)
            return
        self._to_loop(event)

    def _from_transport(self, event: dict[str, Any]) -> None:
        self._to_loop(event)

    def _to_loop(self, event: dict[str, Any]) -> None:
        if self.loop is None or self.loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._deliver(event)
            return
        # Events from other threads wait in one queue, and the loop is woken once for all that arrive before it
        # drains them: waking it costs a write to its wake-up pipe and a trip through its ready queue, once per
        # event before (at 100 writers of one project, a few percent of the server's busy time).
        with self._handing:
            self._handed.append(event)
            if self._woken:
                return
            self._woken = True
        try:
            self.loop.call_soon_threadsafe(self._deliver_handed)
        except RuntimeError:  # the loop closed meanwhile: nothing will be delivered
            with self._handing:
                self._woken = False
                self._handed.clear()

    def _deliver_handed(self) -> None:
        with self._handing:
            events = list(self._handed)
            self._handed.clear()
            self._woken = False
        for event in events:
            self._deliver(event)

    def _deliver(self, event: dict[str, Any]) -> None:
        # JSON once per distinct view, not once per socket: most subscribers see the event itself. The view is
        # kept beside its text so its id cannot be reused by another view made during this loop.
        encoded: dict[int, tuple[dict[str, Any], str]] = {}
        for subscriber in list(self.subscribers):
            shown = view_for(subscriber, event)
            if shown is None:
                continue
            known = encoded.get(id(shown))
            if known is None:
                known = encoded[id(shown)] = (shown, encode_json(shown).decode())
            try:
                subscriber.queue.put_nowait(known[1])
            except asyncio.QueueFull:
                subscriber.dropped = True
                self.subscribers.discard(subscriber)
        # The listeners after the sockets: what they start (a worker thread recording an inbox line, the queue's
        # summary) is scheduled behind the sockets' relays, so it does not hold up the event on its way out.
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("An event listener failed on %s", event.get("type"))


EventsDep = NamedDependency[EventBus]
