"""Per-role quotas set by administrators (runs waiting or running at once, GPU minutes a day, storage): who may
read and change them, what bad input gets, how each is enforced for users and guests, and what each person is
shown of theirs. A real server with the tests' sleep tasks (`test.sleep` runs on the GPU lane)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kinds_for_tests import ENV as TEST_KINDS
from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server, wait_for_task

ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_GUESTS_ENABLED": "true",
       "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000", "MEDIASTUDIO_RATE_LIMIT_IP_PER_MINUTE": "100000",
       "MEDIASTUDIO_TASK_QUOTA": "7", "MEDIASTUDIO_GUEST_TASK_QUOTA": "3", "MEDIASTUDIO_GPU_MINUTES_PER_DAY": "0",
       "MEDIASTUDIO_GUEST_GPU_MINUTES_PER_DAY": "10", "MEDIASTUDIO_STORAGE_QUOTA_BYTES": "0",
       "MEDIASTUDIO_GUEST_STORAGE_QUOTA_BYTES": str(2 * 1024**3)}
QUOTAS = "/api/v1/admin/quotas"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("role-quotas"), env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@pytest.fixture(autouse=True)
def defaults_again(admin: ApiClient) -> Iterator[None]:
    """Each test starts from the settings' limits and leaves nothing waiting or running."""
    yield
    everyone = admin.get("/api/v1/tasks", params={"all": "true", "status": "queued,running", "limit": 200})
    for task in everyone.json()["items"]:
        admin.post(f"/api/v1/tasks/{task['id']}/force-stop" if task["status"] == "running"
                   else f"/api/v1/tasks/{task['id']}/cancel")
    reset = admin.patch(QUOTAS, json={"user": {"runs_at_once": 7, "gpu_minutes_per_day": None, "storage_bytes": None},
                                      "guest": {"runs_at_once": 3, "gpu_minutes_per_day": 10,
                                                "storage_bytes": 2 * 1024**3}})
    assert reset.status_code == 200, reset.text


def person(server: RunningServer, admin: ApiClient, name: str) -> ApiClient:
    assert admin.get("/api/v1/auth/me").status_code == 200  # registration opens once the admin exists
    client = ApiClient(server.url)
    client.register(name)
    return client


def guest(server: RunningServer) -> ApiClient:
    client = ApiClient(server.url)
    answer = client.post("/api/v1/auth/guest")
    assert answer.status_code in (200, 201), answer.text
    return client


def sleep(client: ApiClient, steps: int = 1, step_seconds: float = 0.05, kind: str = "test.sleep") -> Any:
    return client.post("/api/v1/tasks", json={"kind": kind, "params": {"steps": steps, "step_seconds": step_seconds}})


def mine(client: ApiClient) -> dict[str, Any]:
    answer = client.get("/api/v1/auth/me/quotas")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_limits_start_from_the_settings_and_only_admins_read_or_change_them(server: RunningServer,
                                                                                admin: ApiClient) -> None:
    answer = admin.get(QUOTAS)
    assert answer.status_code == 200, answer.text
    quotas = answer.json()
    assert {k: quotas["user"][k] for k in ("runs_at_once", "gpu_minutes_per_day", "storage_bytes")} == \
        {"runs_at_once": 7, "gpu_minutes_per_day": None, "storage_bytes": None}  # the settings' 0 = no limit
    assert {k: quotas["guest"][k] for k in ("runs_at_once", "gpu_minutes_per_day", "storage_bytes")} == \
        {"runs_at_once": 3, "gpu_minutes_per_day": 10, "storage_bytes": 2 * 1024**3}
    assert quotas["resets"] == "00:00 UTC"
    for client in (person(server, admin, "nosy"), guest(server)):
        for method in ("GET", "PATCH"):
            refused = client.request(method, QUOTAS, json={"guest": {"runs_at_once": 100}})
            assert refused.status_code == 403, refused.text
            assert "administrator" in refused.json()["detail"]
    assert ApiClient(server.url).get(QUOTAS).status_code == 401
    assert admin.get(QUOTAS).json()["guest"]["runs_at_once"] == 3  # nothing changed


