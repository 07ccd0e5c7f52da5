"""The most asked reads are answered from memory while nothing they depend on changed (db.py `ReadCache`,
projects/access.py `may_read`, projects/answers.py), and every change — a right taken away, a commit by another
process, a scene file rewritten on disk — shows on the very next request."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from litestar import Litestar, get
from litestar.di import NamedDependency, Provide
from litestar.testing import TestClient
from sqlmodel import delete, text

from mediastudio.app import create_app
from mediastudio.db import Database, ReadCache
from mediastudio.settings import Settings
from mediastudio.workspaces.tables import Membership
from support import sql_statements

PASSWORD = "copper lantern ninety"


def statements(client: TestClient) -> AbstractContextManager[list[str]]:
    """Every SQL statement the app runs while the block runs."""
    return sql_statements(client.app.state.studio.db.engine)


def _headers(client: TestClient) -> dict[str, str]:
    headers = {"Cookie": f"ms_session={client.cookies['ms_session']}", "X-CSRF-Token": client.cookies["ms_csrf"]}
    client.cookies.clear()
    return headers


@pytest.fixture
def team(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str], dict[str, str]]]:
    """Ana's team workspace with Bob in it, a project there and one scene: (client, ana, bob, ids)."""
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/v1/auth/setup", json={"username": "ana", "password": PASSWORD}).status_code == 201
        ana = _headers(client)
        assert client.post("/api/v1/auth/register", json={"username": "bob", "password": PASSWORD}).status_code == 201
        bob = _headers(client)
        bob_id = client.get("/api/v1/auth/me", headers=bob).json()["user"]["id"]
        workspace = client.post("/api/v1/workspaces", json={"name": "Night unit"}, headers=ana).json()
        added = client.post(f"/api/v1/workspaces/{workspace['id']}/members", json={"username": "bob"}, headers=ana)
        assert added.status_code == 201, added.text
        project = client.post("/api/v1/projects", json={"name": "Harbour", "workspace_id": workspace["id"]},
                              headers=ana).json()
        scene = client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "Opening"}, headers=ana).json()
        yield client, ana, bob, {"workspace": workspace["id"], "project": project["id"], "scene": scene["id"],
                                 "bob": bob_id}


def _scene(client: TestClient, headers: dict[str, str], ids: dict[str, str]) -> tuple[int, dict]:
    response = client.get(f"/api/v1/projects/{ids['project']}/scenes/{ids['scene']}", headers=headers)
    return response.status_code, response.json()


def test_a_scene_asked_again_costs_no_query_while_nothing_changed(team) -> None:  # type: ignore[no-untyped-def]
    client, _, bob, ids = team
    first = _scene(client, bob, ids)
    assert first[0] == 200 and first[1]["name"] == "Opening" and first[1]["graph"] == {"nodes": {}, "edges": {}}
    with statements(client) as asked:
        for _ in range(20):
            assert _scene(client, bob, ids) == first
    assert asked == []


def test_a_right_taken_away_applies_to_the_very_next_read(team) -> None:  # type: ignore[no-untyped-def]
    client, ana, bob, ids = team
    assert _scene(client, bob, ids)[0] == _scene(client, bob, ids)[0] == 200
    removed = client.delete(f"/api/v1/workspaces/{ids['workspace']}/members/{ids['bob']}", headers=ana)
    assert removed.status_code == 204
    status, problem = _scene(client, bob, ids)
    assert status == 404 and "visible to you" in problem["detail"]
    assert _scene(client, ana, ids)[0] == 200


