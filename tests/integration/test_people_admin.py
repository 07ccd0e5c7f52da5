"""Administrators manage the people of the server over REST (`/api/v1/admin/users`), on a real server: list and
search, create, disable (sessions end at once), make administrator, reset a password, delete with the person's
projects deleted or handed to someone else; never locking the server out of its last administrator."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from support import ApiClient, RunningServer, set_up_admin, start_server

PASSWORD = "violet tram sixteen"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("people"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@contextmanager
def person(server: RunningServer, username: str) -> Iterator[ApiClient]:
    """A registered person, signed in."""
    with ApiClient(server.url) as client:
        client.register(username, PASSWORD)
        yield client


def user_id(client: ApiClient) -> str:
    return str(client.get("/api/v1/auth/me").json()["user"]["id"])


def test_only_administrators_see_or_change_people(server: RunningServer, admin: ApiClient) -> None:
    with person(server, "plain-pat") as pat:
        for method, path in (("GET", "/api/v1/admin/users"), ("POST", "/api/v1/admin/users"),
                             ("PATCH", f"/api/v1/admin/users/{user_id(pat)}"),
                             ("DELETE", f"/api/v1/admin/users/{user_id(pat)}?projects=delete")):
            refused = pat.request(method, path, json={} if method in ("POST", "PATCH") else None)
            assert refused.status_code == 403, (method, path, refused.text)
    with ApiClient(server.url) as nobody:
        assert nobody.get("/api/v1/admin/users").status_code == 401


def test_list_search_and_create(server: RunningServer, admin: ApiClient) -> None:
    made = admin.post("/api/v1/admin/users", json={"username": "Made-By-Admin", "password": PASSWORD,
                                                   "display_name": "Mara Made"})
    assert made.status_code == 201, made.text
    assert made.json()["username"] == "made-by-admin" and made.json()["is_admin"] is False
    with ApiClient(server.url) as mara:  # the account works at once
        assert mara.post("/api/v1/auth/login", json={"username": "made-by-admin", "password": PASSWORD}).is_success
    found = admin.get("/api/v1/admin/users", params={"q": "mara"}).json()["items"]
    assert [p["username"] for p in found] == ["made-by-admin"]
    everyone = admin.get("/api/v1/admin/users").json()
    assert {"admin", "made-by-admin"} <= {p["username"] for p in everyone["items"]}
    assert all(not p["is_guest"] for p in everyone["items"])
    weak = admin.post("/api/v1/admin/users", json={"username": "weakling", "password": "123"})
    assert weak.status_code == 422
    taken = admin.post("/api/v1/admin/users", json={"username": "made-by-admin", "password": PASSWORD})
    assert taken.status_code == 409


def test_disabling_someone_ends_their_sessions_and_enabling_lets_them_back(server: RunningServer,
                                                                         admin: ApiClient) -> None:
    with person(server, "dora-disabled") as dora:
        dora_id = user_id(dora)
        off = admin.patch(f"/api/v1/admin/users/{dora_id}", json={"disabled": True})
        assert off.status_code == 200 and off.json()["disabled"] is True
        assert dora.get("/api/v1/auth/me").status_code == 401  # the session they had is gone
        again = dora.post("/api/v1/auth/login", json={"username": "dora-disabled", "password": PASSWORD})
        assert again.status_code == 403 and "disabled" in again.json()["detail"]
        assert admin.patch(f"/api/v1/admin/users/{dora_id}", json={"disabled": False}).json()["disabled"] is False
        assert dora.post("/api/v1/auth/login", json={"username": "dora-disabled", "password": PASSWORD}).is_success


def test_a_new_administrator_can_manage_people_and_the_last_one_cannot_leave(server: RunningServer,
                                                                            admin: ApiClient) -> None:
    me = user_id(admin)
    for change in ({"disabled": True}, {"is_admin": False}):
        refused = admin.patch(f"/api/v1/admin/users/{me}", json=change)
        assert refused.status_code == 409, refused.text  # never locks themselves out
    assert admin.delete(f"/api/v1/admin/users/{me}", params={"projects": "delete"}).status_code == 409
    with person(server, "ada-second") as second:
        second_id = user_id(second)
        promoted = admin.patch(f"/api/v1/admin/users/{second_id}", json={"is_admin": True})
        assert promoted.json()["is_admin"] is True
        assert second.get("/api/v1/admin/users").status_code == 200  # at once, in the session they have
        assert admin.patch(f"/api/v1/admin/users/{second_id}", json={"is_admin": False}).json()["is_admin"] is False
        assert second.get("/api/v1/admin/users").status_code == 403


def test_a_password_reset_makes_one_up_once_and_ends_their_sessions(server: RunningServer, admin: ApiClient) -> None:
    with person(server, "fergus-forgot") as fergus:
        fergus_id = user_id(fergus)
        reset = admin.post(f"/api/v1/admin/users/{fergus_id}/password", json={})
        assert reset.status_code == 200, reset.text
        made = reset.json()["password"]
        assert isinstance(made, str) and len(made) >= 15
        assert fergus.get("/api/v1/auth/me").status_code == 401
        with ApiClient(server.url) as again:
            assert again.post("/api/v1/auth/login", json={"username": "fergus-forgot", "password": PASSWORD}
                              ).status_code == 401
            assert again.post("/api/v1/auth/login", json={"username": "fergus-forgot", "password": made}).is_success
        chosen = admin.post(f"/api/v1/admin/users/{fergus_id}/password", json={"password": "a brand new phrase"})
        assert chosen.json() == {"password": None}
        assert admin.post(f"/api/v1/admin/users/{fergus_id}/password", json={"password": "abc"}).status_code == 422


def test_deleting_someone_deletes_or_hands_over_their_projects(server: RunningServer, admin: ApiClient) -> None:
    with person(server, "leaving-lee") as lee, person(server, "heir-hana") as hana, \
            person(server, "gone-gus") as gus:
        kept = lee.post("/api/v1/projects", json={"name": "Lee's film"}).json()
        lost = gus.post("/api/v1/projects", json={"name": "Gus's reel"}).json()
        hana_id = user_id(hana)
        missing = admin.delete(f"/api/v1/admin/users/{user_id(lee)}", params={"projects": "transfer"})
        assert missing.status_code == 400 and missing.json()["field"] == "to"
        handed = admin.delete(f"/api/v1/admin/users/{user_id(lee)}", params={"projects": "transfer", "to": hana_id})
        assert handed.status_code == 204, handed.text
        assert lee.get("/api/v1/auth/me").status_code == 401
        got = hana.get(f"/api/v1/projects/{kept['id']}")
        assert got.status_code == 200 and got.json()["name"] == "Lee's film"
        personal = next(w for w in hana.get("/api/v1/workspaces").json()["items"] if w["kind"] == "personal")
        assert got.json()["workspace_id"] == personal["id"]  # moved, history and all, into her own workspace
        assert admin.delete(f"/api/v1/admin/users/{user_id(gus)}", params={"projects": "delete"}).status_code == 204
        assert admin.get(f"/api/v1/projects/{lost['id']}").status_code == 404
        usernames = {p["username"] for p in admin.get("/api/v1/admin/users").json()["items"]}
        assert "leaving-lee" not in usernames and "gone-gus" not in usernames
    assert admin.delete("/api/v1/admin/users/u_nobody", params={"projects": "delete"}).status_code == 404
    assert admin.delete(f"/api/v1/admin/users/{hana_id}").status_code == 400  # the choice is not optional


def test_an_invitation_link_lets_people_register_while_registration_is_closed(server: RunningServer,
                                                                             admin: ApiClient) -> None:
    assert admin.patch("/api/v1/auth/config", json={"registration_open": False}).is_success
    try:
        with ApiClient(server.url) as stranger:
            closed = stranger.post("/api/v1/auth/register", json={"username": "no-link", "password": PASSWORD})
            assert closed.status_code == 403 and "invitation" in closed.json()["hint"]
        made = admin.post("/api/v1/admin/invites", json={"uses": 2, "days": 3, "note": "the sound team"})
        assert made.status_code == 201, made.text
        secret, invite_id = made.json()["secret"], made.json()["id"]
        assert secret and invite_id not in secret  # the row keeps a hash, never the secret
        listed = admin.get("/api/v1/admin/invites").json()["items"]
        assert [(i["note"], i["uses_left"], i["secret"]) for i in listed] == [("the sound team", 2, None)]
        with ApiClient(server.url) as anyone:
            assert anyone.get(f"/api/v1/auth/invites/{secret}").status_code == 200
            assert anyone.get("/api/v1/auth/invites/not-a-real-secret").status_code == 404
            forged = anyone.post("/api/v1/auth/register", json={"username": "forger", "password": PASSWORD,
                                                                "invite": "not-a-real-secret"})
            assert forged.status_code == 403
        for name in ("invited-ivy", "invited-ian"):
            with ApiClient(server.url) as invited:
                joined = invited.post("/api/v1/auth/register", json={"username": name, "password": PASSWORD,
                                                                     "invite": secret})
                assert joined.status_code == 201, joined.text
                assert invited.post("/api/v1/admin/invites", json={}).status_code == 403  # admins only
        with ApiClient(server.url) as third:
            used_up = third.post("/api/v1/auth/register", json={"username": "invited-ida", "password": PASSWORD,
                                                                "invite": secret})
            assert used_up.status_code == 403 and "used" in used_up.json()["detail"]
            assert third.get(f"/api/v1/auth/invites/{secret}").status_code == 404
        assert admin.get("/api/v1/admin/invites").json()["items"] == []

        withdrawn = admin.post("/api/v1/admin/invites", json={}).json()
        assert admin.delete(f"/api/v1/admin/invites/{withdrawn['id']}").status_code == 204
        with ApiClient(server.url) as late:
            assert late.post("/api/v1/auth/register", json={"username": "too-late", "password": PASSWORD,
                                                            "invite": withdrawn["secret"]}).status_code == 403
    finally:
        admin.patch("/api/v1/auth/config", json={"registration_open": True})
