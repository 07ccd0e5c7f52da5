"""Privacy routes as an attacker would try them: another person's export (started or fetched), deleting another
account without being an administrator, deleting one's own without the password or without the CSRF header,
a project name that tries to leave the archive's folder, and bodies past their bounds."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import httpx
import pytest

from support import ApiClient, RunningServer, set_up_admin, start_server, wait_for_task

PASSWORD = "violet tram sixteen"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("privacy-access"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def person(server: RunningServer, username: str) -> ApiClient:
    client = ApiClient(server.url)
    client.register(username, PASSWORD)
    return client


def me(client: ApiClient) -> str:
    return str(client.get("/api/v1/auth/me").json()["user"]["id"])


def test_nobody_but_the_owner_and_administrators_gets_an_export(server: RunningServer, admin: ApiClient) -> None:
    owner, other = person(server, "olga-owner"), person(server, "mallory-other")
    task = owner.post("/api/v1/auth/me/export").json()
    wait_for_task(owner, task["id"], timeout=60)
    for path in (f"/api/v1/tasks/{task['id']}", f"/api/v1/tasks/{task['id']}/result"):
        assert other.get(path).status_code == 404  # answered like a task that does not exist
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get(f"/api/v1/tasks/{task['id']}/result").status_code == 401
    # The kind exports its owner only: naming someone else is refused, not ignored.
    named = other.post("/api/v1/tasks", json={"kind": "account.export", "params": {"user_id": me(owner)}})
    assert named.status_code == 422, named.text
    for method, path in (("POST", f"/api/v1/admin/users/{me(owner)}/export"),
                         ("GET", f"/api/v1/admin/users/{me(owner)}/exports"),
                         ("GET", f"/api/v1/admin/users/{me(owner)}/deletion")):
        assert other.request(method, path).status_code == 403, path
    assert admin.get(f"/api/v1/tasks/{task['id']}/result").status_code == 200


def test_only_administrators_delete_someone_else(server: RunningServer, admin: ApiClient) -> None:
    victim, attacker = person(server, "vera-victim"), person(server, "ivan-attacker")
    victim_id = me(victim)
    assert attacker.post(f"/api/v1/admin/users/{victim_id}/delete", json={"projects": []}).status_code == 403
    assert attacker.delete(f"/api/v1/admin/users/{victim_id}", params={"projects": "delete"}).status_code == 403
    # The self-service route deletes the caller, whatever the body names.
    smuggled = attacker.post("/api/v1/auth/me/delete", json={"password": PASSWORD, "user_id": victim_id})
    assert smuggled.status_code == 400
    assert victim.get("/api/v1/auth/me").status_code == 200


def test_deleting_my_account_needs_my_password_and_the_csrf_header(server: RunningServer) -> None:
    nina = person(server, "nina-careful")
    assert nina.post("/api/v1/auth/me/delete", json={"projects": []}).status_code == 403  # no password
    plan = nina.get("/api/v1/auth/me/deletion").json()
    choices = [{"id": p["id"], "action": "delete"} for p in plan["projects"]]
    no_csrf = httpx.post(f"{server.url}/api/v1/auth/me/delete", cookies=dict(nina.cookies),
                         json={"password": PASSWORD, "projects": choices})
    assert no_csrf.status_code == 403
    assert nina.get("/api/v1/auth/me").status_code == 200


def test_a_guest_deletes_their_sandbox_without_a_password_but_hands_nothing_on(server: RunningServer,
                                                                              admin: ApiClient) -> None:
    guest = ApiClient(server.url)
    assert guest.post("/api/v1/auth/guest").status_code == 201
    plan = guest.get("/api/v1/auth/me/deletion").json()
    assert plan["password_needed"] is False and plan["heirs"] == []
    if plan["projects"]:
        handed = [{"id": p["id"], "action": "transfer", "to": me(admin)} for p in plan["projects"]]
        assert guest.post("/api/v1/auth/me/delete", json={"projects": handed}).status_code == 422
    gone = guest.post("/api/v1/auth/me/delete",
                      json={"projects": [{"id": p["id"], "action": "delete"} for p in plan["projects"]]})
    assert gone.status_code == 204, gone.text
    assert guest.get("/api/v1/auth/me").status_code == 401


def test_a_hostile_project_name_stays_inside_the_archive_and_bodies_are_bounded(server: RunningServer) -> None:
    eve = person(server, "eve-paths")
    for name in ("../../etc/passwd", "/abs/olute", "..\\..\\win", "README.md", "   .hidden"):
        assert eve.post("/api/v1/projects", json={"name": name}).status_code == 201
    task = eve.post("/api/v1/auth/me/export").json()
    wait_for_task(eve, task["id"], timeout=90)
    archive = zipfile.ZipFile(io.BytesIO(eve.get(f"/api/v1/tasks/{task['id']}/result").content))
    projects = [n for n in archive.namelist() if n.startswith("projects/")]
    assert len(projects) == 5
    for name in projects:
        inner = name.removeprefix("projects/")
        assert "/" not in inner and "\\" not in inner and not inner.startswith("."), name  # one file, in its folder
    assert archive.read("README.md").startswith(b"# Your data")  # a project named README.md replaces nothing
    too_many = [{"id": f"p_{i}", "action": "delete"} for i in range(10_001)]
    assert eve.post("/api/v1/auth/me/delete", json={"password": PASSWORD, "projects": too_many}).status_code == 400
    long_id = [{"id": "p_" + "x" * 100, "action": "delete"}]
    assert eve.post("/api/v1/auth/me/delete", json={"password": PASSWORD, "projects": long_id}).status_code == 400
    odd = [{"id": "p_1", "action": "shred"}]
    assert eve.post("/api/v1/auth/me/delete", json={"password": PASSWORD, "projects": odd}).status_code == 400
    assert eve.get("/api/v1/auth/me").status_code == 200
