"""Task events and the webhook dispatcher (webhooks/service.py): with no webhook registered, an event costs no
worker thread and no query — also while other writes go on; once one is registered, every event is looked at
again; each database of the process keeps its own count."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mediastudio.auth.tables import User
from mediastudio.db import Database
from mediastudio.settings import Settings
from mediastudio.tables import open_database
from mediastudio.webhooks.service import WebhookDispatcher
from mediastudio.webhooks.tables import Webhook
from support import run_async


def test_task_events_cost_no_thread_while_no_webhook_is_registered(tmp_path: Path) -> None:
    database = open_database(tmp_path / "studio.db")
    dispatcher = WebhookDispatcher(database, Settings(data_dir=tmp_path, probe_gpu=False))
    event = {"type": "task.succeeded", "task": {"id": "t_1", "owner_id": "u_1", "project_id": None}}

    async def scenario() -> tuple[int, int]:
        dispatcher.on_event(event)  # the first one counts the webhooks (in a worker thread)
        await asyncio.gather(*dispatcher.pending)
        for _ in range(10):
            dispatcher.on_event(event)
        quiet = len(dispatcher.pending)
        with database.transaction() as db:
            db.add(User(id="u_1", username="ana", display_name="Ana", password_hash="x", color="#fff"))
            db.add(Webhook(id="wh_1", owner_id="u_1", url="https://example.com/hook", secret="s",
                           events=["task.succeeded"]))
        dispatcher.on_event(event)
        heard = len(dispatcher.pending)
        await asyncio.gather(*dispatcher.pending)
        return quiet, heard

    try:
        assert run_async(scenario()) == (0, 1)
    finally:
        database.close()


def _ana(database: Database) -> None:
    with database.transaction() as db:
        db.add(User(id="u_1", username="ana", display_name="Ana", password_hash="x", color="#fff"))


def test_other_writes_do_not_make_events_count_the_webhooks_again(tmp_path: Path) -> None:
    """Under load the database changes all the time (scenes, tasks, uploads): the count stands until a webhook
    row changes."""
    database = open_database(tmp_path / "studio.db")
    dispatcher = WebhookDispatcher(database, Settings(data_dir=tmp_path, probe_gpu=False))
    event = {"type": "task.started", "task": {"id": "t_1", "owner_id": "u_1", "project_id": None}}

    async def scenario() -> list[int]:
        dispatcher.on_event(event)
        await asyncio.gather(*dispatcher.pending)
        _ana(database)  # a write of something else
        dispatcher.on_event(event)
        after_other_write = len(dispatcher.pending)
        with database.transaction() as db:
            db.add(Webhook(id="wh_1", owner_id="u_1", url="https://example.com/hook", secret="s",
                           events=["task.started"]))
        dispatcher.on_event(event)
        after_new_hook = len(dispatcher.pending)
        await asyncio.gather(*dispatcher.pending)
        with database.transaction() as db:
            hook = db.get(Webhook, "wh_1")
            assert hook is not None
            hook.active = False
            db.add(hook)
        dispatcher.on_event(event)  # counts again: none active now
        await asyncio.gather(*dispatcher.pending)
        dispatcher.on_event(event)
        return [after_other_write, after_new_hook, len(dispatcher.pending)]

    try:
        assert run_async(scenario()) == [0, 1, 0]
    finally:
        database.close()


def test_each_database_keeps_its_own_count(tmp_path: Path) -> None:
    quiet_db, busy_db = open_database(tmp_path / "a.db"), open_database(tmp_path / "b.db")
    quiet = WebhookDispatcher(quiet_db, Settings(data_dir=tmp_path / "a", probe_gpu=False))
    busy = WebhookDispatcher(busy_db, Settings(data_dir=tmp_path / "b", probe_gpu=False))
    event = {"type": "task.succeeded", "task": {"id": "t_1", "owner_id": "u_1", "project_id": None}}
    _ana(busy_db)
    with busy_db.transaction() as db:
        db.add(Webhook(id="wh_1", owner_id="u_1", url="https://example.com/hook", secret="s",
                       events=["task.succeeded"]))

    async def scenario() -> tuple[int | None, int | None]:
        for dispatcher in (busy, quiet, busy):
            dispatcher.on_event(event)
            await asyncio.gather(*dispatcher.pending)
        return quiet.active.known(), busy.active.known()

    try:
        assert run_async(scenario()) == (0, 1)
    finally:
        quiet_db.close()
        busy_db.close()


def test_a_delivery_recorded_while_the_sender_looks_goes_out_at_once(tmp_path: Path) -> None:
    """The sender looks for due deliveries in a worker thread; a delivery recorded meanwhile wakes it. That wake-up
    was cleared when the look came back empty, and the delivery then waited for the sender's next timer (30 s
    with nothing else pending): under load, deliveries of a test's second task came late."""
    from mediastudio.webhooks.service import queue_delivery
    from support import WebhookReceiver

    database = open_database(tmp_path / "studio.db")
    _ana(database)
    receiver = WebhookReceiver()
    with database.transaction() as db:
        db.add(Webhook(id="wh_1", owner_id="u_1", url=receiver.url, secret="s", events=["task.started"]))
    dispatcher = WebhookDispatcher(database, Settings(data_dir=tmp_path, probe_gpu=False,
                                                      webhook_allow_private=True))
    real_due = dispatcher._due
    looks: list[int] = []

    def due() -> tuple[list, float]:
        found = real_due()
        looks.append(len(found[0]))
        if len(looks) == 1:  # recorded just after this look found nothing, before it returns
            with database.transaction() as db:
                hook = db.get(Webhook, "wh_1")
                assert hook is not None
                queue_delivery(db, hook, "task.started", {"task": {"id": "t_1", "owner_id": "u_1"}})
            dispatcher.wake_soon()
        return found

    dispatcher._due = due  # type: ignore[method-assign]

    async def scenario() -> float:
        dispatcher.loop_task = asyncio.create_task(dispatcher._send_loop())
        started = asyncio.get_running_loop().time()
        while not receiver.received and asyncio.get_running_loop().time() - started < 5.0:
            await asyncio.sleep(0.02)
        await dispatcher.stop()
        return asyncio.get_running_loop().time() - started

    try:
        took = run_async(scenario())
        assert len(receiver.received) == 1, (looks, took)
        assert took < 2.0 and looks[:2] == [0, 1], (looks, took)
    finally:
        receiver.close()
        database.close()


