"""Reading one scene reads that scene's file and no other: its cost does not grow with the project."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from file_audit import opened
from mediastudio.settings import Settings


def _admin(client: TestClient) -> dict[str, str]:
    response = client.post("/api/v1/auth/setup", json={"username": "ana", "password": "copper lantern ninety"})
    assert response.status_code == 201, response.text
    return {"X-CSRF-Token": client.cookies["ms_csrf"]}


def test_get_of_one_scene_opens_no_other_scene_file(client: TestClient, settings: Settings) -> None:
    csrf = _admin(client)
    project = client.post("/api/v1/projects", json={"name": "Many scenes"}, headers=csrf).json()
    made = [client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": f"Scene {i}"}, headers=csrf).json()
            for i in range(4)]
    folder = next(Path(settings.data_dir, "workspaces").glob(f"*/projects/{project['id']}"))
    wanted, broken, locked = made[0], made[1], made[2]
    (folder / "scenes" / f"{broken['id']}.json").write_text("{ not json")
    (folder / "scenes" / f"{locked['id']}.json").chmod(0)

    with opened() as seen:
        response = client.get(f"/api/v1/projects/{project['id']}/scenes/{wanted['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Scene 0"
    # The scenes folder may be opened (to open the file in it without following links), never listed.
    scene_files = [entry for entry in seen if entry.endswith(".json") and ("/scenes" in entry or "/" not in entry)]
    assert scene_files and all(entry.endswith(f"{wanted['id']}.json") for entry in scene_files), seen
    assert not [entry for entry in seen if not entry.startswith("open ") and "/scenes" in entry], seen


def test_get_of_a_missing_or_broken_scene_is_a_404(client: TestClient, settings: Settings) -> None:
    csrf = _admin(client)
    project = client.post("/api/v1/projects", json={"name": "Broken"}, headers=csrf).json()
    scene = client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "Soon broken"}, headers=csrf).json()
    folder = next(Path(settings.data_dir, "workspaces").glob(f"*/projects/{project['id']}"))
    (folder / "scenes" / f"{scene['id']}.json").write_text("[1, 2]")

    for scene_id in (scene["id"], "sc_0000000000000000", "a.b", "-x"):
        response = client.get(f"/api/v1/projects/{project['id']}/scenes/{scene_id}")
        assert response.status_code == 404, (scene_id, response.text)
        assert "scene" in response.json()["detail"].lower()
