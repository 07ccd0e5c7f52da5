"""One scene's live document: write-ahead log, relay to everyone else, presence, persistence to the repo.

A room is our own, small, on pycrdt's primitives (DESIGN.md "Collaboration"): updates are applied in
arrival order under one lock, logged before anyone else sees them, and viewers' writes are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from pycrdt import Doc, create_sync_message, create_update_message, handle_sync_message, read_message, write_message

from mediastudio.collab import awareness
from mediastudio.collab.document import apply_graph, graph_from_doc, new_document, repair
from mediastudio.collab.log import UpdateLog

log = logging.getLogger("mediastudio")

SYNC, AWARENESS = 0, 1
STEP1, STEP2, UPDATE = 0, 1, 2
MAX_MESSAGE_BYTES = 2 << 20
MAX_UPDATES_PER_SECOND = 60
MAX_AWARENESS_PER_SECOND = 30
COMPACT_EVERY = 500


class Peer(Protocol):
    async def send(self, data: bytes) -> None: ...
    async def close(self, code: int, reason: str) -> None: ...


@dataclass(eq=False)
class Member:
    peer: Peer
    user: dict[str, Any]  # {id, name, color}, from the session
    can_write: bool
    client_ids: set[int] = field(default_factory=set)
    window_start: float = 0.0
    updates_in_window: int = 0
    awareness_in_window: int = 0

    def allow(self, kind: int) -> bool:
        now = time.monotonic()
        if now - self.window_start >= 1.0:
            self.window_start, self.updates_in_window, self.awareness_in_window = now, 0, 0
        if kind == AWARENESS:
            self.awareness_in_window += 1
            return self.awareness_in_window <= MAX_AWARENESS_PER_SECOND
        self.updates_in_window += 1
        return self.updates_in_window <= MAX_UPDATES_PER_SECOND


class Room:
    def __init__(self, scene_id: str, doc: Doc, update_log: UpdateLog, last_id: int) -> None:
        self.scene_id = scene_id
        self.doc = doc
        self.log = update_log
        self.members: list[Member] = []
        self.presence: dict[int, tuple[int, dict[str, Any] | None]] = {}
        self.lock = asyncio.Lock()
        self.last_update_id = last_id
        self.updates_since_compaction = 0
        self.changed_at = 0.0  # last document change (monotonic)
        self.authors: Counter[str] = Counter()  # updates per user since the last commit

    @classmethod
    def open(cls, scene_id: str, update_log: UpdateLog, graph: dict[str, Any]) -> Room:
        """Load from the update log; only when there is none, build from the scene file (a new epoch)."""
        stored = update_log.load(scene_id)
        if stored.snapshot is None:
            # A distinct epoch per rebuild: a browser holding a copy of an earlier build sees that it differs
            # and reloads instead of merging (a lost log restarts from the file, and 1 would match again).
            epoch = int(time.time() * 1000)
            doc = new_document(graph, epoch=epoch)
            update_log.start(scene_id, doc.get_update(), epoch=epoch)
            return cls(scene_id, doc, update_log, 0)
        doc = Doc()
        doc.apply_update(stored.snapshot)
        for _, update in stored.updates:
            doc.apply_update(update)
        return cls(scene_id, doc, update_log, stored.updates[-1][0] if stored.updates else 0)

    # -- the wire ---------------------------------------------------------------------------------------
    async def join(self, member: Member) -> None:
        self.members.append(member)
        await member.peer.send(create_sync_message(self.doc))
        snapshot = [(cid, clock, state) for cid, (clock, state) in self.presence.items() if state is not None]
        if snapshot:
            await member.peer.send(bytes([AWARENESS]) + write_message(awareness.encode(snapshot)))

    async def leave(self, member: Member) -> None:
        if member in self.members:
            self.members.remove(member)
        gone = [(cid, self.presence[cid][0] + 1, None) for cid in member.client_ids if cid in self.presence]
        for cid in member.client_ids:
            self.presence.pop(cid, None)
        if gone:
            await self._broadcast(bytes([AWARENESS]) + write_message(awareness.encode(gone)), skip=member)

    async def receive(self, member: Member, message: bytes) -> None:
        if len(message) > MAX_MESSAGE_BYTES:
            await member.peer.close(1009, "Message too large")
            return
        if not message:
            return
        if message[0] == SYNC and len(message) > 1:
            await self._on_sync(member, message)
        elif message[0] == AWARENESS and member.allow(AWARENESS):
            await self._on_awareness(member, read_message(message[1:]))

    async def _on_sync(self, member: Member, message: bytes) -> None:
        kind = message[1]
        if kind == STEP1:
            await member.peer.send(create_step2(self.doc, message))
            return
        if not member.can_write:
            return  # viewers see everything live, but change nothing
        if not member.allow(SYNC):
            await member.peer.close(4429, "Too many updates per second")
            return
        update = read_message(message[2:])
        await self.apply(update, member.user["id"], skip=member)

    async def apply(self, update: bytes, user_id: str, skip: Member | None = None) -> None:
        """Log, apply and relay one document update, in arrival order."""
        async with self.lock:
            self.last_update_id = await asyncio.to_thread(self.log.append, self.scene_id, user_id, update)
            # Always relay: a deletion-only update does not move the state vector, yet it is news.
            self.doc.apply_update(update)
            self.changed_at = time.monotonic()
            self.authors[user_id] += 1
            self.updates_since_compaction += 1
            await self._broadcast(create_update_message(update), skip=skip)
            await self._repair()
            if self.updates_since_compaction >= COMPACT_EVERY:
                await self.compact()

    async def _repair(self) -> None:
        """Edges left dangling by concurrent edits (a connect to a node deleted meanwhile) are removed
        by the server, as an update of its own that everyone receives."""
        before = self.doc.get_state()
        if repair(self.doc):
            fix = self.doc.get_update(before)
            self.last_update_id = await asyncio.to_thread(self.log.append, self.scene_id, "system", fix)
            await self._broadcast(create_update_message(fix), skip=None)

    async def apply_graph(self, graph: dict[str, Any], user_id: str) -> None:
        """A REST edit: the same path as a browser's (log, apply, relay)."""
        scratch = Doc()
        scratch.apply_update(self.doc.get_update())
        before = scratch.get_state()
        apply_graph(scratch, graph)
        update = scratch.get_update(before)
        await self.apply(update, user_id)

    async def _on_awareness(self, member: Member, update: bytes) -> None:
        changed = []
        for client_id, clock, state in awareness.decode(update):
            if any(client_id in other.client_ids for other in self.members if other is not member):
                continue  # another connection's client (a relayed copy): only its own connection speaks for it
            if state is not None:
                state["user"] = member.user  # identity comes from the session, never the client
            member.client_ids.add(client_id)
            previous = self.presence.get(client_id)
            if previous is not None and previous[0] >= clock and previous[1] == state:
                continue
            self.presence[client_id] = (clock, state)
            changed.append((client_id, clock, state))
        if changed:
            await self._broadcast(bytes([AWARENESS]) + write_message(awareness.encode(changed)), skip=member)

    async def _broadcast(self, data: bytes, skip: Member | None) -> None:
        for other in list(self.members):
            if other is not skip:
                with contextlib.suppress(Exception):  # a closed peer is dropped by its own receive loop
                    await other.peer.send(data)

    async def compact(self) -> None:
        state, upto = self.doc.get_update(), self.last_update_id
        await asyncio.to_thread(self.log.compact, self.scene_id, state, upto)
        self.updates_since_compaction = 0

    def graph(self) -> dict[str, Any]:
        return graph_from_doc(self.doc)


def create_step2(doc: Doc, step1_message: bytes) -> bytes:
    """The reply to a client's sync step 1: the updates it lacks."""
    reply = handle_sync_message(step1_message[1:], doc)
    assert reply is not None
    return reply
