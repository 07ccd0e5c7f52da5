"""The audit log on a real server: each family of recorded actions (sign-ins, tokens, people, settings, roles,
projects, models, invitations, webhooks, the command line), its filters and paging, the CSV and JSON downloads,
an entry only for a change that was made, and the retention sweep."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from mediastudio.audit.tables import AuditEntry
from mediastudio.privacy.retention import sweep
from mediastudio.settings import Settings
from mediastudio.tables import open_database
from support import ApiClient, RunningServer, make_team, set_up_admin, start_server

PASSWORD = "violet tram sixteen"
AUDIT = "/api/v1/admin/audit"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("audit"), env={
        "MEDIASTUDIO_WEBHOOK_ALLOW_PRIVATE": "true", "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def entries(admin: ApiClient, **params: Any) -> list[dict[str, Any]]:
    answer = admin.get(AUDIT, params={"limit": 200, **params})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def actions(admin: ApiClient, **params: Any) -> list[str]:
    return [e["action"] for e in entries(admin, **params)]


def person(server: RunningServer, username: str) -> ApiClient:
    client = ApiClient(server.url, headers={"User-Agent": f"audit-test/{username}"})
    client.register(username, PASSWORD)
    return client


def test_setup_is_recorded_with_who_and_from_where(server: RunningServer, admin: ApiClient) -> None:
    made = entries(admin, action="user.create", target="admin")
    assert made and made[-1]["details"]["via"] == "setup"
    assert made[-1]["ip"] == "127.0.0.1" and made[-1]["target_kind"] == "user"
    signed_in = entries(admin, action="auth.login", by="admin")[-1]
    assert signed_in["actor_name"] == "admin" and signed_in["actor_id"]
    assert datetime.fromisoformat(signed_in["at"]).tzinfo is not None


def test_logins_failed_logins_and_logouts(server: RunningServer, admin: ApiClient) -> None:
    lena = person(server, "lena-login")
    with ApiClient(server.url, headers={"User-Agent": "curious-browser/1.0"}) as stranger:
        assert stranger.post("/api/v1/auth/login", json={"username": "Lena-Login",
                                                         "password": "not it at all"}).status_code == 401
        assert stranger.post("/api/v1/auth/login", json={"username": "nobody-here",
                                                         "password": "not it at all"}).status_code == 401
        assert stranger.post("/api/v1/auth/login", json={"username": "lena-login",
                                                         "password": PASSWORD}).is_success
        assert stranger.post("/api/v1/auth/logout").status_code == 204
    failed = entries(admin, action="auth.login_failed")
    tried = {e["actor_name"] for e in failed}
    assert {"lena-login", "nobody-here"} <= tried
    one = next(e for e in failed if e["actor_name"] == "nobody-here")
    assert one["actor_id"] is None and one["user_agent"] == "curious-browser/1.0" and one["ip"] == "127.0.0.1"
    lena_id = lena.get("/api/v1/auth/me").json()["user"]["id"]
    assert actions(admin, by=lena_id)[:2] == ["auth.logout", "auth.login"]  # newest first
    assert entries(admin, action="user.create", target="lena-login")[0]["details"]["via"] == "register"
    lena.close()


def test_tokens_made_and_revoked(server: RunningServer, admin: ApiClient) -> None:
    tom = person(server, "tom-tokens")
    token = tom.post("/api/v1/auth/tokens", json={"name": "ci script"}).json()
    assert tom.delete(f"/api/v1/auth/tokens/{token['id']}").status_code == 204
    found = entries(admin, target=token["id"])
    assert [e["action"] for e in found] == ["token.revoke", "token.create"]
    assert found[0]["actor_name"] == "tom-tokens" and found[0]["target_label"] == "ci script"
    tom.close()


def test_people_invitations_and_what_fails_leaves_nothing(server: RunningServer, admin: ApiClient) -> None:
    made = admin.post("/api/v1/admin/users", json={"username": "pia-people", "password": PASSWORD}).json()
    pia = made["id"]
    admin.patch(f"/api/v1/admin/users/{pia}", json={"disabled": True})
    admin.patch(f"/api/v1/admin/users/{pia}", json={"disabled": False})
    admin.patch(f"/api/v1/admin/users/{pia}", json={"is_admin": True})
    admin.patch(f"/api/v1/admin/users/{pia}", json={"is_admin": False})
    admin.post(f"/api/v1/admin/users/{pia}/password", json={})
    assert admin.delete(f"/api/v1/admin/users/{pia}", params={"projects": "delete"}).status_code == 204
    assert actions(admin, target=pia) == ["user.delete", "user.password_reset", "user.admin_revoke",
                                          "user.admin_grant", "user.enable", "user.disable", "user.create"]
    assert entries(admin, target=pia)[-1]["details"] == {"via": "admin", "is_admin": False}
    # Refused changes (a taken name, disabling oneself) roll back with their entry.
    people_actions = ["user.create", "user.disable"]
    before = len(entries(admin, action=people_actions))
    assert admin.post("/api/v1/admin/users", json={"username": "admin", "password": PASSWORD}).status_code == 409
    me = admin.get("/api/v1/auth/me").json()["user"]["id"]
    assert admin.patch(f"/api/v1/admin/users/{me}", json={"disabled": True}).status_code == 409
    assert len(entries(admin, action=people_actions)) == before

    invite = admin.post("/api/v1/admin/invites", json={"note": "for ivo", "uses": 2}).json()
    with ApiClient(server.url) as ivo:
        ivo.register("ivo-invited", PASSWORD, invite=invite["secret"])
    second = admin.post("/api/v1/admin/invites", json={"note": "not needed"}).json()
    assert admin.delete(f"/api/v1/admin/invites/{second['id']}").status_code == 204
    assert entries(admin, action="user.create", target="ivo-invited")[0]["details"]["via"] == "invite"
    made_links = entries(admin, action="invite")
    assert [e["action"] for e in made_links[:3]] == ["invite.revoke", "invite.create", "invite.create"]
    assert made_links[0]["target_label"] == "not needed"


def test_guests_keeping_their_work_are_recorded(server: RunningServer, admin: ApiClient) -> None:
    with ApiClient(server.url) as guest:
        assert guest.post("/api/v1/auth/guest").status_code == 201
        guest.register("gus-guest", PASSWORD)
    vias = [e["details"]["via"] for e in entries(admin, action="user.create")]
    assert "guest" in vias and "guest_claim" in vias


def test_settings_changes(server: RunningServer, admin: ApiClient) -> None:
    assert admin.patch("/api/v1/auth/config", json={"guests_enabled": False}).is_success
    assert admin.patch("/api/v1/auth/config", json={"guests_enabled": True}).is_success
    change = entries(admin, action="settings.access")[1]
    assert change["details"]["before"]["guests_enabled"] is True
    assert change["details"]["after"]["guests_enabled"] is False
    assert admin.patch("/api/v1/admin/quotas", json={"guest": {"runs_at_once": 3}}).is_success
    quota = entries(admin, action="settings.quotas")[0]
    assert quota["details"] == {"guest": {"runs_at_once": 3}} and quota["actor_name"] == "admin"


def test_memberships_project_roles_and_projects(server: RunningServer, admin: ApiClient) -> None:
    ana = person(server, "ana-owner")
    team = make_team(server, ana, 7)
    project = team["project"]
    ana.patch(f"/api/v1/workspaces/{team['workspace']['id']}/members/{team['bob_id']}", json={"role": "admin"})
    ana.delete(f"/api/v1/workspaces/{team['workspace']['id']}/members/{team['bob_id']}")
    assert actions(admin, target=team["bob_id"], action="workspace") == [
        "workspace.member_remove", "workspace.member_role", "workspace.member_add"]
    role = entries(admin, action="project.role", target=project["id"])[0]
    assert role["details"]["username"] == "vic7" and role["details"]["role"] == "viewer"

    exported = ana.get(f"/api/v1/projects/{project['id']}/export")
    assert exported.status_code == 200
    imported = ana.post("/api/v1/projects/import", content=exported.content,
                        headers={"Content-Type": "application/zip"})
    assert imported.status_code == 201, imported.text
    assert ana.delete(f"/api/v1/projects/{project['id']}").status_code == 204
    assert ana.post(f"/api/v1/projects/{project['id']}/restore").status_code == 200
    assert actions(admin, target=project["id"])[:3] == ["project.restore", "project.trash", "project.export"]
    assert entries(admin, action="project.import", by="ana-owner")[0]["target_id"] == imported.json()["id"]
    bulk = ana.post("/api/v1/projects/bulk", json={"action": "delete", "ids": [imported.json()["id"]]})
    assert bulk.json()["results"][0]["ok"] is True
    assert actions(admin, target=imported.json()["id"])[0] == "project.trash"
    ana.close()


def test_models_added_removed_and_downloads_started(server: RunningServer, admin: ApiClient,
                                                    tmp_path: Path) -> None:
    folder = tmp_path / "tiny-pipeline"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    added = admin.post("/api/v1/models", json={"path": str(folder), "name": "audit-tiny"})
    assert added.status_code == 201, added.text
    assert admin.delete("/api/v1/models/audit-tiny").status_code == 204
    assert admin.delete("/api/v1/models/audit-tiny").status_code == 404  # nothing removed: nothing recorded
    pulled = admin.post("/api/v1/models", json={"repo": "nobody/nothing-here", "name": "audit-pull"})
    assert pulled.status_code == 201, pulled.text
    assert actions(admin, target="audit-tiny") == ["model.remove", "model.add"]
    download = entries(admin, action="model.download")[0]
    assert download["details"]["repo"] == "nobody/nothing-here" and download["details"]["task_id"]


def test_webhooks_made_and_removed(server: RunningServer, admin: ApiClient) -> None:
    wes = person(server, "wes-webhooks")
    hook = wes.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks/s3cr3t-path"}).json()
    assert wes.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    found = entries(admin, target=hook["id"])
    assert [e["action"] for e in found] == ["webhook.remove", "webhook.create"]
    assert found[0]["target_label"] == "127.0.0.1"  # the host only: a URL's path may be its secret
    wes.close()


def test_command_line_changes_are_recorded(server: RunningServer, admin: ApiClient) -> None:
    env = {**os.environ, "MEDIASTUDIO_DATA_DIR": str(server.data_dir)}
    created = subprocess.run([sys.executable, "-m", "mediastudio", "users", "create", "cli-carl", "--password-stdin"],
                             input=PASSWORD + "\n", capture_output=True, text=True, env=env, timeout=60)
    assert created.returncode == 0, created.stderr
    subprocess.run([sys.executable, "-m", "mediastudio", "users", "disable", "cli-carl"], env=env, check=True,
                   capture_output=True, timeout=60)
    subprocess.run([sys.executable, "-m", "mediastudio", "mode", "class"], env=env, check=True,
                   capture_output=True, timeout=60)
    by_shell = entries(admin, by="command line")
    assert [e["action"] for e in by_shell[:3]] == ["settings.access", "user.disable", "user.create"]
    assert all(e["actor_id"] is None and e["ip"] == "local" for e in by_shell)


def test_filters_and_paging(server: RunningServer, admin: ApiClient) -> None:
    for n in range(5):
        with ApiClient(server.url) as someone:
            someone.post("/api/v1/auth/login", json={"username": f"pager-{n}", "password": "wrong one"})
    everything = entries(admin, action="auth.login_failed", q="pager-")
    assert [e["actor_name"] for e in everything] == [f"pager-{n}" for n in reversed(range(5))]
    seen: list[int] = []
    cursor = None
    while True:
        answer = admin.get(AUDIT, params={"action": "auth.login_failed", "q": "pager-", "limit": 2,
                                          **({"cursor": cursor} if cursor else {})}).json()
        seen += [e["id"] for e in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in everything]
    # Several actions, a family, a time window, and a refusal for an action that does not exist.
    assert admin.patch("/api/v1/admin/quotas", json={"user": {"runs_at_once": 50}}).is_success
    both = set(actions(admin, action=["auth.login_failed", "settings.quotas"]))
    assert both == {"auth.login_failed", "settings.quotas"}
    family = actions(admin, action="user")
    assert "user.create" in family and all(a.startswith("user.") for a in family)
    newest = datetime.fromisoformat(everything[0]["at"])
    window = entries(admin, action="auth.login_failed", **{"from": (newest - timedelta(microseconds=1)).isoformat()})
    assert everything[0]["id"] in [e["id"] for e in window]
    assert entries(admin, **{"to": "2000-01-01T00:00:00Z"}) == []
    assert admin.get(AUDIT, params={"action": "user.explode"}).status_code == 400
    assert admin.get(AUDIT, params={"cursor": "not-a-number"}).status_code == 400


def test_downloads_as_csv_and_json(server: RunningServer, admin: ApiClient) -> None:
    with ApiClient(server.url) as someone:
        someone.post("/api/v1/auth/login", json={"username": "csv-carla", "password": "wrong one"})
    as_csv = admin.get(f"{AUDIT}/export", params={"format": "csv", "by": "csv-carla"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["action"] for r in rows] == ["auth.login_failed"] and rows[0]["actor_name"] == "csv-carla"
    as_json = admin.get(f"{AUDIT}/export", params={"format": "json", "action": "auth"})
    assert as_json.status_code == 200
    listed = as_json.json()
    assert {e["action"] for e in listed} <= {"auth.login", "auth.login_failed", "auth.logout"}
    assert listed[0] == entries(admin, action="auth")[0]  # the same entries as the list, newest first


def test_workspaces_made_renamed_and_their_default_role(server: RunningServer, admin: ApiClient) -> None:
    wanda = person(server, "wanda-workspaces")
    made = wanda.post("/api/v1/workspaces", json={"name": "Night shift"})
    assert made.status_code == 201, made.text
    workspace_id = made.json()["id"]
    assert wanda.patch(f"/api/v1/workspaces/{workspace_id}", json={"name": "Day shift"}).is_success
    assert wanda.patch(f"/api/v1/workspaces/{workspace_id}", json={"name": "Day shift"}).is_success  # no change
    assert wanda.patch(f"/api/v1/workspaces/{workspace_id}", json={"default_project_role": "viewer"}).is_success
    found = entries(admin, target=workspace_id)
    assert [e["action"] for e in found] == ["workspace.default_role", "workspace.rename", "workspace.create"]
    assert found[1]["details"] == {"before": "Night shift", "after": "Day shift"}
    assert found[2]["target_label"] == "Night shift" and found[2]["actor_name"] == "wanda-workspaces"
    assert found[0]["details"]["after"] == "viewer"
    wanda.close()


def test_a_persons_own_password_change(server: RunningServer, admin: ApiClient) -> None:
    pia = person(server, "pia-password")
    wrong = pia.patch("/api/v1/auth/me", json={"password": "another long phrase", "current_password": "nope"})
    assert wrong.status_code == 403  # refused: nothing recorded
    assert pia.patch("/api/v1/auth/me", json={"password": "another long phrase",
                                              "current_password": PASSWORD}).is_success
    found = entries(admin, action="user.password_change")
    assert [(e["target_label"], e["actor_name"]) for e in found] == [("pia-password", "pia-password")]
    assert "password" not in json.dumps(found[0]["details"])
    pia.close()


def test_the_studios_sweeps_of_guests_and_the_trash(server: RunningServer, admin: ApiClient) -> None:
    from mediastudio.auth.tables import User
    from mediastudio.privacy.retention import sweep
    from mediastudio.projects.tables import Project

    with ApiClient(server.url) as guest:
        assert guest.post("/api/v1/auth/guest").status_code == 201
        guest_user = guest.get("/api/v1/auth/me").json()["user"]
    olga = person(server, "olga-old-trash")
    project = olga.post("/api/v1/projects", json={"name": "Forgotten", "template": "text-to-image"}).json()
    assert olga.delete(f"/api/v1/projects/{project['id']}").status_code == 204
    settings = Settings(data_dir=server.data_dir, probe_gpu=False, guest_expiry_days=7)
    db = open_database(settings.database_path)
    try:
        with db.transaction() as session:
            row = session.get(User, guest_user["id"])
            assert row is not None
            row.last_seen_at = datetime.now(UTC) - timedelta(days=8)
            trashed = session.get(Project, project["id"])
            assert trashed is not None
            trashed.trashed_at = datetime.now(UTC) - timedelta(days=31)
        done = sweep(db, settings)  # the retention sweep: the trash, guests, the audit log, exports, task history
        assert done["guests"] >= 1 and done["trash"] == 1, done
    finally:
        db.close()
    expired = entries(admin, action="user.expire", target=guest_user["id"])
    assert len(expired) == 1 and expired[0]["actor_name"] == "studio" and expired[0]["ip"] == "local"
    assert expired[0]["details"]["idle_days"] == 7
    purged = entries(admin, action="project.purge", target=project["id"])
    assert [(e["target_label"], e["actor_name"]) for e in purged] == [("Forgotten", "studio")]
    olga.close()


def test_retention_removes_only_entries_older_than_the_setting(server: RunningServer, admin: ApiClient) -> None:
    settings = Settings(data_dir=server.data_dir, probe_gpu=False, audit_retention_days=30)
    db = open_database(settings.database_path)
    try:
        now = datetime.now(UTC)
        with db.transaction() as session:
            for days, label in ((40, "forty days ago"), (10, "ten days ago")):
                session.add(AuditEntry(at=now - timedelta(days=days), actor_name="old-timer", action="auth.login",
                                       target_label=label))
        assert sweep(db, settings)["audit"] >= 1
        with db.session() as session:
            left = {e.target_label for e in session.exec(select(AuditEntry).where(
                AuditEntry.actor_name == "old-timer")).all()}
        assert left == {"ten days ago"}
        assert entries(admin, action="user.create", target="admin")  # recent entries stay
    finally:
        db.close()


def test_an_entry_rolls_back_with_its_change(tmp_path: Path) -> None:
    """`record()` writes into the caller's transaction: when the change fails after it, the entry is gone too."""
    from mediastudio.audit.actions import Action
    from mediastudio.audit.record import COMMAND_LINE, Target, record

    db = open_database(tmp_path / "mediastudio.sqlite")
    try:
        with pytest.raises(RuntimeError), db.transaction() as session:
            record(session, COMMAND_LINE, Action.USER_DELETE, Target("user", "u_1", "gone-later"),
                   {"password": "never kept", "note": "x" * 5000})
            raise RuntimeError("the change failed after the entry was added")
        with db.transaction() as session:
            record(session, COMMAND_LINE, Action.USER_DELETE, Target("user", "u_2", "kept"),
                   {"password": "never kept", "api_token": "nor this", "note": "x" * 5000})
        with db.session() as session:
            rows = session.exec(select(AuditEntry)).all()
        assert [r.target_label for r in rows] == ["kept"]
        details = json.loads(rows[0].details)
        assert set(details) == {"note"} and len(details["note"]) == 200  # secrets dropped, text bounded
    finally:
        db.close()
