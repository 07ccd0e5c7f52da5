"""Another site cannot open a session in the visitor's browser (login CSRF) nor write with their cookie:
the writes that open a session take JSON only, from the studio's own pages or non-browser clients, and a
`null` Origin counts as another site."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from support import ADMIN_PASSWORD, ApiClient, RunningServer, set_up_admin, start_server

FOREIGN = ["null", "http://attacker.example"]
CREDENTIALS = '{"username": "admin", "password": "copper lantern ninety"}'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("login-csrf"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def _post(server: RunningServer, path: str, body: str | None, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/auth/{path}", content=body, headers=headers)


def test_a_fresh_install_cannot_be_set_up_by_a_form_of_another_site(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fresh = start_server(tmp_path)
    try:
        for headers in ({"Content-Type": "text/plain", "Origin": "null"},
                        {"Content-Type": "text/plain"},
                        {"Content-Type": "application/json", "Origin": "null"}):
            attempt = _post(fresh, "setup", CREDENTIALS, headers)
            assert attempt.status_code in (403, 415), (headers, attempt.text)
            assert "set-cookie" not in attempt.headers
        assert httpx.get(fresh.url + "/api/v1/auth/config").json()["setup_required"] is True
    finally:
        fresh.stop()


@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_logins_and_registrations_take_json_only(server: RunningServer, admin: ApiClient, kind: str) -> None:
    login = _post(server, "login", CREDENTIALS, {"Content-Type": kind})
    assert login.status_code == 415 and "set-cookie" not in login.headers
    register = _post(server, "register", '{"username": "forged", "password": "violet tram sixteen"}',
                     {"Content-Type": kind})
    assert register.status_code == 415 and "set-cookie" not in register.headers


@pytest.mark.parametrize("origin", FOREIGN)
def test_session_opening_writes_from_another_site_are_refused(server: RunningServer, admin: ApiClient,
                                                              origin: str) -> None:
    json_headers = {"Content-Type": "application/json", "Origin": origin}
    for path, body in (("login", CREDENTIALS), ("register", '{"username": "planted", "password": "violet tram 16"}'),
                       ("guest", None)):
        attempt = _post(server, path, body, json_headers)
        assert attempt.status_code == 403, (path, attempt.text)
        assert "set-cookie" not in attempt.headers
    planted = _post(server, "guest", None, {"Origin": origin})  # a bodiless no-cors fetch
    assert planted.status_code == 403 and "set-cookie" not in planted.headers


@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_guest_session_cannot_be_planted_by_a_form(server: RunningServer, admin: ApiClient, kind: str) -> None:
    planted = _post(server, "guest", "", {"Content-Type": kind})
    assert planted.status_code == 415 and "set-cookie" not in planted.headers


def test_the_studios_own_pages_still_log_in(server: RunningServer, admin: ApiClient) -> None:
    own = {"Origin": server.url}
    login = httpx.post(f"{server.url}/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD},
                       headers=own)
    assert login.status_code == 200, login.text
    guest = httpx.post(f"{server.url}/api/v1/auth/guest", headers=own)  # the UI's call: no body, no type
    assert guest.status_code == 201, guest.text
    assert httpx.post(f"{server.url}/api/v1/auth/guest").status_code == 201  # a script: no Origin at all


def test_a_null_origin_is_foreign_to_cookie_writes(server: RunningServer, admin: ApiClient) -> None:
    refused = admin.patch("/api/v1/auth/me", json={"display_name": "Renamed by a sandboxed frame"},
                          headers={"Origin": "null"})
    assert refused.status_code == 403
    assert admin.get("/api/v1/auth/me").json()["user"]["display_name"] != "Renamed by a sandboxed frame"
    assert admin.patch("/api/v1/auth/me", json={"display_name": "Ada"}, headers={"Origin": server.url}).is_success