def test_a_commit_by_another_process_applies_to_the_very_next_read(team, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    from mediastudio.tables import open_database

    client, _, bob, ids = team
    assert _scene(client, bob, ids)[0] == _scene(client, bob, ids)[0] == 200
    other = open_database(settings.database_path)  # as a worker process or the command line opens it
    try:
        with other.transaction() as db:
            db.exec(delete(Membership).where(Membership.user_id == ids["bob"]))  # type: ignore[call-overload]
    finally:
        other.close()
    assert _scene(client, bob, ids)[0] == 404


def test_a_scene_file_rewritten_on_disk_is_answered_anew(team, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client, _, bob, ids = team
    assert _scene(client, bob, ids)[1]["name"] == "Opening"
    path = next(Path(settings.data_dir).glob(f"workspaces/*/projects/{ids['project']}/scenes/{ids['scene']}.json"))
    before = path.stat()
    path.write_text(path.read_text().replace('"Opening"', '"Closing"'))  # same size, in place, same tick
    assert path.stat().st_size == before.st_size
    assert _scene(client, bob, ids)[1]["name"] == "Closing"
    path.write_text("{not json")
    assert _scene(client, bob, ids)[0] == 404


def test_the_read_cache_keeps_an_answer_only_for_the_version_it_was_computed_at(tmp_path: Path) -> None:
    database = Database(tmp_path / "studio.db")
    database.migrate()
    cache: ReadCache[str] = ReadCache(database, size=2)
    computed: list[str] = []

    def compute(value: str):  # type: ignore[no-untyped-def]
        return lambda: computed.append(value) or value

    assert cache.get_or_compute("a", compute("one")) == "one"
    assert cache.get_or_compute("a", compute("two")) == "one" and cache.known("a") == "one"
    with database.transaction() as db:  # a commit that changes nothing changes no version
        db.exec(delete(Membership).where(Membership.user_id == "nobody"))  # type: ignore[call-overload]
    assert cache.known("a") == "one"
    with database.transaction() as db:  # any change, by anyone
        db.exec(text("CREATE TABLE scratch (x INTEGER)"))
    assert cache.known("a") is None
    assert cache.get_or_compute("a", compute("three")) == "three"
    cache.get_or_compute("b", compute("b"))
    cache.get_or_compute("c", compute("c"))  # past its size: the least recently used goes
    assert cache.known("a") is None and computed == ["one", "three", "b", "c"]
    database.close()


def test_a_handlers_dependencies_are_resolved_in_the_requests_own_task(settings: Settings) -> None:
    create_app(settings)  # installs the app's way of resolving dependencies
    seen: dict[str, object] = {}

    def first() -> int:
        seen["first"] = asyncio.current_task()
        return 1

    def second() -> int:
        seen["second"] = asyncio.current_task()
        return 2

    @get("/sum", sync_to_thread=False)
    def total(one: NamedDependency[int], two: NamedDependency[int]) -> dict[str, int]:
        return {"sum": one + two}

    @get("/task")
    async def task(one: NamedDependency[int], two: NamedDependency[int]) -> dict[str, int]:
        seen["handler"] = asyncio.current_task()
        return {"sum": one + two}

    app = Litestar([total, task], dependencies={"one": Provide(first, sync_to_thread=False),
                                               "two": Provide(second, sync_to_thread=False)})
    with TestClient(app) as client:
        assert client.get("/sum").json() == {"sum": 3}
        assert client.get("/task").json() == {"sum": 3}
    assert seen["first"] is seen["second"] is seen["handler"]  # no task spawned per dependency


def test_the_projects_page_asked_again_costs_no_query_and_shows_every_change_at_once(  # type: ignore[no-untyped-def]
        team, settings: Settings) -> None:
    from mediastudio.tables import open_database

    client, ana, bob, ids = team

    def names(headers: dict[str, str]) -> list[str]:
        response = client.get("/api/v1/projects", params={"sort": "name"}, headers=headers)
        assert response.status_code == 200, response.text
        return [p["name"] for p in response.json()["items"]]

    assert names(bob) == ["Harbour"]
    with statements(client) as asked:
        for _ in range(20):
            assert names(bob) == ["Harbour"]
    assert asked == []
    client.post("/api/v1/projects", json={"name": "Aurora", "workspace_id": ids["workspace"]}, headers=ana)
    assert names(bob) == ["Aurora", "Harbour"]
    other = open_database(settings.database_path)  # another process takes Bob out of the team
    try:
        with other.transaction() as db:
            db.exec(delete(Membership).where(Membership.user_id == ids["bob"],  # type: ignore[call-overload]
                                             Membership.workspace_id == ids["workspace"]))
    finally:
        other.close()
    assert names(bob) == []
    assert names(ana) == ["Aurora", "Harbour"]


def test_a_member_removed_or_lowered_is_refused_the_very_next_scene_write(team) -> None:  # type: ignore[no-untyped-def]
    client, ana, bob, ids = team
    scenes = f"/api/v1/projects/{ids['project']}/scenes"
    for name in ("One", "Two"):  # asked twice: any answer kept from the first would serve the second
        assert client.post(scenes, json={"name": name}, headers=bob).status_code == 201
    lowered = client.put(f"/api/v1/projects/{ids['project']}/roles/{ids['bob']}", json={"role": "viewer"},
                         headers=ana)
    assert lowered.status_code == 200, lowered.text
    refused = client.post(scenes, json={"name": "Three"}, headers=bob)
    assert refused.status_code == 403 and "cannot change it" in refused.json()["detail"]
    renamed = client.patch(f"{scenes}/{ids['scene']}", json={"name": "Mine"}, headers=bob)
    assert renamed.status_code == 403
    removed = client.delete(f"/api/v1/workspaces/{ids['workspace']}/members/{ids['bob']}", headers=ana)
    assert removed.status_code == 204
    refused = client.post(scenes, json={"name": "Four"}, headers=bob)
    assert refused.status_code == 404 and "visible to you" in refused.json()["detail"]
    assert client.post(scenes, json={"name": "Five"}, headers=ana).status_code == 201
