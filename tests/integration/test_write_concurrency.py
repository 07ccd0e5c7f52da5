"""Writers of one project queue for its folder only while they write files: a write waiting for the database
(another writer holds SQLite's write lock) has already let go of the folder, so the next write of that project
reaches the disk meanwhile instead of queueing behind it."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from support import project_folder, set_up_admin, start_server


def _scene_files(folder: Path) -> int:
    return len(list((folder / "scenes").glob("*.json")))


def test_a_write_waiting_on_the_database_does_not_hold_up_its_projects_folder(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        admin = set_up_admin(server.url)
        project = admin.post("/api/v1/projects", json={"name": "Busy"}).json()
        folder = project_folder(server, project)
        assert admin.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "Warm"}).status_code == 201
        before = _scene_files(folder)
        answers: list[int] = []

        def create(name: str) -> None:
            answers.append(admin.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": name},
                                      timeout=30).status_code)

        other = sqlite3.connect(server.data_dir / "mediastudio.sqlite", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the database (for less than its busy timeout)
        try:
            writers = [threading.Thread(target=create, args=(f"Scene {i}",)) for i in range(2)]
            for writer in writers:
                writer.start()
            deadline = time.monotonic() + 3
            while _scene_files(folder) < before + 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            on_disk = _scene_files(folder) - before
        finally:
            other.execute("ROLLBACK")
            other.close()
        for writer in writers:
            writer.join(30)
        assert answers == [201, 201], answers
        assert on_disk == 2, "the second write waited for the first one's database work to reach the disk"
    finally:
        server.stop()


def test_an_upload_writes_its_files_before_it_waits_for_the_database(tmp_path: Path) -> None:
    from support import png_bytes

    server = start_server(tmp_path, env={"MEDIASTUDIO_RATE_LIMIT_EXPENSIVE_PER_MINUTE": "1000"})
    try:
        admin = set_up_admin(server.url)
        project = admin.post("/api/v1/projects", json={"name": "Busy"}).json()
        folder = project_folder(server, project)
        answers: list[int] = []

        def upload() -> None:
            answers.append(admin.post(f"/api/v1/projects/{project['id']}/assets", timeout=30,
                                      files={"file": ("frame.png", png_bytes(size=(8, 8)), "image/png")}).status_code)

        other = sqlite3.connect(server.data_dir / "mediastudio.sqlite", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            uploader = threading.Thread(target=upload)
            uploader.start()
            deadline = time.monotonic() + 3
            # the asset's file, then the pending journal's line: both are written while the database is held
            while not (list((folder / "assets").glob("*.json"))
                       and (folder / ".git" / "mediastudio-pending.jsonl").is_file()) and time.monotonic() < deadline:
                time.sleep(0.05)
            on_disk = len(list((folder / "assets").glob("*.json")))
            pending = (folder / ".git" / "mediastudio-pending.jsonl").is_file()
        finally:
            other.execute("ROLLBACK")
            other.close()
        uploader.join(30)
        assert answers == [201], answers
        assert on_disk == 1 and pending, "the upload held the database's write lock while it wrote its files"
        assert [a["name"] for a in admin.get(f"/api/v1/projects/{project['id']}/assets").json()["items"]] \
            == ["frame.png"]
    finally:
        server.stop()
