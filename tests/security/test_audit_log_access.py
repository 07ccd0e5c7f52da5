"""The audit log is for administrators only and never edited over the API; no password, token or secret ever
reaches an entry (the rows themselves are searched for each one used); its CSV download cannot smuggle a formula
into a spreadsheet; the access log (`serve --access-log`) never writes a query string or an invitation's secret."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator

import pytest

from support import ADMIN_PASSWORD, ApiClient, RunningServer, set_up_admin, start_server, wait_until

AUDIT = "/api/v1/admin/audit"
PASSWORD = "quiet harbour lamp 42"
WRONG = "wrong-guess-zebra-7781"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("audit-security"), args=["--access-log"],
                          env={"MEDIASTUDIO_WEBHOOK_ALLOW_PRIVATE": "true"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def test_only_administrators_read_it_and_nobody_edits_it(server: RunningServer, admin: ApiClient) -> None:
    with ApiClient(server.url) as pat:
        pat.register("plain-pat", PASSWORD)
        for path in (AUDIT, f"{AUDIT}/export?format=csv", f"{AUDIT}/export?format=json"):
            assert pat.get(path).status_code == 403, path
    with ApiClient(server.url) as nobody:
        for path in (AUDIT, f"{AUDIT}/export?format=csv"):
            assert nobody.get(path).status_code == 401, path
    first = admin.get(AUDIT).json()["items"][-1]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert admin.request(method, AUDIT, json={}).status_code in (404, 405), method
        assert admin.request(method, f"{AUDIT}/{first['id']}", json={}).status_code in (404, 405), method
    assert admin.get(AUDIT).json()["items"][-1] == first


def test_no_secret_ever_reaches_an_entry(server: RunningServer, admin: ApiClient) -> None:
    secrets: list[str] = [ADMIN_PASSWORD, PASSWORD, WRONG]
    with ApiClient(server.url) as sid:
        sid.register("secret-sid", PASSWORD)
        sid.post("/api/v1/auth/logout")
        assert sid.post("/api/v1/auth/login", json={"username": "secret-sid", "password": WRONG}).status_code == 401
        assert sid.post("/api/v1/auth/login", json={"username": "secret-sid", "password": PASSWORD}).is_success
        secrets += [sid.cookies["ms_session"], sid.cookies["ms_csrf"]]
        token = sid.post("/api/v1/auth/tokens", json={"name": "deploy"}).json()
        secrets.append(token["token"])
        assert sid.delete(f"/api/v1/auth/tokens/{token['id']}").status_code == 204
        made_hook = sid.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/t/AbCdEf0123?key=KeyZz9"})
        assert made_hook.status_code == 201, made_hook.text
        secrets += [made_hook.json()["secret"], "AbCdEf0123", "KeyZz9"]
        sid_id = sid.get("/api/v1/auth/me").json()["user"]["id"]
    made = admin.post(f"/api/v1/admin/users/{sid_id}/password", json={}).json()["password"]
    chosen = "another chosen passphrase 9"
    assert admin.post(f"/api/v1/admin/users/{sid_id}/password", json={"password": chosen}).is_success
    invite = admin.post("/api/v1/admin/invites", json={"note": "a link"}).json()
    secrets += [made, chosen, invite["secret"]]
    with ApiClient(server.url) as ivy:
        ivy.register("invited-ivy", PASSWORD, invite=invite["secret"])

    with sqlite3.connect(server.data_dir / "mediastudio.sqlite") as db:
        rows = ["\x1f".join(map(str, row)) for row in db.execute("SELECT * FROM audit_log")]
    downloads = [admin.get(f"{AUDIT}/export", params={"format": f}).text for f in ("csv", "json")]
    assert len(rows) > 10
    for secret in secrets:
        assert not any(secret in row for row in rows), secret
        assert not any(secret in text for text in downloads), secret


def test_csv_cells_that_look_like_formulas_are_neutralised(server: RunningServer, admin: ApiClient) -> None:
    tries = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)"]
    with ApiClient(server.url, headers={"User-Agent": "=1+1"}) as attacker:
        for name in tries:
            attacker.post("/api/v1/auth/login", json={"username": name, "password": "whatever"})
    project = admin.post("/api/v1/projects", json={"name": "=IMPORTXML(1)", "template": "blank"})
    assert project.status_code == 201, project.text
    assert admin.delete(f"/api/v1/projects/{project.json()['id']}").status_code == 204
    text = admin.get(f"{AUDIT}/export", params={"format": "csv"}).text
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    for name in tries:
        assert "'" + name.strip().lower() in cells
    assert "'=1+1" in cells and "'=IMPORTXML(1)" in cells
    # The JSON download keeps values as they are (no spreadsheet reads it).
    listed = admin.get(f"{AUDIT}/export", params={"format": "json", "action": "project.trash"}).json()
    assert listed[0]["target_label"] == "=IMPORTXML(1)"


def test_the_access_log_leaves_out_queries_and_invitation_secrets(server: RunningServer) -> None:
    with ApiClient(server.url) as anyone:
        assert anyone.get("/api/v1/auth/invites/LinkSecret0042", params={"token": "QuerySecret77"}).status_code == 404
        anyone.get("/api/v1/health", params={"api_key": "QuerySecret77"})
    line = wait_until(lambda: [ln for ln in server.log().splitlines() if "/api/v1/auth/invites/***" in ln],
                      message="the access log line")[0]
    assert "GET" in line and " 404 " in line and "127.0.0.1" in line and " ms " in line
    assert any("GET /api/v1/health 200" in ln for ln in server.log().splitlines())
    assert "LinkSecret0042" not in server.log() and "QuerySecret77" not in server.log()
