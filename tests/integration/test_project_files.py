"""Project files over real servers: export → import round trip byte for byte, refusals of bad
archives that leave nothing behind, and a kill -9 in the middle of a burst of writes."""

import hashlib
import io
import json
import os
import signal
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support import ApiClient, RunningServer, git, project_folder, set_up_admin, start_server, wait_until


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, RunningServer]]:
    # Studio A commits each edit at once: the round trip below writes asset files behind the studio's back and
    # has the next edit's commit take them along (a deferred edit commits only the files it wrote itself).
    a = start_server(tmp_path_factory.mktemp("studio-a"), env={"MEDIASTUDIO_COMMIT_WINDOW_S": "0"})
    b = start_server(tmp_path_factory.mktemp("studio-b"), env={"MEDIASTUDIO_IMPORT_MAX_BYTES": str(5 << 20)})
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture(scope="module")
def people(servers: tuple[RunningServer, RunningServer]) -> tuple[ApiClient, ApiClient]:
    """Ana, administrator of studio A, and Bob of studio B: made once, whichever of this module's tests runs first
    (alone, or split across test workers), so no test leans on another having run."""
    a, b = servers
    return set_up_admin(a.url, "ana"), set_up_admin(b.url, "bob")






PNG = b"\x89PNG\r\n\x1a\n"  # imported media must be media (sniffed like an upload)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(folder).parts}


