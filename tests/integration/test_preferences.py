"""Per-user preferences over a real server: the guided tour's state is kept per person (guests too), changes only
by its owner, and refuses what it does not know with a message a person can act on."""

import secrets
import sqlite3
from collections.abc import Iterator

import pytest

from support import ADMIN_PASSWORD, ApiClient, RunningServer, set_up_admin, start_server

PATH = "/api/v1/auth/me/preferences"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("preferences"))
    set_up_admin(server.url).close()
    yield server
    server.stop()


@pytest.fixture
def person(server: RunningServer) -> Iterator[ApiClient]:
    with ApiClient(server.url) as client:
        client.register(f"pref-{secrets.token_hex(4)}")
        yield client


def test_a_new_person_has_never_seen_the_tour(person: ApiClient) -> None:
    answer = person.get(PATH)
    assert answer.status_code == 200
    assert answer.json() == {"tour_status": "new", "tour_step": 0, "updated_at": None}


def test_the_tour_state_is_kept_per_person(server: RunningServer, person: ApiClient) -> None:
    started = person.patch(PATH, json={"tour_status": "active", "tour_step": 3})
    assert started.status_code == 200, started.text
    assert started.json()["tour_status"] == "active" and started.json()["tour_step"] == 3
    assert started.json()["updated_at"] is not None
    moved = person.patch(PATH, json={"tour_step": 4})  # a partial change keeps the rest
    assert moved.json()["tour_status"] == "active" and moved.json()["tour_step"] == 4
    assert person.get(PATH).json()["tour_step"] == 4
    with ApiClient(server.url) as other:
        other.register("pref-other")
        assert other.get(PATH).json()["tour_status"] == "new"
        other.patch(PATH, json={"tour_status": "skipped"})
    assert person.get(PATH).json()["tour_status"] == "active"
    finished = person.patch(PATH, json={"tour_status": "done"})
    assert finished.json() == finished.json() | {"tour_status": "done", "tour_step": 4}


def test_a_guest_keeps_preferences_too_and_keeps_them_when_registering(server: RunningServer) -> None:
    with ApiClient(server.url) as guest:
        assert guest.post("/api/v1/auth/guest").status_code == 201
        assert guest.patch(PATH, json={"tour_status": "active", "tour_step": 2}).status_code == 200
        guest.register("pref-claimed")
        assert guest.get(PATH).json()["tour_step"] == 2


def test_nobody_reads_or_writes_preferences_without_signing_in(server: RunningServer) -> None:
    with ApiClient(server.url) as anonymous:
        assert anonymous.get(PATH).status_code == 401
        assert anonymous.patch(PATH, json={"tour_status": "done"}).status_code == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"tour_status": "halfway"}, "tour_status"),
    ({"tour_step": -1}, "tour_step"),
    ({"tour_step": 32}, "tour_step"),
    ({"tour_step": 1.5}, "tour_step"),
])
def test_bad_values_are_refused_with_the_field_named(person: ApiClient, body: dict, field: str) -> None:
    refused = person.patch(PATH, json=body)
    assert refused.status_code == 400, refused.text
    assert field in refused.text
    assert person.get(PATH).json()["tour_status"] == "new"  # nothing was written


def test_a_deleted_account_takes_its_preferences_along(server: RunningServer) -> None:
    with ApiClient(server.url) as leaving:
        user = leaving.register("pref-leaving")["user"]
        leaving.patch(PATH, json={"tour_status": "done"})
    with ApiClient(server.url) as admin:
        assert admin.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).is_success
        gone = admin.delete(f"/api/v1/admin/users/{user['id']}", params={"projects": "delete"})
        assert gone.status_code == 204, gone.text
    with sqlite3.connect(server.data_dir / "mediastudio.sqlite") as db:
        rows = db.execute("SELECT count(*) FROM user_preferences WHERE user_id = ?", (user["id"],)).fetchone()
    assert rows == (0,)
