"""Webhooks: signed JSON deliveries of task events to a real HTTP receiver on 127.0.0.1, with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kinds_for_tests import ENV as TEST_KINDS
from support import ApiClient, RunningServer, set_up_admin, start_server, wait_for_task, wait_until
from support import WebhookReceiver as Receiver

# The receiver listens on 127.0.0.1: a private address, which the administrator must allow.
ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_WEBHOOK_RETRY_SECONDS": "0.4",
       "MEDIASTUDIO_WEBHOOK_MAX_ATTEMPTS": "3", "MEDIASTUDIO_WEBHOOK_ALLOW_PRIVATE": "true"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("webhooks"), env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def run_task(client: ApiClient, **params: Any) -> dict[str, Any]:
    created = client.post("/api/v1/tasks", json={"kind": "test.sleep_cpu", "params": {"steps": 2, "step_seconds": 0.01,
                                                                                      **params}})
    assert created.status_code == 201, created.text
    return created.json()


def test_signed_deliveries_of_task_events(server: RunningServer, admin: ApiClient) -> None:
    receiver = Receiver()
    try:
        made = admin.post("/api/v1/webhooks", json={"url": receiver.url, "description": "render farm bot",
                                                    "events": ["task.started", "task.succeeded", "task.failed"]})
        assert made.status_code == 201, made.text
        hook = made.json()
        assert len(hook["secret"]) >= 32
        assert admin.get("/api/v1/webhooks").json()["items"][0]["secret"] is None  # shown once
        ok = run_task(admin)
        failing = run_task(admin, fail_at=1)
        arrived = receiver.wait(4)
        bodies = [json.loads(r["body"]) for r in arrived]
        seen = {(b["task"]["id"], b["event"]) for b in bodies}
        assert seen == {(ok["id"], "task.started"), (ok["id"], "task.succeeded"),
                        (failing["id"], "task.started"), (failing["id"], "task.failed")}
        for request in arrived:
            expected = "sha256=" + hmac.new(hook["secret"].encode(), request["body"], hashlib.sha256).hexdigest()
            assert request["headers"]["X-Mediastudio-Signature"] == expected
            assert request["headers"]["Content-Type"] == "application/json"
        failed = next(b for b in bodies if b["event"] == "task.failed")
        assert failed["task"]["error"]["message"] == "Asked to fail at step 1."
        # The log records each delivery once its answer is in: a moment after the receiver saw it.
        log = wait_until(lambda: admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"],
                         until=lambda log: len(log) == 4 and {d["status"] for d in log} == {"delivered"},
                         message="four delivered deliveries in the log")
        assert {d["response_status"] for d in log} == {204}
        assert admin.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
        wait_for_task(admin, run_task(admin)["id"])
        time.sleep(1.0)  # a window, not a wait: a delivery of that task would have arrived by now
        assert len(receiver.received) == 4  # removed: nothing more
    finally:
        receiver.close()


def test_failed_deliveries_are_retried_with_backoff_and_logged(server: RunningServer, admin: ApiClient) -> None:
    receiver = Receiver(fail_first=2)
    try:
        hook = admin.post("/api/v1/webhooks", json={"url": receiver.url}).json()
        assert hook["events"] == ["task.succeeded", "task.failed", "task.cancelled"]
        started = time.monotonic()
        task = run_task(admin)
        arrived = receiver.wait(3)
        assert len(arrived) == 3
        ids = {r["headers"]["X-Mediastudio-Delivery"] for r in arrived}
        assert len(ids) == 1  # the same delivery, three attempts
        gaps = [arrived[1]["at"] - arrived[0]["at"], arrived[2]["at"] - arrived[1]["at"]]
        print(f"\nretry gaps: {gaps[0]:.2f} s, {gaps[1]:.2f} s (0.4 s, then 4× longer)")
        # Each gap is its wait plus the time of an attempt (a request and a few thread hops), which a loaded
        # machine stretched by 0.26 s once: the first wait must be shorter than the second by a margin no load
        # closes, and no wait may be shorter than asked. A fixed delay (0.4 s twice, or 1.6 s twice) fails.
        assert 0.35 <= gaps[0] < 1.2 and gaps[1] >= 1.5
        log = wait_until(lambda: admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"],
                         until=lambda log: bool(log) and log[0]["status"] != "pending",
                         message="the delivery's outcome in the log")
        assert log[0]["task_id"] == task["id"] and log[0]["attempts"] == 3 and log[0]["status"] == "delivered"
        assert time.monotonic() - started < 10
        # A receiver that never answers 2xx: the delivery ends `failed` after the last attempt, with the reason.
        receiver.fail_first = 100
        run_task(admin)
        receiver.wait(6)
        log = wait_until(lambda: admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"],
                         until=lambda log: log[0]["status"] != "pending", message="the delivery's outcome in the log")
        assert log[0]["status"] == "failed" and log[0]["attempts"] == 3
        assert log[0]["error"] == "The receiver answered 500"
        ping = admin.post(f"/api/v1/webhooks/{hook['id']}/ping")
        assert ping.status_code == 202 and ping.json()["event_type"] == "ping"
    finally:
        receiver.close()


def test_urls_are_validated_and_guests_refused(server: RunningServer, admin: ApiClient) -> None:
    for url, words in [("ftp://example.com/x", "http"), ("http:///nohost", "host"),
                       ("http://user:pw@example.com/", "password"), ("http://169.254.169.254/latest", "link-local"),
                       ("http://example.com:99999/", "port"), ("https://example.com/#frag", "fragment")]:
        refused = admin.post("/api/v1/webhooks", json={"url": url})
        # not http(s) breaks the OpenAPI document (400); the rest keep to it and are still refused (422)
        assert refused.status_code == (400 if url.startswith("ftp") else 422), url
        assert words in refused.json()["detail"], (url, refused.json())
    bad_event = admin.post("/api/v1/webhooks", json={"url": "https://example.com/h", "events": ["task.exploded"]})
    assert bad_event.status_code == 400 and "task.succeeded" in bad_event.json()["detail"]
    guest = ApiClient(server.url)
    guest.post("/api/v1/auth/guest")
    refused = guest.post("/api/v1/webhooks", json={"url": "https://example.com/h"})
    assert refused.status_code == 403 and "Register" in refused.json()["hint"]
    other = ApiClient(server.url)
    other.register("olga")
    hook = admin.post("/api/v1/webhooks", json={"url": "https://example.com/h"}).json()
    assert other.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert other.get(f"/api/v1/webhooks/{hook['id']}/deliveries").status_code == 404
    project = admin.post("/api/v1/projects", json={"name": "Private"}).json()
    assert other.post("/api/v1/webhooks", json={"url": "https://example.com/h",
                                                "project_id": project["id"]}).status_code == 404
