"""The periodic re-check of open sockets (events/access.py) with thousands open: it checks a few at a time, so
the rights queries never fill the worker threads that requests need, while a signal about one user's rights
still re-checks that user's sockets at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

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


def test_a_sweep_asks_once_for_the_sockets_of_one_session_on_one_project_and_still_closes_an_expired_one(
        tmp_path: Path) -> None:
    """A thousand editors of one session on one project were a thousand rights queries each sweep (each ~1 ms of
    worker-thread CPU, beside their edits). The sockets' own re-check (collab/controller.py) on a real database:
    a sweep asks once per session and project; a session that expired unannounced still closes its sockets,
    and a signal's check asks anew."""
    from datetime import timedelta
    from types import SimpleNamespace

    from mediastudio.accounts.users import create_user
    from mediastudio.app import build_studio
    from mediastudio.auth import sessions
    from mediastudio.auth.identity import Identity
    from mediastudio.auth.tables import AuthSession
    from mediastudio.collab.controller import _watch
    from mediastudio.collab.room import Member
    from mediastudio.common import utcnow
    from mediastudio.projects import service
    from mediastudio.settings import Settings
    from support import sql_statements

    studio = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    try:
        with studio.db.transaction() as db:
            ana = create_user(db, username="ana", password="violet tram sixteen")
            _, laptop = sessions.create_session(db, ana, days=1)
            _, phone = sessions.create_session(db, ana, days=1)
            project = service.create_project(db, studio.settings, ana, name="Film", workspace_id=None)

        class Peer:
            async def send(self, data: bytes) -> None:
                pass

            async def close(self, code: int, reason: str) -> None:
                pass

        live = studio.events.live
        members = {"laptop": [], "phone": []}  # type: dict[str, list[Member]]

        async def scenario() -> None:
            for name, session, count in (("laptop", laptop, 6), ("phone", phone, 3)):
                for _ in range(count):
                    socket = SimpleNamespace(scope={"auth": Identity(user=ana, via="session", session=session)},
                                             state=SimpleNamespace(checked_at=live.signals))
                    member = Member(peer=Peer(), user={"id": ana.id}, can_write=True)
                    members[name].append(member)
                    _watch(socket, project.id, member, True, studio.db, studio.events, studio.settings)  # type: ignore[arg-type]
            asking = lambda s: "FROM sessions" in s  # noqa: E731  one per rights query
            with sql_statements(studio.db.engine, asking) as queries:
                await live.sweep()
            assert len(queries) == 2, queries  # one per session, not one per socket
            assert not any(m.closed for ms in members.values() for m in ms)

            with studio.db.transaction() as db:  # the phone's session expires: no signal announces it
                row = db.get(AuthSession, phone.id)
                assert row is not None
                row.expires_at = utcnow() - timedelta(seconds=1)
            with sql_statements(studio.db.engine, asking) as queries:
                await live.sweep()
            assert len(queries) == 2, queries  # the next sweep asks again
            assert [m.closed for m in members["phone"]] == [True] * 3
            assert not any(m.closed for m in members["laptop"])

            with sql_statements(studio.db.engine, asking) as queries:
                live.on_event({"type": "access.changed", "user_id": ana.id})
                for _ in range(500):
                    if len(queries) >= 9:
                        break
                    await asyncio.sleep(0.01)
            assert len(queries) == 9, queries  # a signal's checks (all 9 sockets) share nothing asked before it
            for connection in list(live.connections):
                live.discard(connection)

        run_async(scenario())
    finally:
        studio.db.close()
