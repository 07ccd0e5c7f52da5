"""A full disk, for real: the data folder on a small tmpfs that the test fills. Every request says what
happened (507 Insufficient storage, and whether anything was kept), and nothing half-made stays behind.

Mounting needs root; elsewhere these tests are skipped (the reason says so)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}
pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None,
                                reason="a real full disk needs a tmpfs mount, which needs root")


class Disk:
    """The data folder's filesystem: filled with one file, freed again."""

    def __init__(self, root: Path) -> None:
        self.filler = root / "filler"

    def fill(self, leave: int = 0) -> None:
        with self.filler.open("ab", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError:
                pass
        os.truncate(self.filler, max(0, self.filler.stat().st_size - leave))

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def mounted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Disk]]:
    folder = tmp_path_factory.mktemp("disk-full")
    data = folder / "data"  # the server's data folder; its log stays outside, on the real disk
    data.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(data)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        server = start_server(folder, env=ENV)
        yield server, Disk(data)
        server.stop()
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


@pytest.fixture(scope="module")
def admin(mounted: tuple[RunningServer, Disk]) -> ApiClient:
    return set_up_admin(mounted[0].url)


@pytest.fixture
def disk(mounted: tuple[RunningServer, Disk]) -> Iterator[Disk]:
    yield mounted[1]
    mounted[1].free()


def test_an_upload_on_a_full_disk_answers_507_and_keeps_nothing(mounted: tuple[RunningServer, Disk],
                                                                admin: ApiClient, disk: Disk) -> None:
    server = mounted[0]
    project = admin.post("/api/v1/projects", json={"name": "Full"}).json()
    picture = png_bytes((3, 4, 5), (64, 64)) + os.urandom(600_000)  # a PNG with trailing bytes: 600 KB
    disk.fill()
    refused = admin.post(f"/api/v1/projects/{project['id']}/assets", files={"file": ("big.png", picture)})
    assert refused.status_code == 507, refused.text
    problem = refused.json()
    assert problem["title"] == "Insufficient storage" and "not saved" in problem["detail"]
    assert "lost" not in problem["detail"] and "disk" in problem["hint"]
    assert list((server.data_dir / "blobs" / "incoming").glob("*")) == []
    disk.free()
    assert admin.get(f"/api/v1/projects/{project['id']}/assets").json()["items"] == []
    again = admin.post(f"/api/v1/projects/{project['id']}/assets", files={"file": ("big.png", picture)})
    assert again.status_code == 201, again.text


def test_creating_a_project_on_a_full_disk_answers_507_and_leaves_no_folder(mounted: tuple[RunningServer, Disk],
                                                                           admin: ApiClient, disk: Disk) -> None:
    server = mounted[0]
    folders = server.data_dir / "workspaces"
    before = {p.name for p in folders.glob("*/projects/*")}
    for leave in (0, 16 * 1024, 64 * 1024, 256 * 1024):  # fails at different steps: git init, files, commit, row
        disk.fill(leave)
        made = admin.post("/api/v1/projects", json={"name": f"Left {leave}"})
        disk.free()
        if made.status_code == 201:
            continue
        assert made.status_code == 507, made.text
        assert {p.name for p in folders.glob("*/projects/*")} == before, f"a folder was left (room {leave})"
        names = [p["name"] for p in admin.get("/api/v1/projects").json()["items"]]
        assert f"Left {leave}" not in names
    assert admin.post("/api/v1/projects", json={"name": "Room again"}).status_code == 201


def _live_nodes(admin: ApiClient, url: str) -> set[str]:
    return set(admin.get(url).json()["nodes"])


def test_a_graph_saved_on_a_nearly_full_disk_is_reported_as_saved(mounted: tuple[RunningServer, Disk],
                                                                  admin: ApiClient, disk: Disk) -> None:
    """With a little room left the edit reaches the scene's edit log or its file, and the history commit
    fails: the answer says so (507, saved), where it used to be a 500 claiming the opposite. With none left
    nothing is kept, and the answer says that."""
    project = admin.post("/api/v1/projects", json={"name": "Graphs"}).json()
    scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    url = f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph"
    for index in range(3):  # the scene's edit log exists and has room of its own
        node = {"type": "prompt", "position": {"x": index, "y": 0}}
        assert admin.put(url, json={"nodes": {f"warm{index}": node}, "edges": {}}).status_code == 200
    said_saved = 0
    for leave in (0, 16, 24, 32, 48, 64):
        node_id = f"k{leave}"
        disk.fill(leave * 1024)
        answer = admin.put(url, json={"nodes": {node_id: {"type": "prompt", "position": {"x": 1, "y": 1}}},
                                      "edges": {}})
        live = _live_nodes(admin, url)
        disk.free()
        assert answer.status_code in (200, 507), answer.text
        if answer.status_code == 200:
            assert live == {node_id}
            continue
        problem = answer.json()
        if problem.get("saved"):
            said_saved += 1
            assert "Your graph is saved" in problem["detail"] and live == {node_id}, problem
        else:
            assert "not saved" in problem["detail"] and node_id not in live, problem
    assert said_saved, "no room left allowed the edit in and failed the commit"


def test_a_git_failure_on_a_full_disk_is_said_to_be_the_full_disk(tmp_path: Path) -> None:
    """Git does not always say why a write failed ("fatal: unable to write new index file", with no reason): a git
    command that fails on a full disk is reported as the full disk (so a saved edit is answered 507 "the server's
    disk is full", not 500 "an unexpected error"), whatever git's own words; with room, a failure is what git said."""
    from mediastudio.errors import disk_full
    from mediastudio.projects.repo import Author, ProjectRepo

    data = tmp_path / "data"
    data.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(data)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        repo = ProjectRepo.init(data / "project")
        (data / "project" / "scene.json").write_text("{}")
        (data / "project" / ".git" / "index.lock").write_text("")  # git then fails naming the lock only
        disk = Disk(data)
        disk.fill()
        with pytest.raises(RuntimeError) as full:
            repo.commit_all("An edit", Author("Ana", "u_1"))
        assert "index.lock" in str(full.value) and "No space" not in str(full.value)
        assert disk_full(full.value)
        disk.free()
        with pytest.raises(RuntimeError) as locked:
            repo.commit_all("An edit", Author("Ana", "u_1"))
        assert not disk_full(locked.value)
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)
