"""Someone else's task answers exactly like a task that does not exist: reading, cancelling, downloading, its log,
listing by its project or paging from its id tell nothing about whether it exists."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from kinds_for_tests import ENV as TEST_KINDS
from support import ApiClient, RunningServer, set_up_admin, start_server

ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0"}
NOBODYS_TASK = "t_0000000000000000"
NOBODYS_PROJECT = "p_0000000000000000"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("task-ids"), env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def people(server: RunningServer) -> tuple[ApiClient, ApiClient, dict, dict]:
    """(bob, eve, bob's task, bob's project): eve is a registered user who shares nothing with bob."""
    set_up_admin(server.url)
    bob, eve = ApiClient(server.url), ApiClient(server.url)
    bob.register("bob")
    eve.register("eve")
    project = bob.post("/api/v1/projects", json={"name": "Bob's film"}).json()
    task = bob.post("/api/v1/tasks", json={"kind": "test.sleep", "params": {"steps": 200, "step_seconds": 0.05}})
    assert task.status_code == 201, task.text
    return bob, eve, task.json(), project


def _same(theirs: httpx.Response, nobodys: httpx.Response, their_id: str, nobodys_id: str) -> None:
    assert theirs.status_code == nobodys.status_code
    assert theirs.headers["content-type"] == nobodys.headers["content-type"]
    assert theirs.text.replace(their_id, "ID") == nobodys.text.replace(nobodys_id, "ID")


def test_someone_elses_task_reads_like_no_task(people: tuple[ApiClient, ApiClient, dict, dict]) -> None:
    bob, eve, task, _ = people
    theirs, nobodys = task["id"], NOBODYS_TASK
    for method, suffix in (("GET", ""), ("POST", "/cancel"), ("GET", "/result"), ("GET", "/log"),
                           ("GET", "/log/download")):
        mine = eve.request(method, f"/api/v1/tasks/{theirs}{suffix}")
        assert mine.status_code == 404, (suffix, mine.text)
        _same(mine, eve.request(method, f"/api/v1/tasks/{nobodys}{suffix}"), theirs, nobodys)
    assert bob.get(f"/api/v1/tasks/{theirs}").json()["status"] in ("queued", "running")  # not cancelled by eve


def test_listing_by_someone_elses_project_or_task_tells_nothing(
        people: tuple[ApiClient, ApiClient, dict, dict]) -> None:
    _, eve, task, project = people
    by_project = eve.get("/api/v1/tasks", params={"project": project["id"]})
    _same(by_project, eve.get("/api/v1/tasks", params={"project": NOBODYS_PROJECT}), project["id"], NOBODYS_PROJECT)
    from_task = eve.get("/api/v1/tasks", params={"cursor": task["id"]})
    _same(from_task, eve.get("/api/v1/tasks", params={"cursor": NOBODYS_TASK}), task["id"], NOBODYS_TASK)
