"""The events socket's first message (`TaskSystem.hello_for`) is read once for the sockets one person opens at
once: kept while nothing is written to the database and the lanes' pauses are unchanged, for at most
`HELLO_KEPT_S` (its ETAs count down). Anything written, a lane paused, or the time passing makes it anew."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import mediastudio.tasks.system as system_module
from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.auth.tables import User
from mediastudio.settings import Settings
from mediastudio.studio import Studio


class Params(BaseModel):
    pass


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    made.tasks.kinds.add("test.idle", lambda ctx, params: {}, lane="cpu", params=Params, title=lambda _: "Idle",
                         needs="none", project=False)
    yield made
    made.db.close()


@pytest.fixture
def ana(studio: Studio) -> User:
    with studio.db.transaction() as db:
        return create_user(db, username="ana", password="violet tram sixteen")


def _counting(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    real = studio.tasks._hello

    def hello(user: User) -> Any:
        made.append(user.id)
        return real(user)

    monkeypatch.setattr(studio.tasks, "_hello", hello)
    return made


def test_a_hello_is_read_once_while_nothing_changes(studio: Studio, ana: User,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    made = _counting(studio, monkeypatch)
    first = studio.tasks.hello_for(ana)
    assert [studio.tasks.hello_for(ana) for _ in range(5)] == [first] * 5 and made == [ana.id]

    with studio.db.transaction() as db:  # a task recorded: the next hello shows it
        task = studio.tasks.new(db, ana, "test.idle", {}, None)
    assert [t.id for t in studio.tasks.hello_for(ana).tasks] == [task.id] and len(made) == 2

    studio.tasks.queue.set_paused(True, ("cpu",))  # written to the lane, not the database: seen at once
    assert {lane.name: lane.paused for lane in studio.tasks.hello_for(ana).queue.lanes}["cpu"] is True
    assert len(made) == 3

    monkeypatch.setattr(system_module, "HELLO_KEPT_S", 0.0)  # its time over: made anew
    studio.tasks.hello_for(ana)
    assert len(made) == 4


def test_each_person_has_their_own_hello(studio: Studio, ana: User, monkeypatch: pytest.MonkeyPatch) -> None:
    with studio.db.transaction() as db:
        ben = create_user(db, username="ben", password="violet tram sixteen")
        task = studio.tasks.new(db, ana, "test.idle", {}, None)
    assert [t.id for t in studio.tasks.hello_for(ana).tasks] == [task.id]
    assert studio.tasks.hello_for(ben).tasks == [] and studio.tasks.hello_for(ben).user_id == ben.id
