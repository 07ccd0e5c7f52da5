"""Backups of a running studio (`mediastudio backup`) and restores of them (`mediastudio restore`), over real
servers: live edits (collab socket and REST) while the backup runs, then a studio started on the restored folder."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from yclient import YClient, ws_url

from mediastudio.collab.limits import MAX_UPDATES_PER_SECOND
from support import (
    ADMIN_PASSWORD,
    ApiClient,
    RunningServer,
    git,
    png_bytes,
    project_folder,
    run_async,
    set_up_admin,
    start_server,
    wait_until,
)

# Live edits as fast as a connection may send them with room to spare: over the limit the socket is closed
# (4429, docs/security/sockets.md), which is what the test would then see instead of the backup's work.
EDIT_SPACING = 2 / MAX_UPDATES_PER_SECOND


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mediastudio", *args], capture_output=True, text=True, timeout=300)


def _upload(client: ApiClient, project: dict, name: str, data: bytes) -> dict:
    answer = client.post(f"/api/v1/projects/{project['id']}/assets", files={"file": (name, data, "image/png")})
    assert answer.status_code == 201, answer.text
    return answer.json()[0]


def _login(url: str, username: str, password: str = ADMIN_PASSWORD) -> ApiClient:
    client = ApiClient(url)
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return client


def _settled(server: RunningServer) -> None:
    """Every project folder committed (no journal, nothing uncommitted): the studio is at rest."""
    def quiet() -> bool:
        for folder in (server.data_dir / "workspaces").glob("*/projects/*"):
            if (folder / ".git" / "mediastudio-pending.jsonl").exists() or git(folder, "status", "--porcelain"):
                return False
        return True

    wait_until(quiet, timeout=20, interval=0.1, message="every project committed")


def _studio(client: ApiClient, data_dir: Path) -> dict[str, Any]:
    """What a person sees of a studio, and what its folders hold: users, projects, scenes with their graphs,
    each project's history (shas), assets with their bytes' hashes, the blobs."""
    users = sorted((u["username"], u["is_admin"]) for u in client.get("/api/v1/admin/users").json()["items"])
    projects = {}
    for project in client.get("/api/v1/projects").json()["items"]:
        pid = project["id"]
        scenes = client.get(f"/api/v1/projects/{pid}/scenes").json()["items"]
        assets = client.get(f"/api/v1/projects/{pid}/assets").json()["items"]
        projects[pid] = {
            "name": project["name"],
            "scenes": {s["id"]: (s["name"], client.get(f"/api/v1/projects/{pid}/scenes/{s['id']}/graph").json())
                       for s in scenes},
            "history": [(v["sha"], v["summary"], v["author"]["name"], v["time"])
                        for v in client.get(f"/api/v1/projects/{pid}/history").json()["items"]],
            "shas": git(data_dir / "workspaces" / project["workspace_id"] / "projects" / pid, "log",
                        "--format=%H %an %s").splitlines(),
            "assets": {a["id"]: (a["name"], a["sha256"],
                                 client.get(f"/api/v1/projects/{pid}/assets/{a['id']}/content").status_code)
                       for a in assets},
        }
    blobs = sorted(p.name for p in (data_dir / "blobs" / "sha256").glob("??/??/*"))
    return {"users": users, "projects": projects, "blobs": blobs}


def _restore_and_start(backup: Path, where: Path, *extra: str) -> RunningServer:
    done = cli("restore", str(backup), str(where / "data"), *extra)
    assert done.returncode == 0, done.stderr
    return start_server(where)


def test_a_backup_taken_during_live_edits_restores_a_studio_with_every_edit_made_before_it(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    server = start_server(tmp_path / "source")
    restored: RunningServer | None = None
    try:
        ana = set_up_admin(server.url, "ana")
        ana.post("/api/v1/admin/users", json={"username": "bob", "password": "violet tram sixteen"})
        project = ana.post("/api/v1/projects", json={"name": "Live", "template": "text-to-image"}).json()
        scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
        before = ana.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "Before the backup"}).json()
        asset = _upload(ana, project, "frame.png", png_bytes())
        url = ws_url(server.url, project["id"], scene["id"])
        stop = threading.Event()
        done: dict[str, Any] = {}

        async def live_edits(ready: threading.Event) -> int:
            async with YClient(url, cookies=dict(ana.cookies)) as mine, \
                    YClient(url, cookies=dict(ana.cookies)) as witness:
                graph = mine.graph()
                graph["nodes"]["generate"]["params"]["steps"] = 40
                await mine.edit(graph)
                await witness.wait_for(lambda: witness.graph()["nodes"]["generate"]["params"]["steps"] == 40, 30)
                ready.set()  # relayed, so logged: the backup starts after this edit
                seed = 0
                while not stop.is_set():
                    seed += 1
                    graph = mine.graph()
                    graph["nodes"]["generate"]["params"]["seed"] = seed
                    await mine.edit(graph)
                    await asyncio.sleep(EDIT_SPACING)  # within the studio's updates-per-second limit
                return seed

        def rest_edits() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                answer = ana.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": f"During {n}"})
                assert answer.status_code == 201, answer.text
            done["rest"] = n

        ready = threading.Event()
        def socket_edits() -> None:
            try:
                done["live"] = run_async(live_edits(ready))
            except BaseException as exc:  # shown by the assertions below
                done["error"] = exc

        socket = threading.Thread(target=socket_edits)
        socket.start()
        assert ready.wait(60), done  # the socket thread ends early only by an error: it is in `done` then
        writer = threading.Thread(target=rest_edits)
        writer.start()
        backup = cli("backup", str(tmp_path / "backup"), "--data-dir", str(server.data_dir))
        stop.set()
        socket.join(30)
        writer.join(30)
        assert backup.returncode == 0, backup.stderr
        assert "error" not in done, done
        assert done["rest"] > 0 and done["live"] > 0  # the backup ran while both kinds of edit went on

        restored = _restore_and_start(tmp_path / "backup", tmp_path / "restored")
        again = _login(restored.url, "ana")
        people = {u["username"] for u in again.get("/api/v1/admin/users").json()["items"]}
        assert people == {"ana", "bob"}
        _login(restored.url, "bob", "violet tram sixteen")
        names = {s["name"] for s in again.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"]}
        assert before["name"] in names
        graph = again.get(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph").json()
        assert graph["nodes"]["generate"]["params"]["steps"] == 40
        content = again.get(f"/api/v1/projects/{project['id']}/assets/{asset['id']}/content")
        assert content.status_code == 200 and content.content == png_bytes()
        # Consistent: whatever edit made it in is whole (its file, its commit and its row agree).
        folder = project_folder(restored, project)
        git(folder, "fsck", "--full", "--no-progress")
        assert not git(folder, "status", "--porcelain")
        on_disk = {json.loads(p.read_text())["name"] for p in (folder / "scenes").glob("*.json")}
        assert on_disk == names
        history = [v["message"] for v in again.get(f"/api/v1/projects/{project['id']}/history").json()["items"]]
        assert "Added scene 'Before the backup'" in " | ".join(history)
        audit = again.get("/api/v1/admin/audit", params={"action": "backup"}).json()["items"]
        assert [e["action"] for e in audit] == ["backup.restore"]  # the backup's own entry came after its snapshot
        taken = ana.get("/api/v1/admin/audit", params={"action": "backup"}).json()["items"]
        assert [(e["action"], e["actor_name"], e["target_id"]) for e in taken] == [
            ("backup.create", "command line", next((tmp_path / "backup" / "snapshots").iterdir()).name)]
    finally:
        server.stop()
        if restored is not None:
            restored.stop()


def test_a_second_backup_copies_only_what_changed_and_restores_an_identical_studio(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    server = start_server(tmp_path / "source")
    restored: RunningServer | None = None
    try:
        ana = set_up_admin(server.url, "ana")
        projects = [ana.post("/api/v1/projects", json={"name": f"P{i}", "template": "text-to-image"}).json()
                    for i in range(3)]
        for i, project in enumerate(projects):
            _upload(ana, project, f"frame{i}.png", png_bytes((10 * i, 40, 40)))
        _settled(server)
        dest = tmp_path / "backup"
        first = cli("backup", str(dest), "--data-dir", str(server.data_dir))
        assert first.returncode == 0, first.stderr
        objects = {p.name for p in (dest / "objects").glob("*/*")}

        new = _upload(ana, projects[0], "new.png", png_bytes((1, 2, 3)))
        _settled(server)
        second = cli("backup", str(dest), "--data-dir", str(server.data_dir))
        assert second.returncode == 0, second.stderr
        added = {p.name for p in (dest / "objects").glob("*/*")} - objects
        assert new["sha256"] in added
        snapshots = sorted(p.name for p in (dest / "snapshots").iterdir())
        assert len(snapshots) == 2
        manifests = [json.loads((dest / "snapshots" / s / "manifest.json").read_text()) for s in snapshots]
        new_blobs = {b["sha256"] for b in manifests[1]["blobs"]} - {b["sha256"] for b in manifests[0]["blobs"]}
        assert new_blobs == {new["sha256"]}
        assert added & {b["sha256"] for b in manifests[1]["blobs"]} == new_blobs  # no old blob copied again
        bundles = [{p["path"]: p["bundle"]["sha256"] for p in m["projects"]} for m in manifests]
        changed = {path for path in bundles[1] if bundles[1][path] != bundles[0][path]}
        assert changed == {f"workspaces/{projects[0]['workspace_id']}/projects/{projects[0]['id']}"}
        assert "1 bundled, 2 unchanged" in second.stdout

        source_view = _studio(ana, server.data_dir)
        restored = _restore_and_start(dest, tmp_path / "restored")
        restored_view = _studio(_login(restored.url, "ana"), restored.data_dir)
        assert restored_view == source_view

        older = tmp_path / "older"
        done = cli("restore", str(dest), str(older / "data"), "--snapshot", snapshots[0])
        assert done.returncode == 0, done.stderr
        assert len(list((older / "data" / "workspaces").glob(f"*/projects/{projects[0]['id']}/assets/*.json"))) == 1
        refused = cli("restore", str(dest), str(older / "data"))
        assert refused.returncode == 1 and "not empty" in refused.stderr and "--force" in refused.stderr
    finally:
        server.stop()
        if restored is not None:
            restored.stop()
