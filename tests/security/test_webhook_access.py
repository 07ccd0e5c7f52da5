"""A webhook lives as long as its owner's rights: removed from the workspace, demoted below editor on the
project, or the account disabled, and the next task event is not sent; the hook is turned off and says why.
Deliveries already queued are checked again before each attempt. Real server, real receivers on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kinds_for_tests import ENV as TEST_KINDS
from support import ApiClient, RunningServer, set_up_admin, start_server, wait_for_task, wait_until
from support import WebhookReceiver as Receiver

# The receivers listen on 127.0.0.1, so the administrator allows LAN targets; a failed attempt is retried 1 s later.
ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_WEBHOOK_ALLOW_PRIVATE": "true",
       "MEDIASTUDIO_WEBHOOK_RETRY_SECONDS": "1", "MEDIASTUDIO_WEBHOOK_MAX_ATTEMPTS": "3"}


PASSWORD = "violet tram sixteen"  # ApiClient.register's


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("webhook-access"), env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def team(server: RunningServer, admin: ApiClient, request: pytest.FixtureRequest) -> dict[str, Any]:
    """A team workspace and project of the admin's, with a member (editor by the workspace default)."""
    tag = abs(hash(request.node.name)) % 10**6
    workspace = admin.post("/api/v1/workspaces", json={"name": f"Crew {tag}"}).json()
    project = admin.post("/api/v1/projects", json={"name": "Harbour", "workspace_id": workspace["id"]}).json()
    member = ApiClient(server.url)
    member.register(f"mira{tag}")
    me = member.get("/api/v1/auth/me").json()["user"]
    added = admin.post(f"/api/v1/workspaces/{workspace['id']}/members", json={"username": me["username"]})
    assert added.status_code == 201, added.text
    return {"workspace": workspace, "project": project, "member": member, "member_user": me}


def run_in(client: ApiClient, project_id: str, **params: Any) -> dict[str, Any]:
    created = client.post("/api/v1/tasks", json={"kind": "test.project_sleep", "project_id": project_id,
                                                 "params": {"steps": 2, "step_seconds": 0.01, **params}})
    assert created.status_code == 201, created.text
    return created.json()


def hook_of(client: ApiClient, hook_id: str, until: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The hook as its owner lists it, once `until` holds (bounded wait)."""
    return wait_until(lambda: next(h for h in client.get("/api/v1/webhooks").json()["items"] if h["id"] == hook_id),
                      until=until, message=f"hook {hook_id} to change")


def project_hook(team: dict[str, Any], receiver: Receiver, admin: ApiClient) -> dict[str, Any]:
    """The member's hook on the team project, shown working once."""
    made = team["member"].post("/api/v1/webhooks", json={"url": receiver.url, "project_id": team["project"]["id"]})
    assert made.status_code == 201, made.text
    wait_for_task(admin, run_in(admin, team["project"]["id"])["id"])
    receiver.wait(1)
    return made.json()


def assert_turned_off(team: dict[str, Any], receiver: Receiver, admin: ApiClient, hook: dict[str, Any],
                      words: str) -> None:
    wait_for_task(admin, run_in(admin, team["project"]["id"])["id"])
    shown = hook_of(team["member"], hook["id"], lambda h: not h["active"])
    assert not shown["active"] and words in (shown["disabled_reason"] or ""), shown
    time.sleep(0.3)  # a window, not a wait: an event sent after all would have arrived by now
    assert len(receiver.received) == 1, "the event after the loss was sent"
    ping = team["member"].post(f"/api/v1/webhooks/{hook['id']}/ping")
    assert ping.status_code == 409 and words in ping.json()["detail"]


def test_removed_from_the_workspace_the_hook_stops_and_says_why(
        admin: ApiClient, team: dict[str, Any], receiver: Receiver) -> None:
    hook = project_hook(team, receiver, admin)
    workspace, member = team["workspace"]["id"], team["member_user"]["id"]
    assert admin.delete(f"/api/v1/workspaces/{workspace}/members/{member}").status_code == 204
    assert_turned_off(team, receiver, admin, hook, "can no longer edit this project")


def test_demoted_to_viewer_the_project_hook_stops_and_says_why(
        admin: ApiClient, team: dict[str, Any], receiver: Receiver) -> None:
    hook = project_hook(team, receiver, admin)
    project, member = team["project"]["id"], team["member_user"]["id"]
    assert admin.put(f"/api/v1/projects/{project}/roles/{member}", json={"role": "viewer"}).status_code == 200
    assert_turned_off(team, receiver, admin, hook, "can no longer edit this project")


def _users(server: RunningServer, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "mediastudio", "users", *args, "--data-dir", str(server.data_dir)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_disabled_account_s_hooks_stop(server: RunningServer, admin: ApiClient, team: dict[str, Any],
                                         receiver: Receiver) -> None:
    hook = project_hook(team, receiver, admin)
    name = team["member_user"]["username"]
    _users(server, "disable", name)
    wait_for_task(admin, run_in(admin, team["project"]["id"])["id"])
    time.sleep(0.3)  # a window, not a wait: an event sent after all would have arrived by now
    assert len(receiver.received) == 1
    _users(server, "disable", name, "--enable")  # back again, the owner sees why the hook is off
    member = ApiClient(server.url)
    assert member.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD}).status_code == 200
    shown = hook_of(member, hook["id"], lambda h: not h["active"])
    assert not shown["active"] and "disabled" in (shown["disabled_reason"] or ""), shown


