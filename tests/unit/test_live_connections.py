"""The periodic re-check of open sockets (events/access.py) with thousands open: it checks a few at a time, so
the rights queries never fill the worker threads that requests need, while a signal about one user's rights
still re-checks that user's sockets at once."""

from __future__ import annotations

import asyncio

from mediastudio.events.access import SWEEP_AT_ONCE, Connection, LiveConnections
from support import run_async


def test_the_sweep_checks_a_few_sockets_at_a_time_and_a_signal_is_not_queued_behind_it() -> None:
    async def scenario() -> None:
        live = LiveConnections()
        running = peak = 0
        checked: list[str] = []
        swept_before: list[int] = []  # sockets the sweep had checked when the signalled one was checked
        signalled = asyncio.Event()

        def recheck_of(user_id: str):  # type: ignore[no-untyped-def]
            async def recheck() -> None:
                nonlocal running, peak
                running += 1
                peak = max(peak, running)
                await asyncio.sleep(0.01)  # a rights query in a worker thread
                checked.append(user_id)
                running -= 1
                if user_id == "u_revoked":
                    swept_before.append(len(checked) - 1)
                    signalled.set()
            return recheck

        for index in range(200):
            live.add(Connection(f"u_{index}", recheck_of(f"u_{index}")), 0.05, live.signals)
        live.add(Connection("u_revoked", recheck_of("u_revoked")), 0.05, live.signals)
        # Wait for the sweep to be under way (200 checks of 10 ms take 0.5 s at 4 at a time). Counted, not timed:
        # a busy machine that stalls this process for 0.1 s once made a fixed sleep see no check yet.
        for _ in range(1000):
            if checked:
                break
            await asyncio.sleep(0.005)
        assert 0 < len(checked) < 200
        live.on_event({"type": "access.changed", "user_id": "u_revoked"})
        await asyncio.wait_for(signalled.wait(), 10)
        assert swept_before[0] < 150  # the signal's check ran beside the sweep, not after its queue
        while len(set(checked)) < 201:
            await asyncio.sleep(0.02)
        assert peak <= SWEEP_AT_ONCE + 1  # the sweep's few, and the signal's own check
        for connection in list(live.connections):
            live.discard(connection)

    run_async(scenario())
