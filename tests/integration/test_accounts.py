"""Accounts over a real server: setup, registration, login, sessions, CSRF, tokens, guests, CLI."""

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from support import ApiClient, RunningServer, set_up_admin, start_server

PASSWORD = "violet tram sixteen"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("accounts"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@pytest.fixture
def anon(server: RunningServer, admin: ApiClient) -> Iterator[ApiClient]:
    with ApiClient(server.url) as client:
        yield client


def _cli(server: RunningServer, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mediastudio", "users", *args, "--data-dir", str(server.data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_fresh_server_asks_for_its_administrator_first(server_factory: Callable[..., RunningServer]) -> None:
    fresh = server_factory()
    with ApiClient(fresh.url) as client:
        assert client.get("/api/v1/auth/config").json()["setup_required"] is True
        for path in ("/api/v1/auth/register", "/api/v1/auth/guest"):
            refused = client.post(path, json={"username": "early", "password": PASSWORD})
            assert refused.status_code == 409 and "administrator" in refused.json()["detail"]
        created = client.post("/api/v1/auth/setup", json={"username": "Boss", "password": PASSWORD})
        assert created.status_code == 201
        assert created.json()["user"] | {"is_admin": True} == created.json()["user"]
        assert client.get("/api/v1/auth/config").json()["setup_required"] is False
        again = client.post("/api/v1/auth/setup", json={"username": "boss2", "password": PASSWORD})
        assert again.status_code == 409


def test_the_cli_creates_the_admin_on_a_fresh_server(server_factory: Callable[..., RunningServer]) -> None:
    fresh = server_factory()
    made = _cli(fresh, "create", "chief", "--admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    with ApiClient(fresh.url) as client:
        assert client.get("/api/v1/auth/config").json()["setup_required"] is False
        me = client.post("/api/v1/auth/login", json={"username": "chief", "password": PASSWORD}).json()
        assert me["user"]["is_admin"] is True


def test_register_then_login_with_cookies_that_scripts_cannot_read(anon: ApiClient) -> None:
    registered = anon.post(
        "/api/v1/auth/register", json={"username": "Dana", "password": PASSWORD, "display_name": "Dana K."}
    )
    assert registered.status_code == 201
    cookies = registered.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("ms_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie.replace("Lax", "lax")
    assert "Secure" not in session_cookie  # plain HTTP on a LAN; TLS sets Secure
    assert "HttpOnly" not in next(c for c in cookies if c.startswith("ms_csrf="))
    assert anon.get("/api/v1/auth/me").json()["user"]["display_name"] == "Dana K."

    with ApiClient(anon.base_url) as other:
        assert other.post("/api/v1/auth/login", json={"username": "DANA", "password": PASSWORD}).status_code == 200
        assert other.get("/api/v1/auth/me").json()["user"]["username"] == "dana"


def test_weak_and_duplicate_registrations_are_refused_clearly(anon: ApiClient) -> None:
    weak = anon.post("/api/v1/auth/register", json={"username": "eve", "password": "short"})
    assert weak.status_code == 422  # it keeps to the OpenAPI document; this server's rule refuses it
    assert "too short" in weak.json()["detail"] and weak.json()["hint"]
    anon.register("frank")
    with ApiClient(anon.base_url) as again:
        taken = again.post("/api/v1/auth/register", json={"username": "Frank", "password": PASSWORD})
    assert taken.status_code == 409 and "taken" in taken.json()["detail"]


def test_the_same_username_registered_at_once_is_given_once_and_refused_clearly(server: RunningServer,
                                                                                admin: ApiClient) -> None:
    """Registrations of one name that arrive together (the check for a taken name passes for each before either
    is written): one account, and a 409 for the others, never a 500."""
    from concurrent.futures import ThreadPoolExecutor

    def attempt(_: int) -> int:
        with ApiClient(server.url) as client:
            return client.post("/api/v1/auth/register",
                               json={"username": "twins", "password": "violet tram sixteen"}).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(attempt, range(6)))
    assert codes == [201] + [409] * 5, codes


def test_logout_revokes_the_session_on_the_server(anon: ApiClient) -> None:
    anon.register("gina")
    stolen = anon.cookies.get("ms_session")
    assert anon.post("/api/v1/auth/logout").status_code == 204
    with httpx.Client(base_url=str(anon.base_url), cookies={"ms_session": stolen}) as replay:
        assert replay.get("/api/v1/auth/me").status_code == 401


def test_cookie_writes_need_the_csrf_token_and_same_origin(anon: ApiClient) -> None:
    anon.register("hugo")
    url = "/api/v1/workspaces"
    without = httpx.post(f"{anon.base_url}{url}", json={"name": "X"}, cookies=anon.cookies)
    assert without.status_code == 403 and "CSRF" in without.json()["detail"]
    cross = anon.post(url, json={"name": "X"}, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403 and "Cross-site" in cross.json()["detail"]
    same = anon.post(url, json={"name": "X"}, headers={"Origin": str(anon.base_url).rstrip("/")})
    assert same.status_code == 201


def test_ten_failed_logins_lock_that_account_and_ip(anon: ApiClient) -> None:
    anon.register("ivan")
    with ApiClient(anon.base_url) as attacker:
        for _ in range(10):
            assert (
                attacker.post("/api/v1/auth/login", json={"username": "ivan", "password": "nope nope"}).status_code
                == 401
            )
        locked = attacker.post("/api/v1/auth/login", json={"username": "ivan", "password": PASSWORD})
        assert locked.status_code == 429
        assert int(locked.headers["Retry-After"]) > 0
        assert "Too many failed logins" in locked.json()["detail"]


def test_api_tokens_are_shown_once_work_as_bearer_and_can_be_revoked(anon: ApiClient) -> None:
    anon.register("jane")
    created = anon.post("/api/v1/auth/tokens", json={"name": "render farm", "expires_in_days": 30})
    assert created.status_code == 201
    secret, token_id = created.json()["token"], created.json()["id"]
    listed = anon.get("/api/v1/auth/tokens").json()["items"]
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]
    assert secret not in anon.get("/api/v1/auth/tokens").text

    bearer = {"Authorization": f"Bearer {secret}"}
    me = httpx.get(f"{anon.base_url}/api/v1/auth/me", headers=bearer)
    assert me.status_code == 200 and me.json()["via"] == "token"
    # A token needs no CSRF header: browsers never send it on their own.
    assert (
        httpx.post(f"{anon.base_url}/api/v1/workspaces", headers=bearer, json={"name": "Via token"}).status_code == 201
    )
    assert anon.get("/api/v1/auth/tokens").json()["items"][0]["last_used_at"] is not None

    assert anon.delete(f"/api/v1/auth/tokens/{token_id}").status_code == 204
    revoked = httpx.get(f"{anon.base_url}/api/v1/auth/me", headers=bearer)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_a_guest_is_limited_then_claims_everything_by_registering(anon: ApiClient) -> None:
    guest = anon.post("/api/v1/auth/guest")
    assert guest.status_code == 201
    user = guest.json()["user"]
    assert user["is_guest"] is True
    (sandbox,) = anon.get("/api/v1/workspaces").json()["items"]
    assert sandbox["kind"] == "personal"
    assert anon.post("/api/v1/auth/tokens", json={"name": "x"}).status_code == 403
    assert anon.post("/api/v1/workspaces", json={"name": "Team"}).status_code == 403

    claimed = anon.post("/api/v1/auth/register", json={"username": "kim", "password": PASSWORD})
    assert claimed.status_code == 201
    assert claimed.json()["user"]["id"] == user["id"] and claimed.json()["user"]["is_guest"] is False
    (kept,) = anon.get("/api/v1/workspaces").json()["items"]
    assert kept["id"] == sandbox["id"]
    assert anon.post("/api/v1/auth/tokens", json={"name": "now allowed"}).status_code == 201


def test_admins_close_registration_and_guest_access(admin: ApiClient, anon: ApiClient) -> None:
    anon.register("leo")
    assert anon.patch("/api/v1/auth/config", json={"registration_open": False}).status_code == 403
    assert (
        admin.patch("/api/v1/auth/config", json={"registration_open": False, "guests_enabled": False}).status_code
        == 200
    )
    try:
        with ApiClient(anon.base_url) as newcomer:
            closed = newcomer.post("/api/v1/auth/register", json={"username": "mia", "password": PASSWORD})
            assert closed.status_code == 403 and "closed" in closed.json()["detail"]
            assert newcomer.post("/api/v1/auth/guest").status_code == 403
            config = newcomer.get("/api/v1/auth/config").json()
            assert config["registration_open"] is False and config["guests_enabled"] is False
    finally:
        admin.patch("/api/v1/auth/config", json={"registration_open": True, "guests_enabled": True})


def test_cli_manages_users_of_a_running_server(server: RunningServer, anon: ApiClient) -> None:
    anon.register("nora")
    assert "nora" in _cli(server, "list").stdout
    assert _cli(server, "disable", "nora").returncode == 0
    assert anon.get("/api/v1/auth/me").status_code == 401  # sessions ended
    with ApiClient(anon.base_url) as again:
        refused = again.post("/api/v1/auth/login", json={"username": "nora", "password": PASSWORD})
        assert refused.status_code == 403 and "disabled" in refused.json()["detail"]
        assert _cli(server, "disable", "nora", "--enable").returncode == 0
        changed = _cli(server, "set-password", "nora", "--password-stdin", stdin="new violet tram\n")
        assert changed.returncode == 0
        assert (
            again.post("/api/v1/auth/login", json={"username": "nora", "password": "new violet tram"}).status_code
            == 200
        )
        assert _cli(server, "delete", "nora", "--yes").returncode == 0
        assert again.get("/api/v1/auth/me").status_code == 401
    missing = _cli(server, "delete", "nobody-here", "--yes")
    assert missing.returncode == 1 and "no user is named" in missing.stderr


def test_password_change_keeps_this_session_and_ends_the_others(anon: ApiClient) -> None:
    anon.register("olga")
    with ApiClient(anon.base_url) as laptop:
        laptop.post("/api/v1/auth/login", json={"username": "olga", "password": PASSWORD})
        wrong = anon.patch("/api/v1/auth/me", json={"password": "brand new words", "current_password": "nope"})
        assert wrong.status_code == 403
        assert (
            anon.patch(
                "/api/v1/auth/me", json={"password": "brand new words", "current_password": PASSWORD}
            ).status_code
            == 200
        )
        assert anon.get("/api/v1/auth/me").status_code == 200
        assert laptop.get("/api/v1/auth/me").status_code == 401


def test_requests_per_minute_are_limited_per_user_and_stricter_on_expensive_ones(tmp_path: Path) -> None:
    env = {"MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "15", "MEDIASTUDIO_RATE_LIMIT_EXPENSIVE_PER_MINUTE": "3"}
    server = start_server(tmp_path, env=env)
    try:
        client = set_up_admin(server.url)
        statuses = [client.get("/api/v1/auth/me").status_code for _ in range(20)]
        assert statuses[:14] == [200] * 14 and statuses.count(429) >= 5
        limited = client.get("/api/v1/auth/me")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert "Too many requests" in limited.json()["detail"]

        guests = []
        for _ in range(4):  # a fresh anonymous visitor each time: limited by IP
            with ApiClient(server.url) as visitor:
                guests.append(visitor.post("/api/v1/auth/guest").status_code)
        assert guests == [201, 201, 201, 429]
    finally:
        server.stop()


def test_cli_disabling_a_user_beside_the_server_refuses_their_next_request(
        server_factory: Callable[..., RunningServer]) -> None:
    # Remembered for a minute: only the note the command leaves in the data folder can end it in time.
    server = server_factory(env={"MEDIASTUDIO_AUTH_CACHE_SECONDS": "60"})
    set_up_admin(server.url).close()
    anon = ApiClient(server.url)
    anon.register("otto")
    token = anon.post("/api/v1/auth/tokens", json={"name": "script"}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    for _ in range(3):  # the server now knows both by heart (auth/cache.py)
        assert anon.get("/api/v1/auth/me").status_code == 200
        assert httpx.get(f"{server.url}/api/v1/auth/me", headers=bearer).status_code == 200
    assert _cli(server, "disable", "otto").returncode == 0
    assert anon.get("/api/v1/auth/me").status_code == 401
    assert httpx.get(f"{server.url}/api/v1/auth/me", headers=bearer).status_code == 401