def test_a_queued_retry_is_not_sent_after_the_owner_lost_access(
        admin: ApiClient, team: dict[str, Any], receiver: Receiver) -> None:
    receiver.fail_first = 1
    made = team["member"].post("/api/v1/webhooks", json={"url": receiver.url, "project_id": team["project"]["id"]})
    hook = made.json()
    run_in(admin, team["project"]["id"])
    receiver.wait(1)  # the first attempt failed (500); the retry is due 1 s later
    workspace, member = team["workspace"]["id"], team["member_user"]["id"]
    assert admin.delete(f"/api/v1/workspaces/{workspace}/members/{member}").status_code == 204
    shown = hook_of(team["member"], hook["id"], lambda h: not h["active"])
    assert "can no longer edit" in (shown["disabled_reason"] or ""), shown
    log = team["member"].get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
    assert log[0]["status"] == "failed" and "can no longer edit" in log[0]["error"], log
    assert len(receiver.received) == 1


def test_a_personal_hook_hears_nothing_more_of_a_project_its_owner_left(
        admin: ApiClient, team: dict[str, Any], receiver: Receiver) -> None:
    member = team["member"]
    hook = member.post("/api/v1/webhooks", json={"url": receiver.url,
                                                 "events": ["task.started", "task.succeeded"]}).json()
    task = run_in(member, team["project"]["id"], steps=30, step_seconds=0.05)
    receiver.wait(1)  # task.started
    workspace, member_id = team["workspace"]["id"], team["member_user"]["id"]
    assert admin.delete(f"/api/v1/workspaces/{workspace}/members/{member_id}").status_code == 204
    wait_for_task(admin, task["id"])
    time.sleep(0.5)  # a window, not a wait: a task.succeeded sent after all would have arrived by now
    assert [r["headers"]["X-Mediastudio-Event"] for r in receiver.received] == ["task.started"]
    shown = hook_of(member, hook["id"], lambda h: True)
    assert shown["active"], "the hook still serves the owner's other projects"


def test_a_database_from_before_the_reason_column_gets_it(tmp_path: Path) -> None:
    from sqlmodel import text

    from mediastudio.tables import UPGRADES, open_database

    db = open_database(tmp_path / "studio.sqlite")
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE webhooks DROP COLUMN disabled_reason"))  # as 0.1 made it
    db.migrate(UPGRADES)
    with db.engine.connect() as conn:
        assert "disabled_reason" in {row[1] for row in conn.execute(text("PRAGMA table_info(webhooks)"))}
    db.close()