@pytest.mark.parametrize("body", [
    {"user": {"runs_at_once": 1.5}}, {"user": {"runs_at_once": -1}}, {"user": {"runs_at_once": None}},
    {"user": {"runs_at_once": 10_001}}, {"user": {"runs_at_once": "many"}}, {"guest": {"gpu_minutes_per_day": -1}},
    {"guest": {"gpu_minutes_per_day": 1e9}}, {"guest": {"gpu_minutes_per_day": "lots"}},
    {"guest": {"storage_bytes": -5}}, {"guest": {"storage_bytes": 2**60}}, {"admin": {"runs_at_once": 5}},
    {"guest": {"runs": 5}}, {"guest": "all of it"}, [1, 2],
])
def test_bad_limits_are_refused_with_a_400_that_says_what_is_wrong(admin: ApiClient, body: Any) -> None:
    before = admin.get(QUOTAS).json()
    refused = admin.patch(QUOTAS, json=body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["detail"] and len(refused.json()["detail"]) < 300
    assert admin.get(QUOTAS).json() == before


@pytest.mark.parametrize("raw", ['{"guest": {"gpu_minutes_per_day": 1e999}}', '{"guest": {"gpu_minutes_per_day": NaN}}',
                                 '{"guest": {"storage_bytes": 1' + "0" * 5000 + '}}', '{"guest": ', "x" * 100_000])
def test_bodies_no_client_sends_are_refused_too(admin: ApiClient, raw: str) -> None:
    before = admin.get(QUOTAS).json()
    refused = admin.patch(QUOTAS, content=raw, headers={"Content-Type": "application/json"})
    assert refused.status_code == 400, refused.text
    assert admin.get(QUOTAS).json() == before


def test_runs_at_once_hold_per_role(server: RunningServer, admin: ApiClient) -> None:
    changed = admin.patch(QUOTAS, json={"user": {"runs_at_once": 2}, "guest": {"runs_at_once": 1}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["user"]["runs_at_once"] == 2 and changed.json()["guest"]["runs_at_once"] == 1
    ana, visitor = person(server, admin, "ana"), guest(server)
    for _ in range(2):
        assert sleep(ana, steps=100, step_seconds=0.1).status_code == 201
    refused = sleep(ana)
    assert refused.status_code == 429 and "at most 2 tasks" in refused.json()["detail"], refused.text
    assert sleep(visitor, steps=100, step_seconds=0.1).status_code == 201
    refused = sleep(visitor)
    assert refused.status_code == 429 and "at most 1 tasks" in refused.json()["detail"], refused.text
    assert "Register" in refused.json()["hint"]
    assert mine(visitor)["runs"] == {"used": 1, "limit": 1}
    # Raised again, the very next request may queue more; 0 lets no task start.
    assert admin.patch(QUOTAS, json={"guest": {"runs_at_once": 2}}).status_code == 200
    assert sleep(visitor).status_code == 201
    assert admin.patch(QUOTAS, json={"guest": {"runs_at_once": 0}}).status_code == 200
    refused = sleep(guest(server), kind="test.sleep_cpu")
    assert refused.status_code == 429 and "Guests may not start tasks" in refused.json()["detail"], refused.text
    # No edit of the users' limit locks the administrators out: theirs stays at the server's task_quota (7 here).
    assert admin.patch(QUOTAS, json={"user": {"runs_at_once": 0}}).status_code == 200
    assert sleep(ana).status_code == 429
    assert sleep(admin).status_code == 201


def test_gpu_minutes_per_day_refuse_a_new_run_once_used_up(server: RunningServer, admin: ApiClient) -> None:
    # 0.02 minutes (1 s) a day for guests: one run of about 1.5 s uses them up, and it runs to its end.
    assert admin.patch(QUOTAS, json={"guest": {"gpu_minutes_per_day": 0.02}}).status_code == 200
    visitor, bea = guest(server), person(server, admin, "bea")
    first = sleep(visitor, steps=3, step_seconds=0.5)
    assert first.status_code == 201, first.text
    done = wait_for_task(visitor, first.json()["id"], timeout=30)
    assert done["status"] == "succeeded"  # never stopped for the quota, though it went past it
    shown = mine(visitor)
    assert shown["gpu_minutes"]["limit"] == 0.02 and shown["gpu_minutes"]["used"] >= 0.02
    refused = sleep(visitor)
    assert refused.status_code == 429, refused.text
    problem = refused.json()
    assert problem["title"] == "GPU minutes used up"
    assert problem["detail"].startswith("You have used 0.0") and "of your 0.02 GPU minutes today" in problem["detail"]
    assert "they reset at 00:00 UTC (in " in problem["detail"] and "Register" in problem["hint"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    assert datetime.fromisoformat(problem["resets_at"]) == datetime(tomorrow.year, tomorrow.month, tomorrow.day,
                                                                    tzinfo=UTC)
    assert 0 < int(refused.headers["Retry-After"]) <= 86_400 + 1
    # Not the CPU lane, not another role: a registered person has no daily limit here.
    assert sleep(visitor, kind="test.sleep_cpu").status_code == 201
    assert sleep(bea).status_code == 201
    # 0 = no GPU runs at all; no limit (null) lets the guest run again.
    assert admin.patch(QUOTAS, json={"user": {"gpu_minutes_per_day": 0}}).status_code == 200
    none = sleep(bea)
    assert none.status_code == 429 and "may not run tasks on the GPU" in none.json()["detail"], none.text
    assert admin.patch(QUOTAS, json={"guest": {"gpu_minutes_per_day": None}}).status_code == 200
    assert sleep(visitor).status_code == 201
    assert mine(visitor)["gpu_minutes"]["limit"] is None


def test_a_running_task_counts_its_time_so_far(server: RunningServer, admin: ApiClient) -> None:
    visitor = guest(server)
    long = sleep(visitor, steps=40, step_seconds=0.1).json()
    wait_for_task(visitor, long["id"], ("running",))
    first = mine(visitor)["gpu_minutes"]["used"]
    wait_for_task(visitor, long["id"], ("succeeded",), timeout=30)
    assert mine(visitor)["gpu_minutes"]["used"] > first


def test_storage_holds_per_role(server: RunningServer, admin: ApiClient) -> None:
    assert admin.patch(QUOTAS, json={"user": {"storage_bytes": 100}}).status_code == 200
    cy, visitor = person(server, admin, "cyd"), guest(server)
    picture = png_bytes((10, 200, 30), (64, 64))
    assert len(picture) > 100
    visitor_before = mine(visitor)["storage"]["used_bytes"]  # the samples copied into a guest's sandbox
    for client, status in ((cy, 507), (visitor, 201), (admin, 201)):  # admins have no storage limit
        project = client.post("/api/v1/projects", json={"name": "Plates"}).json()
        answer = client.post(f"/api/v1/projects/{project['id']}/assets",
                             files={"file": ("plate.png", picture, "image/png")})
        assert answer.status_code == status, answer.text
    assert mine(cy)["storage"] == {"used_bytes": 0, "limit_bytes": 100}
    assert mine(visitor)["storage"] == {"used_bytes": visitor_before + len(picture), "limit_bytes": 2 * 1024**3}
    assert cy.get("/api/v1/auth/me/usage").json()["quota_bytes"] == 100


def test_each_person_is_shown_their_own_limits(server: RunningServer, admin: ApiClient) -> None:
    visitor = guest(server)
    assert sleep(visitor, steps=100, step_seconds=0.1).status_code == 201
    shown = mine(visitor)
    assert shown["role"] == "guest" and shown["runs"] == {"used": 1, "limit": 3}
    assert shown["gpu_minutes"]["limit"] == 10 and shown["storage"]["limit_bytes"] == 2 * 1024**3
    assert datetime.fromisoformat(shown["resets_at"]).time().isoformat() == "00:00:00"
    dee = person(server, admin, "dee")
    assert mine(dee)["role"] == "user" and mine(dee)["runs"] == {"used": 0, "limit": 7}
    assert mine(dee)["gpu_minutes"]["limit"] is None and mine(dee)["storage"]["limit_bytes"] is None
    ours = mine(admin)
    assert ours["role"] == "admin" and ours["gpu_minutes"]["limit"] is None and ours["storage"]["limit_bytes"] is None
    assert ApiClient(server.url).get("/api/v1/auth/me/quotas").status_code == 401


def test_limits_an_admin_set_outlive_a_restart_with_other_settings(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=ENV)
    try:
        admin = set_up_admin(server.url)
        assert admin.patch(QUOTAS, json={"guest": {"runs_at_once": 9}}).status_code == 200
        server.stop()
        port = int(server.url.rsplit(":", 1)[1])
        server = start_server(tmp_path, env={**ENV, "MEDIASTUDIO_GUEST_TASK_QUOTA": "4",
                                             "MEDIASTUDIO_TASK_QUOTA": "11"}, port=port)
        quotas = admin.get(QUOTAS).json()
        assert quotas["guest"]["runs_at_once"] == 9  # kept: the settings seed a data folder once
        assert quotas["user"]["runs_at_once"] == 7
    finally:
        server.stop()
