"""Task events and the webhook dispatcher (webhooks/service.py): with no webhook registered, an event costs no
worker thread and no query; once one is registered, every event is looked at again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mediastudio.auth.tables import User
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
