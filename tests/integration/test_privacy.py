"""Privacy on a real server: a person's data as one zip (a task), deleting an account with a choice for each
project it owns alone (self-service and by an administrator), "Former member" in the views afterwards, sessions,
tokens and sockets ended at once, and the retention spans with the sweep that honours them."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import websockets
from sqlmodel import select

from mediastudio.common import utcnow
from mediastudio.privacy.retention import sweep
from mediastudio.projects.tables import Project
from mediastudio.settings import Settings
from mediastudio.tables import open_database
from mediastudio.tasks.tables import Task
from support import (
    ApiClient,
    RunningServer,
    make_team,
    run_async,
    set_up_admin,
    start_server,
    wait_for_task,
    wait_until,
)

PASSWORD = "violet tram sixteen"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("privacy"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def person(server: RunningServer, username: str) -> ApiClient:
    client = ApiClient(server.url)
    client.register(username, PASSWORD, display_name=username.title())
    return client


def me(client: ApiClient) -> str:
    return str(client.get("/api/v1/auth/me").json()["user"]["id"])


def exported(client: ApiClient, started: dict[str, Any]) -> zipfile.ZipFile:
    task = wait_for_task(client, started["id"], timeout=60)
    download = client.get(f"/api/v1/tasks/{task['id']}/result")
    assert download.status_code == 200, download.text
    return zipfile.ZipFile(io.BytesIO(download.content))


def audit_actions(admin: ApiClient, target: str) -> list[str]:
    return [e["action"] for e in admin.get("/api/v1/admin/audit", params={"target": target}).json()["items"]]


def test_my_data_comes_as_one_zip_that_only_i_and_administrators_may_fetch(server: RunningServer,
                                                                          admin: ApiClient) -> None:
    erin, frank = person(server, "erin-export"), person(server, "frank-other")
    film = erin.post("/api/v1/projects", json={"name": "Erin's film"}).json()
    erin.post("/api/v1/projects", json={"name": "Erin's film"})  # the same name twice: two entries
    token = erin.post("/api/v1/auth/tokens", json={"name": "my script"}).json()
    scene = erin.get(f"/api/v1/projects/{film['id']}/scenes").json()["items"][0]
    said = erin.post(f"/api/v1/projects/{film['id']}/comments",
                     json={"target": {"kind": "scene", "id": scene["id"]}, "body": "Cut the second shot"})
    assert said.status_code == 201, said.text
    others = frank.post("/api/v1/projects", json={"name": "Frank's"}).json()
    frank_scene = frank.get(f"/api/v1/projects/{others['id']}/scenes").json()["items"][0]
    theirs = frank.post(f"/api/v1/projects/{others['id']}/comments",
                        json={"target": {"kind": "scene", "id": frank_scene["id"]}, "body": "Not Erin's"})
    assert theirs.status_code == 201, theirs.text
    started = erin.post("/api/v1/auth/me/export")
    assert started.status_code == 202, started.text
    archive = exported(erin, started.json())
    names = set(archive.namelist())
    assert {"README.md", "index.json", "profile.json", "memberships.json", "activity.json", "tasks.json",
            "api_tokens.json", "sessions.json", "audit.json", "comments.json"} <= names
    comments = json.loads(archive.read("comments.json"))  # what she wrote, and only that
    assert [(c["project_id"], c["text"], c["about"]["kind"]) for c in comments] == [
        (film["id"], "Cut the second shot", "scene")]
    projects = sorted(n for n in names if n.startswith("projects/"))
    assert len(projects) == 2 and "projects/Erin_s film.msproj" in projects  # the second: its id before the name
    assert all(n.endswith("Erin_s film.msproj") and ".." not in n for n in projects)
    with zipfile.ZipFile(io.BytesIO(archive.read(projects[0]))) as msproj:  # a real .msproj inside
        assert msproj.namelist()
    entries = {f["file"]: f for f in json.loads(archive.read("index.json"))["files"]}
    assert film["id"] in {entries[n]["project_id"] for n in projects}
    assert json.loads(archive.read("profile.json"))["username"] == "erin-export"
    roles = json.loads(archive.read("memberships.json"))["workspaces"]
    assert [r["role"] for r in roles if r["kind"] == "personal"] == ["owner"]
    tokens = json.loads(archive.read("api_tokens.json"))
    assert [t["name"] for t in tokens] == ["my script"] and set(tokens[0]) == {
        "id", "name", "created_at", "expires_at", "last_used_at"}
    everything = b"".join(archive.read(n) for n in names if not n.startswith("projects/"))
    assert token["token"].encode() not in everything and token["token"][:12].encode() not in everything
    assert "token.create" in {e["action"] for e in json.loads(archive.read("audit.json"))}
    readme = archive.read("README.md").decode()
    assert "comments.json" in readme and "erin-export" in readme
    index = json.loads(archive.read("index.json"))
    assert {f["file"] for f in index["files"]} == names - {"README.md", "index.json"}
    task_id = started.json()["id"]
    assert frank.get(f"/api/v1/tasks/{task_id}/result").status_code == 404  # someone else's: as if missing
    assert frank.get(f"/api/v1/tasks/{task_id}").status_code == 404
    assert admin.get(f"/api/v1/tasks/{task_id}/result").status_code == 200
    assert [t["id"] for t in erin.get("/api/v1/auth/me/exports").json()] == [task_id]
    assert frank.get("/api/v1/auth/me/exports").json() == []
    assert "user.export" in audit_actions(admin, me(erin))


def test_an_administrator_exports_someone_and_the_task_is_theirs(server: RunningServer, admin: ApiClient) -> None:
    gail = person(server, "gail-exported")
    started = admin.post(f"/api/v1/admin/users/{me(gail)}/export")
    assert started.status_code == 202, started.text
    assert started.json()["owner_id"] == me(gail)  # it can only ever export its owner
    archive = exported(admin, started.json())
    assert json.loads(archive.read("profile.json"))["username"] == "gail-exported"
    assert [t["id"] for t in admin.get(f"/api/v1/admin/users/{me(gail)}/exports").json()] == [started.json()["id"]]
    assert gail.post(f"/api/v1/admin/users/{me(gail)}/export").status_code == 403
    assert admin.post("/api/v1/admin/users/u_nobody/export").status_code == 404


def test_deleting_my_account_hands_on_or_deletes_each_project_and_ends_my_sessions(server: RunningServer,
                                                                                 admin: ApiClient) -> None:
    gina, hal, stranger = person(server, "gina-going"), person(server, "hal-heir"), person(server, "sam-stranger")
    kept = gina.post("/api/v1/projects", json={"name": "Kept film"}).json()
    lost = gina.post("/api/v1/projects", json={"name": "Lost reel"}).json()
    team = gina.post("/api/v1/workspaces", json={"name": "Gina's crew"}).json()
    gina.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": "hal-heir"})
    shared = gina.post("/api/v1/projects", json={"name": "Crew film", "workspace_id": team["id"]}).json()
    token = gina.post("/api/v1/auth/tokens", json={"name": "script"}).json()["token"]
    plan = gina.get("/api/v1/auth/me/deletion").json()
    assert sorted(p["name"] for p in plan["projects"]) == ["Kept film", "Lost reel"]
    assert [h["username"] for h in plan["heirs"]] == ["hal-heir"]  # only people gina shares a workspace with
    assert plan["shared_workspaces"] == ["Gina's crew"] and plan["password_needed"] is True
    choices = [{"id": kept["id"], "action": "transfer", "to": me(hal)}, {"id": lost["id"], "action": "delete"}]
    wrong = gina.post("/api/v1/auth/me/delete", json={"password": "not it at all", "projects": choices})
    assert wrong.status_code == 403 and wrong.json()["field"] == "password"
    partial = gina.post("/api/v1/auth/me/delete", json={"password": PASSWORD, "projects": choices[:1]})
    assert partial.status_code == 422 and "Lost reel" in partial.json()["detail"]
    # A refused choice (a stranger) after a good one leaves nothing half done: no folder moved.
    to_stranger = [choices[0], {"id": lost["id"], "action": "transfer", "to": me(stranger)}]
    assert gina.post("/api/v1/auth/me/delete", json={"password": PASSWORD, "projects": to_stranger}
                     ).status_code == 422
    assert gina.get(f"/api/v1/projects/{kept['id']}").status_code == 200
    assert gina.get(f"/api/v1/projects/{kept['id']}/history").status_code == 200
    assert (server.data_dir / "workspaces" / kept["workspace_id"] / "projects" / kept["id"] / ".git").is_dir()
    gina_id = me(gina)
    copy = gina.post("/api/v1/auth/me/export").json()
    wait_for_task(gina, copy["id"], timeout=60)
    done = gina.post("/api/v1/auth/me/delete", json={"password": PASSWORD, "projects": choices})
    assert done.status_code == 204, done.text
    assert gina.get("/api/v1/auth/me").status_code == 401
    with ApiClient(server.url, headers={"Authorization": f"Bearer {token}"}) as script:
        assert script.get("/api/v1/auth/me").status_code == 401
    got = hal.get(f"/api/v1/projects/{kept['id']}")
    assert got.status_code == 200 and got.json()["name"] == "Kept film"
    personal = next(w for w in hal.get("/api/v1/workspaces").json()["items"] if w["kind"] == "personal")
    assert got.json()["workspace_id"] == personal["id"]
    assert len(hal.get(f"/api/v1/projects/{kept['id']}/history").json()["items"]) >= 1  # history came along
    assert admin.get(f"/api/v1/projects/{lost['id']}").status_code == 404
    assert admin.get(f"/api/v1/tasks/{copy['id']}").status_code == 404  # a copy of their data went with them
    assert not (server.data_dir / "tasks" / copy["id"]).exists()
    assert hal.get(f"/api/v1/projects/{shared['id']}").status_code == 200  # the team's workspace stays
    entries = admin.get("/api/v1/admin/audit", params={"target": gina_id}).json()["items"]
    assert entries[0]["action"] == "user.delete" and entries[0]["details"]["via"] == "self"
    assert entries[0]["details"]["transferred"] == 1 and entries[0]["details"]["deleted"] == 1
    assert "project.transfer" in audit_actions(admin, kept["id"])
    with ApiClient(server.url) as again:
        assert again.post("/api/v1/auth/login", json={"username": "gina-going", "password": PASSWORD}
                          ).status_code == 401


def test_an_administrator_deletes_someone_with_a_choice_for_each_project(server: RunningServer,
                                                                        admin: ApiClient) -> None:
    ivy, jon = person(server, "ivy-removed"), person(server, "jon-gets")
    first = ivy.post("/api/v1/projects", json={"name": "First"}).json()
    second = ivy.post("/api/v1/projects", json={"name": "Second"}).json()
    plan = admin.get(f"/api/v1/admin/users/{me(ivy)}/deletion").json()
    assert "jon-gets" in [h["username"] for h in plan["heirs"]]  # an administrator may pick anyone
    ivy_id = me(ivy)
    done = admin.post(f"/api/v1/admin/users/{ivy_id}/delete", json={"projects": [
        {"id": first["id"], "action": "transfer", "to": me(jon)}, {"id": second["id"], "action": "delete"}]})
    assert done.status_code == 204, done.text
    assert jon.get(f"/api/v1/projects/{first['id']}").status_code == 200
    assert admin.get(f"/api/v1/projects/{second['id']}").status_code == 404
    assert admin.post(f"/api/v1/admin/users/{me(admin)}/delete", json={"projects": []}).status_code == 409


def test_a_deleted_person_reads_former_member_and_their_sockets_close(server: RunningServer,
                                                                     admin: ApiClient) -> None:
    team = make_team(server, admin, 4242)
    bob, bob_id, project, scene = team["bob"], team["bob_id"], team["project"], team["scene"]
    graph_url = f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph"
    graph = bob.get(graph_url).json()
    generate = next(n for n in graph["nodes"].values() if "steps" in n.get("params", {}))
    generate["params"]["steps"] = 11
    assert bob.put(graph_url, json=graph).status_code == 200
    activity = f"/api/v1/projects/{project['id']}/activity"
    wait_until(lambda: admin.get(activity).json()["items"],
               until=lambda items: any((i["user"] or {}).get("id") == bob_id for i in items), timeout=15,
               message="bob's activity")
    history = f"/api/v1/projects/{project['id']}/history"
    wait_until(lambda: admin.get(history).json()["items"],
               until=lambda items: any(c["author"]["id"] == bob_id for c in items), timeout=15,
               message="bob's commit")
    task = bob.post("/api/v1/tasks", json={"kind": "project.export", "project_id": project["id"]}).json()
    wait_for_task(bob, task["id"], timeout=60)
    events_url = server.url.replace("http://", "ws://") + "/api/v1/events"
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in bob.cookies.items())}

    async def deleted_while_listening() -> int | None:
        async with websockets.connect(events_url, additional_headers=cookie) as events:
            assert json.loads(await events.recv())["type"] == "hello"
            gone = await asyncio.to_thread(admin.delete, f"/api/v1/admin/users/{bob_id}",
                                           params={"projects": "delete"})
            assert gone.status_code == 204, gone.text
            try:
                while True:
                    await asyncio.wait_for(events.recv(), 5)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None

    assert run_async(deleted_while_listening()) == 4401
    assert bob.get("/api/v1/auth/me").status_code == 401
    items = admin.get(activity).json()["items"]
    assert bob_id not in {(i["user"] or {}).get("id") for i in items}
    assert any((i["user"] or {}).get("display_name") == "Former member" for i in items)
    assert all((i["user"] or {}).get("display_name") != "Bob" for i in items)
    commits = admin.get(history).json()["items"]
    assert bob_id not in {c["author"]["id"] for c in commits}
    assert "Former member" in {c["author"]["name"] for c in commits}
    listed = admin.get("/api/v1/tasks", params={"all": "true"}).json()["items"]
    assert [t["owner_name"] for t in listed if t["id"] == task["id"]] == ["Former member"]
    # The audit log keeps who it was, for administrators.
    assert admin.get("/api/v1/admin/audit", params={"by": bob_id}).json()["items"][0]["actor_name"] == "bob4242"


def test_retention_spans_are_edited_together_and_the_sweep_honours_them(server: RunningServer,
                                                                        admin: ApiClient) -> None:
    read = admin.get("/api/v1/admin/retention")
    assert read.status_code == 200
    assert {k: read.json()[k] for k in ("trash_days", "guest_days", "audit_days", "task_days", "export_days")} == {
        "trash_days": 30, "guest_days": 7, "audit_days": 365, "task_days": 90, "export_days": 7}
    with ApiClient(server.url) as kim:
        kim.register("kim-plain", PASSWORD)
        assert kim.get("/api/v1/admin/retention").status_code == 403
        assert kim.patch("/api/v1/admin/retention", json={"trash_days": 1}).status_code == 403
    assert admin.patch("/api/v1/admin/retention", json={"trash_days": 0}).status_code == 400
    assert admin.patch("/api/v1/admin/retention", json={"forever": 1}).status_code == 400
    changed = admin.patch("/api/v1/admin/retention", json={"trash_days": 5, "export_days": 2, "task_days": 20})
    assert changed.status_code == 200 and changed.json()["trash_days"] == 5
    entry = admin.get("/api/v1/admin/audit", params={"action": "settings.retention"}).json()["items"][0]
    assert entry["details"]["trash_days"] == {"from": 30, "to": 5}

    lee = person(server, "lee-retained")
    trashed = lee.post("/api/v1/projects", json={"name": "Old trash"}).json()
    fresh = lee.post("/api/v1/projects", json={"name": "New trash"}).json()
    for project in (trashed, fresh):
        assert lee.delete(f"/api/v1/projects/{project['id']}").status_code in (200, 204)
    started = lee.post("/api/v1/auth/me/export").json()
    wait_for_task(lee, started["id"], timeout=60)
    settings = Settings(data_dir=server.data_dir, probe_gpu=False)
    db = open_database(settings.database_path)
    try:
        with db.transaction() as session:
            session.get(Project, trashed["id"]).trashed_at = utcnow() - timedelta(days=6)  # type: ignore[union-attr]
            session.get(Task, started["id"]).finished_at = utcnow() - timedelta(days=3)  # type: ignore[union-attr]
            session.add(Task(id="t_ancient", kind="media.previews", lane="cpu", title="Long ago", owner_id=me(lee),
                             status="succeeded", finished_at=utcnow() - timedelta(days=21)))
        done = sweep(db, settings)
        assert done["trash"] == 1 and done["exports"] == 1 and done["tasks"] >= 1
        with db.session() as session:
            assert session.get(Project, trashed["id"]) is None and session.get(Project, fresh["id"]) is not None
            assert session.get(Task, "t_ancient") is None
            left = session.exec(select(Task).where(Task.id == started["id"])).one()
            assert left.result is not None and left.result["expired"] is True and left.result["file"] is None
    finally:
        db.close()
    assert lee.get(f"/api/v1/tasks/{started['id']}/result").status_code == 404
    assert not (server.data_dir / "tasks" / started["id"]).exists()
