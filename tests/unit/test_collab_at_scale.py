"""Many scenes of one project edited at once: what each edit costs the server beyond its own room.

Real rooms on a real update log (SQLite); the peers stand for the browsers' sockets.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path
from typing import Any

from pycrdt import Doc, Map, create_update_message

from mediastudio.collab.document import new_document
from mediastudio.collab.log import UpdateLog
from mediastudio.collab.room import Member, Room, load_document
from mediastudio.graph import Graph
from support import run_async

SCENES, EDITS = 20, 5


def _graph(nodes: int) -> Graph:
    return Graph.model_validate({"nodes": {f"n{i}": {"type": "seed", "title": f"Node {i}", "position": {"x": i, "y": 0},
                                                     "params": {"value": 0}, "bypass": False} for i in range(nodes)},
                                 "edges": {}})


def _edits(room: Room, count: int, node: str = "n0") -> list[bytes]:
    """`count` successive changes of `node`'s value, as a browser holding the room's document sends them."""
    client: Doc[Any] = Doc()
    client.apply_update(room.doc.get_update())
    updates = []
    for value in range(1, count + 1):
        before = client.get_state()
        client.get("nodes", type=Map)[node]["params"]["value"] = value
        updates.append(client.get_update(before))
    return updates


class Socket:
    """Stands for a browser's socket: keeps what the server sent it, in order."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def send(self, data: bytes) -> None:
        self.received.append(data)

    async def close(self, code: int, reason: str) -> None:
        pass


class Transactions:
    """Counts the transactions a SQLite connection commits, from the statements it runs."""

    def __init__(self) -> None:
        self.count = 0
        self.open = False

    def __call__(self, statement: str) -> None:
        word = statement.strip().split(None, 1)[0].upper() if statement.strip() else ""
        if word == "BEGIN":
            self.open = True
        elif word in ("COMMIT", "END", "ROLLBACK"):
            self.count += word != "ROLLBACK"
            self.open = False
        elif word in ("INSERT", "UPDATE", "DELETE", "REPLACE") and not self.open:
            self.count += 1  # a write outside a transaction commits on its own


def test_edits_arriving_in_many_scenes_at_once_share_commits_and_all_reach_the_log(tmp_path: Path) -> None:
    update_log = UpdateLog(tmp_path)
    rooms = []
    for index in range(SCENES):
        doc = new_document(_graph(3), epoch=1)
        update_log.start(f"s{index}", doc.get_update(), epoch=1)
        rooms.append(Room(f"s{index}", doc, update_log, 0))
    edits = {room.scene_id: _edits(room, EDITS) for room in rooms}
    counted = Transactions()
    update_log._db.set_trace_callback(counted)

    async def edit(room: Room) -> None:
        for update in edits[room.scene_id]:
            await room.apply(update, "u_ana")

    async def everyone() -> None:
        await asyncio.gather(*(edit(room) for room in rooms))

    run_async(everyone())
    update_log._db.set_trace_callback(None)
    # One transaction per edit before: 100 commits for 100 edits, each a hop to a shared worker thread.
    assert counted.count <= SCENES * EDITS // 4, f"{counted.count} transactions for {SCENES * EDITS} edits"
    for room in rooms:  # every edit is in the log, in order: the document reloads with the last value
        loaded = load_document(update_log, room.scene_id)
        assert loaded is not None
        assert loaded[0].get("nodes", type=Map)["n0"]["params"]["value"] == EDITS
    update_log.close()


def test_edits_arriving_together_in_one_scene_share_a_commit_and_are_relayed_in_order(tmp_path: Path) -> None:
    """The room's lock is not held while an update's transaction commits: the editors of one busy scene do not
    queue behind one commit each, and everyone still receives the updates in the order they were applied."""
    update_log = UpdateLog(tmp_path)
    doc = new_document(_graph(SCENES), epoch=1)
    update_log.start("s", doc.get_update(), epoch=1)
    room = Room("s", doc, update_log, 0)
    watcher = Member(peer=Socket(), user={"id": "u_bo", "name": "Bo", "color": "#123456"}, can_write=True)
    room.members.append(watcher)
    updates = [_edits(room, 1, node=f"n{i}")[0] for i in range(SCENES)]  # one edit by each of 20 editors
    counted = Transactions()
    update_log._db.set_trace_callback(counted)

    async def everyone() -> None:
        await asyncio.gather(*(room.apply(update, f"u_{i}") for i, update in enumerate(updates)))

    run_async(everyone())
    update_log._db.set_trace_callback(None)
    # One commit after another before, the room's lock held across each: 20 transactions for 20 edits.
    assert counted.count <= SCENES // 4, f"{counted.count} transactions for {SCENES} edits of one scene"
    assert watcher.peer.received == [create_update_message(update) for update in updates]
    loaded = load_document(update_log, "s")
    assert loaded is not None
    assert all(loaded[0].get("nodes", type=Map)[f"n{i}"]["params"]["value"] == 1 for i in range(SCENES))
    update_log.close()


def test_checking_an_update_subscribes_no_observer_and_still_says_what_changed(tmp_path: Path) -> None:
    """What an update changed is read from observers the room subscribed once: subscribing per update made
    pycrdt take each callback's `inspect.signature` (three a keystroke), more work than applying it."""
    update_log = UpdateLog(tmp_path)
    doc = new_document(_graph(3), epoch=1)
    update_log.start("s", doc.get_update(), epoch=1)
    room = Room("s", doc, update_log, 0)
    updates = _edits(room, EDITS, node="n2")
    signatures = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal signatures
        if event == "call" and frame.f_code is inspect.signature.__code__:
            signatures += 1

    async def the_rest() -> list[set[str]]:
        await room.apply(updates[0], "u_ana")  # the first one may subscribe
        sys.setprofile(count)
        try:
            return [await _credited(room, update) for update in updates[1:]]
        finally:
            sys.setprofile(None)

    credited = run_async(the_rest())
    assert signatures == 0, f"{signatures} signatures taken for {EDITS - 1} updates"
    assert credited == [{"n2"}] * (EDITS - 1)  # each update is credited with the node it changed
    assert room.window["u_ana"] == EDITS
    update_log.close()


async def _credited(room: Room, update: bytes) -> set[str]:
    """Apply an update as a browser's and answer what the room noted it changed."""
    room.edited.clear()
    await room.apply(update, "u_ana")
    return set(room.edited)
