"""Workspaces over a real server: tenants, invitations, roles, and 404 for what you are not in."""

from collections.abc import Iterator

import pytest

from support import ApiClient, RunningServer, set_up_admin, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("workspaces"))
    set_up_admin(server.url).close()
    yield server
    server.stop()


@pytest.fixture
def people(server: RunningServer, request: pytest.FixtureRequest) -> Iterator[dict[str, ApiClient]]:
    """Three registered people, named after the test so each test has its own."""
    tag = abs(hash(request.node.name)) % 10**6
    clients = {name: ApiClient(server.url) for name in ("owner", "member", "outsider")}
    for name, client in clients.items():
        client.register(f"{name}{tag}", display_name=name.title())
    yield clients
    for client in clients.values():
        client.close()


def _team(owner: ApiClient, name: str = "Grading Suite") -> dict:
    created = owner.post("/api/v1/workspaces", json={"name": name})
    assert created.status_code == 201, created.text
    return created.json()


def _username(client: ApiClient) -> str:
    return client.get("/api/v1/auth/me").json()["user"]["username"]


def test_everyone_gets_a_personal_workspace(people: dict[str, ApiClient]) -> None:
    (personal,) = people["owner"].get("/api/v1/workspaces").json()["items"]
    assert personal["kind"] == "personal" and personal["role"] == "owner" and personal["member_count"] == 1


def test_a_team_workspace_with_an_invited_member(people: dict[str, ApiClient]) -> None:
    owner, member = people["owner"], people["member"]
    team = _team(owner)
    invited = owner.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": _username(member)})
    assert invited.status_code == 201 and invited.json()["role"] == "member"
    seen = {w["id"]: w for w in member.get("/api/v1/workspaces").json()["items"]}
    assert seen[team["id"]]["role"] == "member" and seen[team["id"]]["member_count"] == 2
    names = [m["user"]["display_name"] for m in member.get(f"/api/v1/workspaces/{team['id']}/members").json()["items"]]
    assert names == ["Owner", "Member"]
    again = owner.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": _username(member)})
    assert again.status_code == 409
    nobody = owner.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": "no-such-person"})
    assert nobody.status_code == 404 and "No user is named" in nobody.json()["detail"]


def test_outsiders_get_404_never_403(people: dict[str, ApiClient]) -> None:
    owner, outsider = people["owner"], people["outsider"]
    team = _team(owner, "Secret Project X")
    for method, path, body in [
        ("GET", f"/api/v1/workspaces/{team['id']}", None),
        ("PATCH", f"/api/v1/workspaces/{team['id']}", {"name": "mine now"}),
        ("GET", f"/api/v1/workspaces/{team['id']}/members", None),
        ("POST", f"/api/v1/workspaces/{team['id']}/members", {"username": _username(outsider)}),
    ]:
        response = outsider.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert "Secret Project X" not in response.text
    assert team["id"] not in outsider.get("/api/v1/workspaces").text
    assert owner.get(f"/api/v1/workspaces/{team['id']}").json()["name"] == "Secret Project X"


def test_members_cannot_manage_and_admins_cannot_touch_owners(people: dict[str, ApiClient]) -> None:
    owner, member, outsider = people["owner"], people["member"], people["outsider"]
    team = _team(owner)
    base = f"/api/v1/workspaces/{team['id']}/members"
    member_id = owner.post(base, json={"username": _username(member)}).json()["user"]["id"]
    owner_id = owner.get("/api/v1/auth/me").json()["user"]["id"]

    refused = member.post(base, json={"username": _username(outsider)})
    assert refused.status_code == 403 and refused.json()["detail"]
    assert member.patch(f"/api/v1/workspaces/{team['id']}", json={"name": "x"}).status_code == 403

    assert owner.patch(f"{base}/{member_id}", json={"role": "admin"}).json()["role"] == "admin"
    assert member.post(base, json={"username": _username(outsider), "role": "member"}).status_code == 201
    assert member.patch(f"{base}/{owner_id}", json={"role": "member"}).status_code == 403
    assert member.post(base, json={"username": "x", "role": "owner"}).status_code == 403
    bad_role = owner.patch(f"{base}/{member_id}", json={"role": "emperor"})
    assert bad_role.status_code == 400 and "role" in bad_role.text


def test_the_last_owner_cannot_leave_but_others_can(people: dict[str, ApiClient]) -> None:
    owner, member = people["owner"], people["member"]
    team = _team(owner)
    base = f"/api/v1/workspaces/{team['id']}/members"
    member_id = owner.post(base, json={"username": _username(member)}).json()["user"]["id"]
    owner_id = owner.get("/api/v1/auth/me").json()["user"]["id"]

    stuck = owner.delete(f"{base}/{owner_id}")
    assert stuck.status_code == 409 and "at least one owner" in stuck.json()["detail"]
    demote = owner.patch(f"{base}/{owner_id}", json={"role": "member"})
    assert demote.status_code == 409

    assert member.delete(f"{base}/{member_id}").status_code == 204  # leaving
    assert member.get(f"/api/v1/workspaces/{team['id']}").status_code == 404


def test_owners_set_the_default_project_role(people: dict[str, ApiClient]) -> None:
    owner = people["owner"]
    team = _team(owner)
    changed = owner.patch(
        f"/api/v1/workspaces/{team['id']}", json={"default_project_role": "viewer", "name": "Dailies"}
    )
    assert changed.status_code == 200
    assert changed.json()["default_project_role"] == "viewer" and changed.json()["name"] == "Dailies"


def test_personal_workspaces_stay_personal(people: dict[str, ApiClient]) -> None:
    owner, member = people["owner"], people["member"]
    (personal,) = owner.get("/api/v1/workspaces").json()["items"]
    refused = owner.post(f"/api/v1/workspaces/{personal['id']}/members", json={"username": _username(member)})
    assert refused.status_code == 409 and "team workspace" in refused.json()["hint"]
