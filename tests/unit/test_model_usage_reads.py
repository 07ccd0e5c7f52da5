"""The Models page's "used in" (`GET /api/v1/models/usage`) counts the models named in the provenance of every
generated asset of the projects a person may open. Its answer is made again after each commit anywhere (every run
makes one), and it read every generated asset's file each time: now a file is read once and its models kept while
its time and size stay the same, so after a run only the new asset's file is read; a file changed by hand is read
again."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text

import mediastudio.engine.model_usage as model_usage
from mediastudio.accounts.users import create_user
from mediastudio.app import build_studio
from mediastudio.auth.tables import User
from mediastudio.common import new_id, utcnow
from mediastudio.projects import service
from mediastudio.projects.access import project_folder
from mediastudio.projects.tables import Asset, Project
from mediastudio.settings import Settings
from mediastudio.studio import Studio


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    made = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    yield made
    made.db.close()


def _generated(studio: Studio, project: Project, owner: User, provenances: list[dict[str, Any]]) -> list[Path]:
    """Generated assets of `project` with these provenances: their files and their index rows."""
    folder = project_folder(studio.settings, project) / "assets"
    folder.mkdir(exist_ok=True)
    files, rows = [], []
    for number, provenance in enumerate(provenances):
        asset_id = new_id("as")
        files.append(folder / f"{asset_id}.json")
        files[-1].write_text(json.dumps({"id": asset_id, "name": f"Hero · #{number + 1}.png", "category": "generated",
                                         "provenance": provenance}))
        rows.append({"id": asset_id, "project_id": project.id, "name": f"Hero · #{number + 1}.png",
                     "category": "generated", "mime": "image/png", "size": 10, "sha256": "0" * 64,
                     "created_by": owner.id, "created_at": utcnow(), "tags": ""})
    with studio.db.engine.begin() as connection:
        connection.execute(insert(Asset), rows)
    return files


def _a_commit(studio: Studio, user: User) -> None:
    """Any write: the database's version moves on, so the next answer is made again."""
    with studio.db.transaction() as db:
        db.exec(text("UPDATE users SET last_seen_at = CURRENT_TIMESTAMP WHERE id = :id").bindparams(id=user.id))


def test_after_a_commit_only_new_or_changed_asset_files_are_read_again(studio: Studio,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with studio.db.transaction() as db:
        ana = create_user(db, username="ana", password="violet tram sixteen")
        project = service.create_project(db, studio.settings, ana, name="Film", workspace_id=None)
    files = _generated(studio, project, ana, [
        {"model": "sd-tiny"}, {"model": "sd-tiny"},
        {"model": "sdxl", "upscale": {"node": "up", "model": "esrgan"}}])
    read: list[str] = []
    real = json.loads

    def loads(data: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(data, str | bytes) and b'"provenance"' in (data if isinstance(data, bytes) else data.encode()):
            read.append("file")
        return real(data, *args, **kwargs)

    monkeypatch.setattr(model_usage.json, "loads", loads)

    def counts() -> dict[str, int]:
        return {u.model: sum(p.assets for p in u.projects)
                for u in model_usage.usage(studio.db, studio.settings, ana).items}

    assert counts() == {"sd-tiny": 2, "sdxl": 1, "esrgan": 1} and len(read) == 3

    _a_commit(studio, ana)  # a run somewhere: the answer is made again, from what was read
    assert counts() == {"sd-tiny": 2, "sdxl": 1, "esrgan": 1} and len(read) == 3

    _generated(studio, project, ana, [{"model": "flux"}])  # a new result: its file alone is read
    _a_commit(studio, ana)
    assert counts() == {"sd-tiny": 2, "sdxl": 1, "esrgan": 1, "flux": 1} and len(read) == 4

    # A file changed by hand (another size and time) is read again.
    before = files[0].stat()
    files[0].write_text(json.dumps({"id": files[0].stem, "provenance": {"model": "sdxl-turbo"}}))
    os.utime(files[0], ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    _a_commit(studio, ana)
    assert counts() == {"sd-tiny": 1, "sdxl": 1, "esrgan": 1, "flux": 1, "sdxl-turbo": 1} and len(read) == 5