def test_one_hooks_deliveries_due_together_go_in_order(tmp_path: Path) -> None:
    """A comment created then resolved at once: both deliveries are due in the same look. They went side by side
    and could arrive the wrong way round (a test saw `resolved` before `created`); one hook's now go one after
    another, the second once the first is answered, while another hook's go meanwhile."""
    from mediastudio.webhooks.service import queue_delivery
    from support import WebhookReceiver

    database = open_database(tmp_path / "studio.db")
    _ana(database)
    slow, other = WebhookReceiver(slow_first=1.0), WebhookReceiver()
    with database.transaction() as db:
        db.add(Webhook(id="wh_1", owner_id="u_1", url=slow.url, secret="s", events=["comment.created"]))
        db.add(Webhook(id="wh_2", owner_id="u_1", url=other.url, secret="s", events=["comment.created"]))
    with database.transaction() as db:
        for hook_id in ("wh_1", "wh_2"):
            hook = db.get(Webhook, hook_id)
            assert hook is not None
            for event in ("comment.created", "comment.resolved"):
                queue_delivery(db, hook, event, {"comment": {"thread_id": "th_1"}})
    dispatcher = WebhookDispatcher(database, Settings(data_dir=tmp_path, probe_gpu=False,
                                                      webhook_allow_private=True))

    async def scenario() -> None:
        dispatcher.loop_task = asyncio.create_task(dispatcher._send_loop())
        started = asyncio.get_running_loop().time()
        while (len(slow.received) < 2 or len(other.received) < 2) \
                and asyncio.get_running_loop().time() - started < 5.0:
            await asyncio.sleep(0.02)
        await dispatcher.stop()

    try:
        run_async(scenario())
        import json

        for receiver in (slow, other):
            assert [json.loads(r["body"])["event"] for r in receiver.received] == ["comment.created",
                                                                                   "comment.resolved"]
        first, second = slow.received
        assert second["at"] >= first["answered"]  # sent once the first was answered
        assert other.received[1]["at"] < first["answered"]  # the other hook did not wait for the slow one
    finally:
        slow.close()
        other.close()
        database.close()


def test_events_heard_one_after_another_are_recorded_in_that_order(tmp_path: Path, monkeypatch: Any) -> None:
    """A comment created then resolved at once: each event's deliveries were recorded on a worker thread of their
    own, so when the first one's look at the hooks took longer (a busy machine), `resolved` was recorded, due and
    sent before `created` (a test under load saw it). They are recorded one after another, in the order the events
    came, so the sender finds them in that order."""
    import time

    import mediastudio.webhooks.service as service

    database = open_database(tmp_path / "studio.db")
    _ana(database)
    with database.transaction() as db:
        db.add(Webhook(id="wh_1", owner_id="u_1", url="https://example.com/hook", secret="s",
                       events=["comment.created", "comment.resolved"]))
    dispatcher = WebhookDispatcher(database, Settings(data_dir=tmp_path, probe_gpu=False))
    real_listening = service.listening

    def listening(db: Any, event: dict[str, Any]) -> Any:
        if event["type"] == "comment.created":
            time.sleep(0.3)  # the first event's look is the slow one
        return real_listening(db, event)

    monkeypatch.setattr(service, "listening", listening)
    comment = {"thread_id": "th_1", "project_id": None, "author_id": "u_1"}

    async def scenario() -> None:
        dispatcher.on_event({"type": "task.started", "task": {"id": "t_0", "owner_id": "u_2"}})  # counts the hooks
        while dispatcher.pending:
            await asyncio.gather(*list(dispatcher.pending))
        dispatcher.on_event({"type": "comment.created", "comment": comment})
        dispatcher.on_event({"type": "comment.resolved", "comment": comment})
        while dispatcher.pending:
            await asyncio.gather(*list(dispatcher.pending))

    try:
        run_async(scenario())
        due, _ = dispatcher._due()
        assert [delivery.event_type for delivery, _hook in due] == ["comment.created", "comment.resolved"]
    finally:
        database.close()
