"""One event for many sockets is turned into JSON once per distinct view, not once per socket: with thousands of
event sockets open, encoding the same event for each was most of the cost of a broadcast."""

from __future__ import annotations

import asyncio
import json

from mediastudio.events.bus import EventBus
from mediastudio.projects.events import ProjectChanged
from support import run_async


def test_an_event_is_encoded_once_for_every_subscriber_that_sees_the_same_thing() -> None:
    async def scenario() -> None:
        bus = EventBus()
        bus.bind(asyncio.get_running_loop())
        members = [bus.subscribe(f"u_{i}", {"ws_team"}) for i in range(50)]
        stranger = bus.subscribe("u_other", {"ws_elsewhere"})
        bus.publish(ProjectChanged(workspace_id="ws_team", project_id="p_1", by="u_1", summary="Renamed"))
        texts = [member.queue.get_nowait() for member in members]
        assert all(isinstance(text, str) for text in texts)
        assert len({id(text) for text in texts}) == 1  # one encoding, shared
        event = json.loads(texts[0])
        assert (event["type"], event["project_id"], event["summary"]) == ("project.changed", "p_1", "Renamed")
        assert stranger.queue.empty()

    run_async(scenario())
