"""One scene's live document: write-ahead log, relay to everyone else, presence, persistence to the repo.

A room is our own, small, on pycrdt's primitives (not pycrdt-websocket's YRoom, which races
on room creation and fans presence out O(N²)): updates are applied in
arrival order under one lock, logged before anyone else sees them, and viewers' writes are dropped.
A client's update is checked before it is logged: it must decode and keep the scene within bounds
(collab/limits.py), else it is refused, the document is left as it was and the connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pycrdt import (
    Doc,
    Map,
    create_sync_message,
    create_update_message,
    get_state,
    handle_sync_message,
    read_message,
    write_message,
)

from mediastudio.collab import awareness
from mediastudio.collab.activity import EDGES, GROUPS
from mediastudio.collab.document import (
    Changed,
    Fields,
    SceneDoc,
    apply_graph,
    graph_of,
    new_document,
    read_fields,
    repair,
)
from mediastudio.collab.limits import (
    MAX_AWARENESS_BYTES,
    MAX_AWARENESS_PER_SECOND,
    MAX_DOCUMENT_BYTES,
    MAX_EDGES_PER_NODE,
    MAX_MESSAGE_BYTES,
    PRESENCE_DROPPED,
    Budget,
)
from mediastudio.collab.log import UpdateLog
from mediastudio.errors import BadRequest, MediastudioError, Unprocessable
from mediastudio.graph import MAX_GROUPS, MAX_NODES, Graph

log = logging.getLogger("mediastudio")

SYNC, AWARENESS = 0, 1
NOTICE = 100  # the studio's own message type, server to client: one JSON object (docs/security/sockets.md)
STEP1, STEP2, UPDATE = 0, 1, 2
COMPACT_EVERY = 500
UNREADABLE = "This update could not be read."
RELOAD = "Reload the page; if it happens again, your browser's copy of the scene may be damaged."


class Closed(MediastudioError):
    """The room was shut (its project moved to the trash, its scene deleted): 4410 on a socket."""

    status = 410
    title = "Gone"


class Peer(Protocol):
    async def send(self, data: bytes) -> None: ...
    async def close(self, code: int, reason: str) -> None: ...


@dataclass(eq=False)
class Member:
    peer: Peer
    user: dict[str, Any]  # {id, name, color}, from the session
    can_write: bool
    client_ids: set[int] = field(default_factory=set)
    budget: Budget = field(default_factory=Budget)
    closed: bool = False

    async def close(self, code: int, reason: str) -> None:
        """Close once: a second close of the same socket is an ASGI error, and the peer may be gone."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await self.peer.close(code, reason[:120])


