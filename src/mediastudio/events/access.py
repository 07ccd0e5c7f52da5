"""Open WebSockets and the rights they were opened with.

A socket checks its caller's rights when it opens, but rights change while it stays open: a token is
revoked, a session ends, a member is removed, a role is lowered, an account is disabled. The places
that change rights call `access_changed(db, …)`; once their transaction commits the signal travels on
the event bus (through Redis too, to every server process) and each live connection of that user
checks again at once, closing itself or dropping to what is still allowed. A periodic check
(settings.live_recheck_seconds) catches what no signal announces: the `mediastudio users` commands,
which run in another process, and sessions or tokens that expire. Within one such sweep, the sockets
that ask the same question (the same session or token, about the same project) share one answer
(`LiveConnections.shared`): a thousand editors of one person's session cost one rights query, not a
thousand. A signal's checks never reuse an answer asked before the signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import Field
from sqlmodel import Session

from mediastudio.events.emit import emit
from mediastudio.events.schema import Event

log = logging.getLogger("mediastudio")
ACCESS_CHANGED = "access.changed"  # internal: never shown to subscribers, never sent to webhooks
SWEEP_AT_ONCE = 4  # sockets the periodic re-check checks at once: the rest of the worker threads stay for requests
T = TypeVar("T")
# The answers asked so far in the sweep running in this context (the sweep's own checks only): key → answer.
_sweep_answers: contextvars.ContextVar[dict[Hashable, asyncio.Future[Any]] | None] = contextvars.ContextVar(
    "sweep_answers", default=None)


class AccessChanged(Event):
    """Internal: someone's rights changed; their open sockets check again (reaches no client)."""

    internal: ClassVar[bool] = True
    type: Literal["access.changed"] = "access.changed"
    version: Literal[1] = 1
    user_id: str | None = Field(description="Whose rights changed (null: anyone's in workspace_id)")


def access_changed(db: Session, *, user_id: str | None = None, workspace_id: str | None = None) -> None:
    """Announce, once `db` commits, that `user_id`'s rights changed (None: anyone's in `workspace_id`)."""
    emit(db, AccessChanged(workspace_id=workspace_id, user_id=user_id))


@dataclass(eq=False)
class Connection:
    """One open socket: whose it is, and how it checks its rights again (closing or downgrading itself)."""

    user_id: str
    recheck: Callable[[], Awaitable[None]]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class LiveConnections:
    """The open sockets of this process, re-checked on an access signal and every `every` seconds."""

    def __init__(self) -> None:
        self.connections: set[Connection] = set()
        self.signals = 0  # access signals seen: a socket that checked before the latest one checks again
        self.every = 30.0
        self._sweeper: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def add(self, connection: Connection, every: float, checked_at: int) -> None:
        """Watch a socket whose rights were checked when `signals` was `checked_at`."""
        self.connections.add(connection)
        self.every = every
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        if checked_at != self.signals:  # rights changed while it was being admitted
            self._schedule(connection)

    def discard(self, connection: Connection) -> None:
        self.connections.discard(connection)
        if not self.connections and self._sweeper is not None:
            self._sweeper.cancel()  # nothing to watch: no task lingers past the last socket
            self._sweeper = None

    def on_event(self, event: dict[str, Any]) -> None:
        """An event bus listener (called in the loop): an access signal re-checks the sockets it names."""
        if event.get("type") != ACCESS_CHANGED:
            return
        self.signals += 1
        user_id = event.get("user_id")
        for connection in list(self.connections):
            if user_id is None or connection.user_id == user_id:
                self._schedule(connection)

    def _schedule(self, connection: Connection) -> None:
        task = asyncio.get_running_loop().create_task(self._run(connection))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _run(self, connection: Connection) -> None:
        if connection not in self.connections:
            return
        async with connection.lock:  # one check at a time per socket; a second signal checks again after
            try:
                await connection.recheck()
            except Exception:
                log.exception("Re-checking the rights of a live connection of user %s failed", connection.user_id)

    async def shared(self, key: Hashable, query: Callable[[], Awaitable[T]]) -> T:
        """What `query` answers (or raises). In a sweep, the checks asking with the same `key` (whatever the
        answer depends on: the session or token, the project) share one answer, asked by the first of them
        since the latest access signal; outside a sweep (a signal's check) every call asks anew."""
        answers = _sweep_answers.get()
        if answers is None:
            return await query()
        stamp = (key, self.signals)  # a signal during the sweep: the checks after it ask again
        answer = answers.get(stamp)
        if answer is None:
            answer = answers[stamp] = asyncio.ensure_future(query())
        return await asyncio.shield(answer)  # one check cancelled leaves the others' answer

    async def sweep(self) -> None:
        """Check every socket now, SWEEP_AT_ONCE at a time: each check is a rights query in a worker thread,
        and thousands started at once queued requests behind them (a rename waited seconds with 5,000 sockets
        open). The checks of one sweep share their answers (`shared`), which lives as long as the sweep."""
        async def checker(due: list[Connection]) -> None:
            while due:
                await self._run(due.pop())

        due = list(self.connections)
        token = _sweep_answers.set({})
        try:
            await asyncio.gather(*(checker(due) for _ in range(SWEEP_AT_ONCE)))
        finally:
            _sweep_answers.reset(token)

    async def _sweep(self) -> None:
        """Every `every` seconds after the last sweep ended, a sweep. A signal's check does not wait for it."""
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(self.every)
                await self.sweep()
