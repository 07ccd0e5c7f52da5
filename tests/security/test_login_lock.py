"""Brute force against one account: the lock holds at 10 failures even when the tries come all at once, and
guest sandboxes are limited per address."""

from __future__ import annotations

import concurrent.futures

import httpx

from support import ADMIN_PASSWORD, set_up_admin, start_server


def test_forty_parallel_wrong_passwords_get_at_most_ten_tries(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(tmp_path)
    try:
        set_up_admin(server.url)

        def wrong(n: int) -> int:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                return client.post("/api/v1/auth/login",
                                   json={"username": "admin", "password": f"guess number {n}"}).status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(wrong, range(40)))
        assert set(statuses) <= {401, 429}, statuses
        assert statuses.count(401) <= 10, f"{statuses.count(401)} passwords were checked"
        # Locked now, even with the right password.
        right = httpx.post(server.url + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    finally:
        server.stop()


def test_right_passwords_never_count_towards_the_lock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(tmp_path, env={"MEDIASTUDIO_LOGIN_MAX_FAILURES": "2"})
    try:
        set_up_admin(server.url)
        for _ in range(12):  # the IP's own budget (5 × 2) is not used up by good logins either
            ok = httpx.post(server.url + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            assert ok.status_code == 200, ok.text
    finally:
        server.stop()


def test_guest_sandboxes_are_limited_per_address(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = start_server(tmp_path, env={"MEDIASTUDIO_GUESTS_PER_IP_PER_HOUR": "3"})
    try:
        set_up_admin(server.url)
        made = [httpx.post(server.url + "/api/v1/auth/guest").status_code for _ in range(3)]
        assert made == [201, 201, 201]
        refused = httpx.post(server.url + "/api/v1/auth/guest")
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        assert "guest" in refused.json()["detail"].lower() and refused.json()["hint"]
    finally:
        server.stop()