def _blob(server: RunningServer, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    path = server.data_dir / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return sha


def test_export_then_import_reproduces_history_files_and_media(servers: tuple[RunningServer, RunningServer],
                                                                people: tuple[ApiClient, ApiClient]) -> None:
    a, b = servers
    ana, bob = people
    project = ana.post("/api/v1/projects", json={"name": "Round Trip", "template": "storyboard"}).json()
    folder = project_folder(a, project)
    # Two versions of an asset referencing two media blobs (assets arrive with the media store;
    # here the files are written as the asset service will write them).
    old_sha = _blob(a, PNG + b"first version of the frame" * 100)
    (folder / "assets" / "as_frame.json").write_text(json.dumps({"name": "Frame", "sha256": old_sha}))
    ana.patch(f"/api/v1/projects/{project['id']}", json={"description": "with a frame"})
    new_sha = _blob(a, PNG + b"second version of the frame" * 100)
    (folder / "assets" / "as_frame.json").write_text(json.dumps({"name": "Frame", "sha256": new_sha}))
    ana.patch(f"/api/v1/projects/{project['id']}", json={"tags": ["final"]})

    exported = ana.get(f"/api/v1/projects/{project['id']}/export")
    assert exported.status_code == 200
    assert "Round%20Trip.msproj" in exported.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    assert set(names) == {"manifest.json", "repo.bundle", f"blobs/{old_sha}", f"blobs/{new_sha}"}

    imported = bob.post("/api/v1/projects/import", files={"file": ("Round Trip.msproj", exported.content)})
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert copy["name"] == "Round Trip" and copy["tags"] == ["final"]
    copy_folder = project_folder(b, copy)
    log = ["log", "--all", "--format=%H|%an|%ae|%at|%s"]
    assert git(copy_folder, *log) == git(folder, *log)
    assert _files(copy_folder) == _files(folder)
    for sha in (old_sha, new_sha):
        assert (b.data_dir / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha).read_bytes() == \
               (a.data_dir / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha).read_bytes()
    history = bob.get(f"/api/v1/projects/{copy['id']}/history").json()["items"]
    assert len(history) == 3 and history[0]["author"]["name"] == "ana"


def _zip(entries: dict[str, bytes], *, symlink: str | None = None, compress: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compress) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _manifest(entries: dict[str, bytes]) -> bytes:
    return json.dumps({"format": "mediastudio-project", "format_version": 1, "entries": {
        name: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for name, d in entries.items()}}).encode()


@pytest.fixture(scope="module")
def good_export(people: tuple[ApiClient, ApiClient]) -> bytes:
    client, _ = people
    project = client.post("/api/v1/projects", json={"name": "Source"}).json()
    return client.get(f"/api/v1/projects/{project['id']}/export").content


def _bad_archives(good: bytes) -> dict[str, tuple[bytes, str]]:
    parts = {n: zipfile.ZipFile(io.BytesIO(good)).read(n) for n in ("manifest.json", "repo.bundle")}
    bundle = parts["repo.bundle"]
    bomb = b"\0" * (8 << 20)
    damaged = bundle[:-40] + b"x" * 40
    big = os.urandom(3 << 20).hex().encode()  # 6 MiB that deflates to about 3.5 MiB
    return {
        "not a zip": (b"hello, not a zip", "not a zip archive"),
        "path traversal": (_zip({"manifest.json": parts["manifest.json"], "repo.bundle": bundle,
                                 "../../escape.txt": b"x"}), "points outside the project"),
        "symlink": (_zip({"manifest.json": parts["manifest.json"], "repo.bundle": bundle},
                         symlink="blobs/" + "a" * 64), "symbolic link"),
        "zip bomb": (_zip({"manifest.json": _manifest({"repo.bundle": bomb}), "repo.bundle": bomb},
                          compress=zipfile.ZIP_DEFLATED), "expands suspiciously"),
        "checksum": (_zip({"manifest.json": parts["manifest.json"], "repo.bundle": damaged}), "checksum mismatch"),
        "bad history": (_zip({"manifest.json": _manifest({"repo.bundle": b"garbage"}), "repo.bundle": b"garbage"}),
                        "history is damaged"),
        "no manifest": (_zip({"repo.bundle": bundle}), "no manifest.json"),
        # Under the upload limit when compressed, over it once expanded.
        "oversized": (_zip({"manifest.json": _manifest({"repo.bundle": big}), "repo.bundle": big},
                           compress=zipfile.ZIP_DEFLATED), "expands to more than 5 MiB"),
        "too large to upload": (b"0" * (6 << 20), "larger than 5 MiB"),
    }


def test_bad_archives_are_refused_clearly_and_leave_nothing(
        servers: tuple[RunningServer, RunningServer], people: tuple[ApiClient, ApiClient], good_export: bytes) -> None:
    _, b = servers
    _, bob = people
    before = bob.get("/api/v1/projects", params={"all": True}).json()["items"]
    blobs_before = sorted((b.data_dir / "blobs").rglob("*")) if (b.data_dir / "blobs").exists() else []
    for case, (data, message) in _bad_archives(good_export).items():
        response = bob.post("/api/v1/projects/import", content=data, headers={"Content-Type": "application/zip"})
        assert response.status_code == 400, (case, response.text)
        assert message in response.json()["detail"], (case, response.json())
        assert response.json()["hint"]
    assert bob.get("/api/v1/projects", params={"all": True}).json()["items"] == before
    leftovers = [p for p in (b.data_dir / "tmp").rglob("*")] if (b.data_dir / "tmp").exists() else []
    assert [p for p in leftovers if p.name != "exports"] == []
    blobs_after = sorted((b.data_dir / "blobs").rglob("*")) if (b.data_dir / "blobs").exists() else []
    assert blobs_after == blobs_before
    assert not list(b.data_dir.glob("workspaces/*/projects/*/escape.txt")) and not (b.data_dir / "escape.txt").exists()


def test_the_cli_exports_and_imports(servers: tuple[RunningServer, RunningServer], people: tuple[ApiClient, ApiClient],
                                     tmp_path: Path) -> None:
    import sys

    a, _ = servers
    client, _ = people
    project = client.post("/api/v1/projects", json={"name": "Via CLI", "template": "text-to-image"}).json()
    run = [sys.executable, "-m", "mediastudio", "projects"]
    exported = subprocess.run([*run, "export", project["id"], "-o", str(tmp_path), "--data-dir", str(a.data_dir)],
                              capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    file = tmp_path / "Via CLI.msproj"
    assert file.is_file()
    imported = subprocess.run([*run, "import", str(file), "--workspace", project["workspace_id"],
                               "--data-dir", str(a.data_dir)], capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0 and "Imported 'Via CLI'" in imported.stdout, imported.stderr
    names = [p["name"] for p in client.get("/api/v1/projects", params={"q": "Via CLI"}).json()["items"]]
    assert names == ["Via CLI", "Via CLI"]


def test_kill_9_during_a_burst_of_writes_loses_nothing_committed_and_corrupts_nothing(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    client = set_up_admin(server.url)
    project = client.post("/api/v1/projects", json={"name": "Crash", "template": "text-to-image"}).json()
    scene = client.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    url = f"{server.url}/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph"
    graph = client.get(url).json()
    stop = threading.Event()
    done: list[int] = []

    def burst(worker: int) -> None:
        with httpx.Client(cookies=client.cookies, headers={"X-CSRF-Token": client.cookies["ms_csrf"]}) as http:
            for step in range(1, 10_000):
                if stop.is_set():
                    return
                graph["nodes"]["generate"]["params"]["steps"] = step
                try:
                    if http.put(url, json=graph, timeout=5).status_code == 200:
                        done.append(step)
                except httpx.HTTPError:
                    return

    threads = [threading.Thread(target=burst, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(done) >= 15, timeout=20, message="15 saved writes")
    finally:  # killed mid-burst, whatever the wait said
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        stop.set()
        for thread in threads:
            thread.join(10)

    folder = project_folder(server, project)
    restarted = start_server(tmp_path)
    try:
        assert not (folder / ".git" / "index.lock").exists()
        git(folder, "fsck", "--full")
        assert git(folder, "status", "--porcelain") == ""
        for file in list(folder.rglob("*.json")):
            json.loads(file.read_text())  # every file whole
        commits = int(git(folder, "rev-list", "--count", "HEAD"))
        assert commits >= len(set(done))  # every acknowledged write is in the history
        again = ApiClient(restarted.url)
        again.post("/api/v1/auth/login", json={"username": "admin", "password": "copper lantern ninety"})
        graph["nodes"]["generate"]["params"]["steps"] = 123456
        assert again.put(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph", json=graph).status_code == 200
        assert int(git(folder, "rev-list", "--count", "HEAD")) >= commits + 1
    finally:
        restarted.stop()
