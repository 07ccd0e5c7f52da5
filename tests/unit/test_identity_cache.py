"""The identity cache (auth/cache.py): a caller's cookie or token is resolved without a query on most requests, and
every change to who they are or what they hold takes effect on the very next request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from mediastudio.accounts import users
from mediastudio.app import create_app
from mediastudio.auth.cache import IdentityCache
from mediastudio.auth.identity import Identity
from mediastudio.auth.tables import AuthSession, User
from mediastudio.common import utcnow
from mediastudio.settings import Settings
from support import sql_statements

PASSWORD = "copper lantern ninety"


def auth_queries(client: TestClient) -> AbstractContextManager[list[str]]:
    """The statements that read sessions or tokens while the block runs."""
    return sql_statements(client.app.state.studio.db.engine,
                          lambda statement: "FROM sessions" in statement or "FROM api_tokens" in statement)


def _login(client: TestClient, username: str = "ana", password: str = PASSWORD) -> dict[str, str]:
    client.cookies.clear()
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Cookie": f"ms_session={client.cookies['ms_session']}", "X-CSRF-Token": client.cookies["ms_csrf"]}


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/v1/auth/setup", json={"username": "ana", "password": PASSWORD}).status_code == 201
        client.cookies.clear()
        yield client


def _me(client: TestClient, headers: dict[str, str]) -> int:
    return client.get("/api/v1/auth/me", headers=headers).status_code


def test_repeated_requests_of_a_session_or_token_read_it_once(app_client: TestClient) -> None:
    session = _login(app_client)
    token = app_client.post("/api/v1/auth/tokens", json={"name": "ci"}, headers=session).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    app_client.cookies.clear()
    for headers in (session, bearer):
        assert _me(app_client, headers) == 200  # the first use looks it up (and writes "last used")
        with auth_queries(app_client) as queries:
            for _ in range(20):
                assert _me(app_client, headers) == 200
        assert queries == []


def test_logout_ends_the_session_at_once(app_client: TestClient) -> None:
    session = _login(app_client)
    app_client.cookies.clear()
    assert _me(app_client, session) == 200
    assert app_client.post("/api/v1/auth/logout", headers=session).status_code == 204
    assert _me(app_client, session) == 401


def test_a_new_password_ends_the_other_sessions_at_once(app_client: TestClient) -> None:
    laptop = _login(app_client)
    phone = _login(app_client)
    app_client.cookies.clear()
    assert _me(app_client, laptop) == 200 and _me(app_client, phone) == 200
    changed = app_client.patch("/api/v1/auth/me", headers=laptop,
                               json={"password": "amber harbour seventy", "current_password": PASSWORD})
    assert changed.status_code == 200, changed.text
    assert _me(app_client, phone) == 401
    assert _me(app_client, laptop) == 200
    # The cached caller carries no old password: changing it again asks for the new one.
    again = app_client.patch("/api/v1/auth/me", headers=laptop,
                             json={"password": "violet tram sixteen", "current_password": PASSWORD})
    assert again.status_code == 403


def test_a_revoked_token_is_refused_at_once(app_client: TestClient) -> None:
    session = _login(app_client)
    made = app_client.post("/api/v1/auth/tokens", json={"name": "ci"}, headers=session).json()
    app_client.cookies.clear()
    bearer = {"Authorization": f"Bearer {made['token']}"}
    assert _me(app_client, bearer) == 200
    assert app_client.delete(f"/api/v1/auth/tokens/{made['id']}", headers=session).status_code == 204
    assert _me(app_client, bearer) == 401


def test_a_disabled_account_is_refused_at_once(app_client: TestClient) -> None:
    session = _login(app_client)
    token = app_client.post("/api/v1/auth/tokens", json={"name": "ci"}, headers=session).json()["token"]
    app_client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert _me(app_client, session) == 200 and _me(app_client, bearer) == 200
    database = app_client.app.state.studio.db
    with database.transaction() as db:  # as the server's own code would (an admin action)
        users.set_disabled(db, db.exec(select(User).where(User.username == "ana")).one(), True)
    assert _me(app_client, session) == 401
    assert _me(app_client, bearer) == 401


def test_a_change_made_by_another_process_on_the_data_folder_is_refused_at_once(app_client: TestClient,
                                                                               settings: Settings) -> None:
    from mediastudio.tables import open_database

    session = _login(app_client)
    app_client.cookies.clear()
    assert _me(app_client, session) == _me(app_client, session) == 200
    other = open_database(settings.database_path)  # as `mediastudio users disable` opens it, beside the server
    try:
        with other.transaction() as db:
            users.set_disabled(db, db.exec(select(User).where(User.username == "ana")).one(), True)
    finally:
        other.close()
    assert _me(app_client, session) == 401


def test_a_changed_profile_or_admin_flag_shows_at_once(app_client: TestClient) -> None:
    session = _login(app_client)
    app_client.cookies.clear()
    assert app_client.get("/api/v1/auth/me", headers=session).json()["user"]["is_admin"] is True
    assert app_client.patch("/api/v1/auth/me", headers=session, json={"display_name": "Ana B"}).status_code == 200
    assert app_client.get("/api/v1/auth/me", headers=session).json()["user"]["display_name"] == "Ana B"
    with app_client.app.state.studio.db.transaction() as db:
        user = db.exec(select(User).where(User.username == "ana")).one()
        user.is_admin = False
        db.add(user)
    assert app_client.get("/api/v1/auth/me", headers=session).json()["user"]["is_admin"] is False


def test_an_access_signal_from_another_process_forgets_the_user() -> None:
    cache = IdentityCache()
    now = utcnow()
    user = User(id="u_1", username="ana", display_name="Ana", color="#3e63dd")
    grant = AuthSession(id="s_1", user_id="u_1", csrf_token="c", expires_at=now + timedelta(days=1),
                        last_seen_at=now)
    cache.put("session:s_1", Identity(user=user, via="session", session=grant), cache.generation)
    assert cache.get("session:s_1", now, timedelta(minutes=1)) is not None
    cache.on_event({"type": "access.changed", "user_id": "u_2", "workspace_id": None})
    assert cache.get("session:s_1", now, timedelta(minutes=1)) is not None
    cache.on_event({"type": "access.changed", "user_id": "u_1", "workspace_id": None})
    assert cache.get("session:s_1", now, timedelta(minutes=1)) is None


def test_entries_are_bounded_in_time_and_number_and_never_outlive_their_grant() -> None:
    clock = [0.0]
    cache = IdentityCache(ttl=5.0, max_entries=3, clock=lambda: clock[0])
    now = utcnow()
    minute = timedelta(minutes=1)

    def identity(n: int, expires_in: timedelta = timedelta(days=1), seen: timedelta = timedelta()) -> Identity:
        user = User(id=f"u_{n}", username=f"u{n}", display_name="U", color="#3e63dd")
        return Identity(user=user, via="session", session=AuthSession(
            id=f"s_{n}", user_id=user.id, csrf_token="c", expires_at=now + expires_in, last_seen_at=now - seen))

    for n in range(4):
        cache.put(f"k{n}", identity(n), cache.generation)
    assert len(cache) == 3 and cache.get("k0", now, minute) is None  # the oldest went
    clock[0] = 5.0
    assert cache.get("k1", now, minute) is None  # past its time
    cache.put("ends", identity(9, expires_in=timedelta(seconds=1)), cache.generation)
    assert cache.get("ends", now + timedelta(seconds=2), minute) is None  # the session itself expired
    cache.put("stale", identity(8, seen=timedelta(minutes=2)), cache.generation)
    assert cache.get("stale", now, minute) is None  # due for its "last seen" touch: looked up again
    # A lookup that began before a change is not stored: it may have read what the change removed.
    began = cache.generation
    cache.forget_user("u_7")
    cache.put("late", identity(7), began)
    assert cache.get("late", now, minute) is None


def test_a_hit_hands_out_objects_of_its_own(app_client: TestClient) -> None:
    session = _login(app_client)
    app_client.cookies.clear()
    assert _me(app_client, session) == 200
    cache: IdentityCache = app_client.app.state.studio.identities
    key = next(iter(cache._entries))
    first, second = cache.get(key, utcnow(), timedelta(minutes=1)), cache.get(key, utcnow(), timedelta(minutes=1))
    assert first is not None and second is not None
    assert first.user is not second.user and first.session is not second.session
    first.user.display_name = "changed in one request"
    assert second.user.display_name == "ana"
