"""One event for many sockets is turned into JSON once per distinct view, not once per socket: with thousands of
event sockets open, encoding the same event for each was most of the cost of a broadcast."""

from __future__ import annotations

import asyncio
import json
import threading

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


def test_events_from_other_threads_arrive_in_order_and_wake_the_loop_once_per_batch() -> None:
    """Writers publish from worker threads: the loop is woken once for what arrived while it was busy, not once
    per event (each wake-up is a write to the loop's pipe and a turn of its ready queue)."""
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        bus = EventBus()
        bus.bind(loop)
        member = bus.subscribe("u_1", {"ws_team"})
        wakeups = 0
        wake = loop.call_soon_threadsafe

        def counted(callback, *args):  # type: ignore[no-untyped-def]
            nonlocal wakeups
            wakeups += 1
            return wake(callback, *args)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]

        def publish_all() -> None:
            for i in range(40):
                bus.publish(ProjectChanged(workspace_id="ws_team", project_id="p_1", by="u_1", summary=f"Edit {i}"))

        def from_a_thread() -> None:  # joined here, on the loop's thread: the loop is busy until they are all sent
            thread = threading.Thread(target=publish_all)
            thread.start()
            thread.join()

        from_a_thread()
        await asyncio.sleep(0)
        summaries = [json.loads(member.queue.get_nowait())["summary"] for _ in range(member.queue.qsize())]
        assert summaries == [f"Edit {i}" for i in range(40)]
        assert wakeups == 1, wakeups  # one for the batch the loop drained (before: 40)

        from_a_thread()  # and again, once the first batch was drained
        await asyncio.sleep(0)
        assert member.queue.qsize() == 40 and wakeups == 2

    run_async(scenario())
