"""Everyday edits are committed together within a short window, and never lost: each is on disk before it is
answered, every reader of the history sees it at once, a clean stop commits it, and a studio killed with -9
before the commit commits it, with its message and author, when it starts again."""

import signal
from pathlib import Path

from support import ApiClient, RunningServer, git, project_folder, set_up_admin, start_server

LONG_WINDOW = {"MEDIASTUDIO_COMMIT_WINDOW_S": "60"}  # no commit comes from the timer during a test


def _edits(client: ApiClient, project_id: str) -> list[str]:
    """Five scenes added, one renamed, the project renamed: seven answered changes."""
    base = f"/api/v1/projects/{project_id}/scenes"
    made = []
    for index in range(5):
        response = client.post(base, json={"name": f"Shot {index}"})
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    assert client.patch(f"{base}/{made[0]}", json={"name": "Opening"}).status_code == 200
    assert client.patch(f"/api/v1/projects/{project_id}", json={"name": "Renamed"}).status_code == 200
    return made


def _messages(folder: Path) -> str:
    return git(folder, "log", "--format=%an%n%B")


def test_writes_within_a_window_make_one_commit_and_survive_kill_9(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=LONG_WINDOW)
    client = set_up_admin(server.url)
    project = client.post("/api/v1/projects", json={"name": "Burst"}).json()
    folder = project_folder(server, project)
    first = int(git(folder, "rev-list", "--count", "HEAD"))
    made = _edits(client, project["id"])
    # answered and on disk, but made no commit of their own
    assert int(git(folder, "rev-list", "--count", "HEAD")) == first
    assert all((folder / "scenes" / f"{scene}.json").is_file() for scene in made)
    server.stop(signal.SIGKILL)

    restarted = start_server(tmp_path, env=LONG_WINDOW)
    try:
        assert git(folder, "status", "--porcelain") == ""
        # the six scene changes in one commit, the project's new name (another kind of change) in another
        assert int(git(folder, "rev-list", "--count", "HEAD")) == first + 2
        said = _messages(folder)
        for expected in [*(f"Added scene 'Shot {i}'" for i in range(5)), "Renamed scene 'Shot 0' to 'Opening'",
                         "Renamed to 'Renamed'"]:
            assert expected in said, said
        assert said.startswith("admin\n")  # the person who made them, not the studio's recovery
        assert "Recovered changes" not in said
    finally:
        restarted.stop()


def test_the_history_shows_an_edit_at_once_and_a_saved_version_after_it(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=LONG_WINDOW)
    try:
        client = set_up_admin(server.url)
        project = client.post("/api/v1/projects", json={"name": "Readers"}).json()
        pid = project["id"]
        assert client.post(f"/api/v1/projects/{pid}/scenes", json={"name": "Fresh"}).status_code == 201
        items = client.get(f"/api/v1/projects/{pid}/history").json()["items"]
        assert items[0]["message"] == "Added scene 'Fresh'" and items[0]["kind"] == "scene"
        assert items[0]["author"]["name"] == "admin"
        assert client.post(f"/api/v1/projects/{pid}/scenes", json={"name": "Later"}).status_code == 201
        saved = client.post(f"/api/v1/projects/{pid}/save", json={"message": "Review"})
        assert saved.status_code == 200, saved.text
        items = client.get(f"/api/v1/projects/{pid}/history").json()["items"]
        assert [i["kind"] for i in items[:2]] == ["version", "scene"]
        assert items[1]["message"] == "Added scene 'Later'"
    finally:
        server.stop()


def test_a_clean_stop_commits_the_pending_edits(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=LONG_WINDOW)
    client = set_up_admin(server.url)
    project = client.post("/api/v1/projects", json={"name": "Stop"}).json()
    folder = project_folder(server, project)
    _edits(client, project["id"])
    server.stop()
    assert git(folder, "status", "--porcelain") == ""
    assert "Added scene 'Shot 4'" in _messages(folder)


def test_with_the_default_window_the_commit_follows_by_itself(tmp_path: Path) -> None:
    from support import wait_until

    server: RunningServer = start_server(tmp_path)
    try:
        client = set_up_admin(server.url)
        project = client.post("/api/v1/projects", json={"name": "Timer"}).json()
        folder = project_folder(server, project)
        assert client.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "Soon"}).status_code == 201
        wait_until(lambda: "Added scene 'Soon'" in _messages(folder), timeout=10,
                   message="the deferred commit to be made")
        assert git(folder, "status", "--porcelain") == ""
    finally:
        server.stop()


def test_a_scene_added_and_deleted_within_one_window_leaves_a_history_that_still_reads(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=LONG_WINDOW)
    try:
        client = set_up_admin(server.url)
        project = client.post("/api/v1/projects", json={"name": "Brief"}).json()
        base = f"/api/v1/projects/{project['id']}/scenes"
        fleeting = client.post(base, json={"name": "Fleeting"}).json()
        assert client.delete(f"{base}/{fleeting['id']}").status_code == 204
        kept = client.post(base, json={"name": "Kept"}).json()
        # The pending changes name a file that never reached git and is gone: their commit must still be made.
        history = client.get(f"/api/v1/projects/{project['id']}/history")
        assert history.status_code == 200, history.text
        folder = project_folder(server, project)
        assert git(folder, "status", "--porcelain") == ""
        assert f"scenes/{kept['id']}.json" in git(folder, "ls-files")
        assert f"scenes/{fleeting['id']}.json" not in git(folder, "ls-files")
    finally:
        server.stop()