def _unusable(exc: BaseException) -> bool:
    """An error from pycrdt on hostile bytes: a ValueError, or a Rust panic (a BaseException)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _node_ids(events: list[Any]) -> set[str]:
    """The nodes a change of the `nodes` map touched: the first step of a nested change's path, or the
    keys set or deleted at the top."""
    found: set[str] = set()
    for event in events:
        path = list(getattr(event, "path", []) or [])
        if path:
            found.add(str(path[0]))
        else:
            found.update(str(key) for key in (getattr(event, "keys", None) or {}))
    return found


def load_document(update_log: UpdateLog, scene_id: str) -> tuple[SceneDoc, int] | None:
    """The document the log holds (None when it holds none); rows that do not decode are quarantined."""
    stored = update_log.load(scene_id)
    if stored.snapshot is None:
        return None
    doc: SceneDoc = Doc()
    try:
        doc.apply_update(stored.snapshot)
    except BaseException as exc:
        if not _unusable(exc):
            raise
        update_log.quarantine_scene(scene_id, f"snapshot does not decode: {exc}"[:300])
        log.warning("Scene %s: its saved document does not decode; it was moved to the collab log's "
                    "quarantine table and the scene is rebuilt from its file", scene_id)
        return None
    bad = []
    for row_id, update in stored.updates:
        try:
            get_state(update)  # decode first: a refused update leaves the document untouched
            doc.apply_update(update)
        except BaseException as exc:
            if not _unusable(exc):
                raise
            bad.append(row_id)
    if bad:  # set them aside, then build again without them: a failed apply may have left traces
        update_log.quarantine_updates(scene_id, bad, "update does not decode")
        log.warning("Scene %s: %d update(s) in the collab log do not decode; they were moved to its "
                    "quarantine table and the scene opens without them", scene_id, len(bad))
        return load_document(update_log, scene_id)
    return doc, stored.updates[-1][0] if stored.updates else 0


class Room:
    def __init__(self, scene_id: str, doc: SceneDoc, update_log: UpdateLog | None, last_id: int) -> None:
        """`update_log` None: a presence-only room (collab/controller.py), whose document nobody writes."""
        self.scene_id = scene_id
        self.doc = doc
        self._log = update_log
        self.members: list[Member] = []
        self.presence: dict[int, tuple[int, dict[str, Any] | None]] = {}
        self.lock = asyncio.Lock()
        self.last_update_id = last_id
        self.updates_since_compaction = 0
        self.logged_bytes = len(doc.get_update())  # the document plus updates since, as the log holds it
        self.changed_at = 0.0  # last document change (monotonic)
        # Credit goes only to updates that changed the document (a client's answer on joining, a reconnect's
        # state and presence change nothing), counted as each is applied, under the lock.
        self.authors: Counter[str] = Counter()  # changing updates per user since the last commit
        self.window: Counter[str] = Counter()  # changing updates per user since the last file write
        self.edited: dict[str, str] = {}  # what changed since the last file write (a node id, EDGES…) → who
        self.closed: str | None = None  # why the room was shut (trash, scene deleted): no more writes
        # Updates applied and queued for the log, not logged yet (in the order queued), and the relay of the last.
        self._logging: dict[asyncio.Future[int], bytes] = {}
        self._relayed: asyncio.Future[None] | None = None
        self._watched: SceneDoc | None = None  # the document whose changes `_changed` collects (see _take)
        self._changed: set[str] = set()
        self._unread = Changed()  # what changed in the watched document since `graph` last read it (`_watch`)
        self._graph: tuple[SceneDoc, Fields, Graph] | None = None  # (the document, what was read, its graph)
        self._subscriptions: list[Any] = []
        self.on_applied: Callable[[int], None] | None = None  # told how many updates each apply logged (Rooms)

    @property
    def log(self) -> UpdateLog:
        if self._log is None:
            raise RuntimeError(f"{self.scene_id} is a presence-only room: it keeps no update log")
        return self._log

    @classmethod
    def open(cls, scene_id: str, update_log: UpdateLog, graph: Graph) -> Room:
        """Load from the update log; only when there is none, build from the scene file (a new epoch)."""
        loaded = load_document(update_log, scene_id)
        if loaded is None:
            # A distinct epoch per rebuild: a browser holding a copy of an earlier build sees that it differs
            # and reloads instead of merging (a lost log restarts from the file, and 1 would match again).
            epoch = int(time.time() * 1000)
            doc = new_document(graph, epoch=epoch)
            update_log.start(scene_id, doc.get_update(), epoch=epoch)
            return cls(scene_id, doc, update_log, 0)
        doc, last_id = loaded
        return cls(scene_id, doc, update_log, last_id)

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
        """One message of a connection; a refused one closes it with 4000 + the error's HTTP status."""
        if member.closed or not message:
            return
        if len(message) > MAX_MESSAGE_BYTES:
            await member.close(1009, "Message too large")
            return
        try:
            if message[0] == SYNC and len(message) > 1:
                await self._on_sync(member, message)
            elif message[0] == AWARENESS:
                await self._on_awareness(member, message)
        except MediastudioError as refused:
            await member.close(4000 + refused.status, refused.detail)

    async def _on_sync(self, member: Member, message: bytes) -> None:
        kind = message[1]
        if kind == STEP1:
            member.budget.take_step1()
            async with self.lock:  # a reply never carries an update that is not logged yet
                await self._logged()
                reply = create_step2(self.doc, message)
            member.budget.take_reply(len(reply))
            await member.peer.send(reply)
            return
        if kind not in (STEP2, UPDATE):
            raise BadRequest("Unknown sync message.", hint=RELOAD)
        if not member.can_write:
            return  # viewers see everything live, but change nothing
        member.budget.take_update()
        try:
            update = read_message(message[2:])
        except Exception as exc:
            raise BadRequest(UNREADABLE, hint=RELOAD) from exc
        await self.apply(update, member.user["id"], skip=member)

    async def apply(self, update: bytes, user_id: str, skip: Member | None = None) -> None:
        """Check, log, apply and relay one document update, in arrival order.

        The room's lock covers only checking, applying and queueing the update for the log: the next update
        of the scene is taken while this one's transaction commits, and both may share it (collab/log.py).
        Each is relayed once it is logged, after every update queued before it."""
        async with self.lock:
            if self.closed is not None:
                raise Closed(self.closed, hint="Your last change did not reach it; reload the page.")
            news = self._take(update)  # applied to the document, which nobody sees until the update is logged
            logged = [(self._log_soon(user_id, update, bool(news)), update)]
            before_fix = self.doc.get_state()
            if repair(self.doc):  # edges left dangling by concurrent edits: the server's own fix follows
                fix = self.doc.get_update(before_fix)
                logged.append((self._log_soon("system", fix, True), fix))
            self.logged_bytes += sum(len(data) for _, data in logged)
            previous, relayed = self._relayed, asyncio.get_running_loop().create_future()
            self._relayed = relayed
        try:
            try:
                ids = [await asyncio.shield(answer) for answer, _ in logged]
            except BaseException:
                relayed.set_result(None)  # the updates after it need not wait for it
                await self._unlogged()  # not logged (or not known to be): the document keeps only what is
                raise
            if previous is not None:
                await asyncio.wait([previous])  # relayed in the order logged (its own failure is its sender's)
            self.last_update_id = max(self.last_update_id, *ids)
            if news:  # a joining client's answer holds nothing new: it changes no one's credit or quiet spell
                self._credit(user_id, news)
            self.updates_since_compaction += len(logged)
            if self.on_applied is not None:
                self.on_applied(len(logged))
            # Always relay: a deletion-only update does not move the state vector, yet it is news.
            await self._broadcast(create_update_message(update), skip=skip)
            for _, fix in logged[1:]:
                await self._broadcast(create_update_message(fix), skip=None)
        finally:
            if not relayed.done():
                relayed.set_result(None)
        if self.updates_since_compaction >= COMPACT_EVERY:
            async with self.lock:
                if self.updates_since_compaction >= COMPACT_EVERY:
                    await self.compact()

    def _log_soon(self, user_id: str, update: bytes, changed: bool) -> asyncio.Future[int]:
        answer = self.log.log_soon(self.scene_id, user_id, update, changed)
        self._logging[answer] = update
        answer.add_done_callback(lambda done: self._logging.pop(done, None))
        return answer

    async def _logged(self) -> None:
        """Wait until every update applied so far is logged (hold the lock: no more are applied meanwhile)."""
        if self._logging:
            await asyncio.wait(set(self._logging))

    async def _settled(self) -> None:
        """Wait until every update applied so far is logged and relayed (hold the lock)."""
        await self._logged()
        if self._relayed is not None:
            await asyncio.wait([self._relayed])

    async def _unlogged(self) -> None:
        """An update failed to be logged: once the updates queued with it are settled, the document again
        from the log, so it holds exactly what was logged."""
        async with self.lock:
            await self._logged()
            self._rebuild()

    def _credit(self, user_id: str, targets: set[str]) -> None:
        self.changed_at = time.monotonic()
        self.authors[user_id] += 1
        self.window[user_id] += 1
        for target in targets - {""}:
            if user_id != "system" or target not in self.edited:  # the server's own fix credits no one
                self.edited[target] = user_id

    def take_window(self) -> tuple[Counter[str], dict[str, str]]:
        """Who changed the document, and what, since the last call (a file write), and start again."""
        window, edited = self.window, self.edited
        self.window, self.edited = Counter(), {}
        return window, edited

    def _take(self, update: bytes) -> set[str]:
        """Apply `update` if it decodes and keeps the scene within bounds; else refuse it, the document
        unchanged. Checking on a copy of the document would cost ~20 ms a keystroke on a large scene.
        Answers what it changed: node ids, EDGES, GROUPS, "" for anything else; empty when it changed nothing
        (pycrdt calls observers only for a change)."""
        if self.logged_bytes + len(update) > MAX_DOCUMENT_BYTES:
            raise Unprocessable(f"This scene has grown past {MAX_DOCUMENT_BYTES >> 20} MiB.",
                                hint="Save a version, then split the scene in two.")
        try:
            get_state(update)  # decodes every part of it without touching the document
        except Exception as exc:
            raise BadRequest(UNREADABLE, hint=RELOAD) from exc
        doc = self.doc
        if self._watched is not doc:
            self._watch(doc)
        nodes, edges, groups = doc.get("nodes", type=Map), doc.get("edges", type=Map), doc.get("groups", type=Map)
        before = (len(nodes), len(edges), len(groups))
        changed = self._changed
        changed.clear()
        try:
            doc.apply_update(update)
        except BaseException as exc:
            if not _unusable(exc):
                raise
            self._rebuild()
            raise BadRequest(UNREADABLE, hint=RELOAD) from None
        limit = MAX_NODES  # the same bound as a graph saved over REST
        if len(nodes) > max(limit, before[0]) or len(edges) > max(limit * MAX_EDGES_PER_NODE, before[1]):
            self._rebuild()
            raise Unprocessable(f"A scene holds at most {limit} nodes and {limit * MAX_EDGES_PER_NODE} links.")
        if len(groups) > max(MAX_GROUPS, before[2]):
            self._rebuild()
            raise Unprocessable(f"A scene holds at most {MAX_GROUPS} groups.")
        return set(changed)

    def _watch(self, doc: SceneDoc) -> None:
        """Note in `_changed` what each change of `doc` touches. Subscribed once per document, not per update:
        subscribing costs pycrdt an `inspect.signature` of the callback, several times what applying a
        keystroke's update does."""
        changed, unread = self._changed, self._unread  # the callbacks hold these, never the room: pycrdt keeps
        # them where Python's cycle collector cannot see, and a room must be freed. A subscription ends when
        # dropped: kept here. (A deletion is seen too, though it leaves the state vector be.)

        def nodes_changed(events: list[Any]) -> None:
            touched = _node_ids(events)
            changed.update(touched)
            unread.nodes.update(touched)

        def edges_changed(_: Any) -> None:
            changed.add(EDGES)
            unread.edges = True

        def groups_changed(_: Any) -> None:
            changed.add(GROUPS)
            unread.groups = True

        self._subscriptions = [doc.observe(lambda _: changed.add("")),
                               doc.get("nodes", type=Map).observe_deep(nodes_changed),
                               doc.get("edges", type=Map).observe_deep(edges_changed),
                               doc.get("groups", type=Map).observe_deep(groups_changed)]
        self._watched = doc

    def _rebuild(self) -> None:
        """The document again from the log and the updates still on their way to it: an update applied but
        refused leaves no trace."""
        loaded = load_document(self.log, self.scene_id)
        if loaded is not None:
            self.doc, _ = loaded
            for update in list(self._logging.values()):  # logged meanwhile or not: applying twice is a no-op
                self.doc.apply_update(update)

    async def apply_graph(self, graph: Graph, user_id: str) -> None:
        """A REST edit: the same path as a browser's (check, log, apply, relay)."""
        await self.apply_edit(lambda scratch: apply_graph(scratch, graph), user_id)

    async def apply_edit(self, edit: Callable[[SceneDoc], Any], user_id: str) -> Any:
        """A server-side edit of the document (made on a copy, then the same path as a browser's update);
        answers what `edit` answered."""
        scratch: SceneDoc = Doc()
        scratch.apply_update(self.doc.get_update())
        before = scratch.get_state()
        answer = edit(scratch)
        update = scratch.get_update(before)
        await self.apply(update, user_id)
        return answer

    async def _on_awareness(self, member: Member, message: bytes) -> None:
        if len(message) > MAX_AWARENESS_BYTES:
            await member.close(1009, "Presence message too large")
            return
        if not member.budget.allow_awareness():
            if member.budget.first_awareness_dropped:  # told once a window, not once per dropped message
                with contextlib.suppress(Exception):
                    await member.peer.send(notice(type="slow-down", what="presence", limit=MAX_AWARENESS_PER_SECOND,
                                                  window_seconds=1, message=PRESENCE_DROPPED))
            return
        try:
            entries = awareness.decode(read_message(message[1:]))
        except Exception as exc:
            raise BadRequest("This presence message could not be read.", hint=RELOAD) from exc
        changed = []
        for client_id, clock, state in entries:
            if any(client_id in other.client_ids for other in self.members if other is not member):
                continue  # another connection's client (a relayed copy): only its own connection speaks for it
            if state is not None:
                if not isinstance(state, dict):
                    continue
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
            if other is not skip and not other.closed:
                with contextlib.suppress(Exception):  # a closed peer is dropped by its own receive loop
                    await other.peer.send(data)

    async def compact(self) -> None:
        await self._settled()
        state, upto = self.doc.get_update(), self.last_update_id
        await asyncio.to_thread(self.log.compact, self.scene_id, state, upto)
        self.updates_since_compaction = 0
        self.logged_bytes = len(state)

    async def shut(self, reason: str) -> None:
        """No more writes: waits for the update being applied, so what the document holds is final."""
        async with self.lock:
            self.closed = reason
            await self._settled()

    def graph(self) -> Graph:
        """The graph the document holds, read from it once per change, and then only what changed (the nodes
        touched, the edges, the groups): a run's request, a check of the scene and the file keeper (every 0.5 s
        while people edit) each asked for it, and reading every node of a 400-node scene took ~27 ms of the event
        loop. Read, never changed, by whoever gets it, as any graph handed around (a run's params hold it)."""
        doc = self.doc
        if self._watched is not doc:
            self._watch(doc)  # from here on each change of this document is noted
        kept = self._graph
        if kept is not None and kept[0] is doc and not self._unread:
            return kept[2]
        changed = self._unread.take()
        fields = read_fields(doc, kept[1], changed) if kept is not None and kept[0] is doc else read_fields(doc)
        made = graph_of(fields)
        self._graph = (doc, fields, made)
        return made


def notice(**fields: object) -> bytes:
    """A message of the studio's own type (NOTICE): a JSON object a y-websocket client ignores unless it
    registers a handler for the type (web/src/lib/collab/provider.ts does)."""
    return bytes([NOTICE]) + write_message(json.dumps(fields).encode())


def create_step2(doc: SceneDoc, step1_message: bytes) -> bytes:
    """The reply to a client's sync step 1: the updates it lacks."""
    try:
        reply = handle_sync_message(step1_message[1:], doc)
    except Exception as exc:
        raise BadRequest("This sync request could not be read.", hint=RELOAD) from exc
    assert reply is not None
    return reply
