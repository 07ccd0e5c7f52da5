"""Projects over a real server: templates, git folders, search, bulk, trash, scenes, history, roles."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ApiClient, RunningServer, git, project_folder, set_up_admin, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("projects"))
    set_up_admin(server.url).close()
    yield server
    server.stop()


@pytest.fixture
def ana(server: RunningServer, request: pytest.FixtureRequest) -> Iterator[ApiClient]:
    client = ApiClient(server.url)
    client.register(f"ana{abs(hash(request.node.name)) % 10**6}", display_name="Ana")
    yield client
    client.close()


def _create(client: ApiClient, name: str, template: str = "blank", **extra: object) -> dict:
    response = client.post("/api/v1/projects", json={"name": name, "template": template, **extra})
    assert response.status_code == 201, response.text
    return response.json()






@pytest.mark.parametrize(
    ("template", "scenes"),
    [
        ("blank", ["Scene 1"]),
        ("storyboard", ["Opening", "Confrontation", "Resolution"]),
        ("text-to-image", ["Hero shot"]),
        ("image-sequence-to-clip", ["Clip"]),
    ],
)
def test_templates_make_a_git_folder_with_a_first_commit_by_the_user(
    server: RunningServer, ana: ApiClient, template: str, scenes: list[str]
) -> None:
    project = _create(ana, f"From {template}", template)
    folder = project_folder(server, project)
    assert (folder / ".git").is_dir() and (folder / "project.json").is_file() and (folder / "assets").is_dir()
    meta = json.loads((folder / "project.json").read_text())
    assert meta["name"] == f"From {template}" and meta["template"] == template
    scene_files = [json.loads(p.read_text()) for p in (folder / "scenes").glob("*.json")]
    assert sorted(s["name"] for s in scene_files) == sorted(scenes)
    log = git(folder, "log", "--format=%an|%ae|%s").splitlines()
    me = ana.get("/api/v1/auth/me").json()["user"]
    assert len(log) == 1 and log[0].startswith(f"Ana|{me['id']}@mediastudio.invalid|Created project")
    assert git(folder, "status", "--porcelain") == ""
    detail = ana.get(f"/api/v1/projects/{project['id']}").json()
    assert [s["name"] for s in detail["scenes"]] == scenes
    if template == "storyboard":
        assert [shot["name"] for s in detail["scenes"] for shot in s["shots"]] == [
            "Opening shot",
            "Confrontation",
            "Resolution",
        ]


def test_unknown_template_and_bad_names_are_refused(ana: ApiClient) -> None:
    bad = ana.post("/api/v1/projects", json={"name": "X", "template": "nope"})
    assert bad.status_code == 400 and "storyboard" in bad.json()["detail"]
    assert ana.post("/api/v1/projects", json={"name": "   "}).status_code == 400


def test_search_filter_sort_and_paginate(ana: ApiClient) -> None:
    noir = _create(ana, "Noir Alley")
    _create(ana, "Beach Day")
    _create(ana, "Alpine Dawn")
    ana.patch(f"/api/v1/projects/{noir['id']}", json={"tags": ["Noir", "night"], "description": "rain and neon"})

    def names(**params: object) -> list[str]:
        return [p["name"] for p in ana.get("/api/v1/projects", params=params).json()["items"]]

    assert names(q="alley") == ["Noir Alley"]
    assert names(q="neon") == ["Noir Alley"]  # description
    assert names(q="nig") == ["Noir Alley"]  # tags, as you type
    assert names(tag="noir") == ["Noir Alley"]
    assert names(sort="name") == ["Alpine Dawn", "Beach Day", "Noir Alley"]
    assert names(sort="updated")[0] == "Noir Alley"
    page = ana.get("/api/v1/projects", params={"sort": "name", "limit": 2}).json()
    assert [p["name"] for p in page["items"]] == ["Alpine Dawn", "Beach Day"] and page["next_cursor"]
    rest = ana.get("/api/v1/projects", params={"sort": "name", "limit": 2, "cursor": page["next_cursor"]}).json()
    assert [p["name"] for p in rest["items"]] == ["Noir Alley"] and rest["next_cursor"] is None
    assert {"tag": "noir", "count": 1} in ana.get("/api/v1/projects/tags").json()


def test_bulk_archive_delete_restore(ana: ApiClient) -> None:
    ids = [_create(ana, f"Reel {i}")["id"] for i in range(3)]
    archived = ana.post("/api/v1/projects/bulk", json={"action": "archive", "ids": [*ids[:2], "p_missing"]})
    assert [r["ok"] for r in archived.json()["results"]] == [True, True, False]
    assert "p_missing" in archived.json()["results"][2]["detail"]
    active = [p["id"] for p in ana.get("/api/v1/projects").json()["items"]]
    assert ids[2] in active and ids[0] not in active
    assert {p["id"] for p in ana.get("/api/v1/projects", params={"archived": True}).json()["items"]} == set(ids[:2])

    assert all(
        r["ok"] for r in ana.post("/api/v1/projects/bulk", json={"action": "delete", "ids": ids}).json()["results"]
    )
    assert ana.get("/api/v1/projects", params={"all": True}).json()["items"] == []
    assert ana.get(f"/api/v1/projects/{ids[0]}").status_code == 404
    trash = {p["id"] for p in ana.get("/api/v1/projects", params={"trashed": True}).json()["items"]}
    assert trash == set(ids)
    assert ana.post(f"/api/v1/projects/{ids[2]}/restore").status_code == 200
    assert ana.get(f"/api/v1/projects/{ids[2]}").json()["name"] == "Reel 2"


def test_scenes_create_rename_reorder_duplicate_delete(server: RunningServer, ana: ApiClient) -> None:
    project = _create(ana, "Scenes", "storyboard")
    base = f"/api/v1/projects/{project['id']}/scenes"
    opening, confrontation, _ = ana.get(base).json()["items"]
    epilogue = ana.post(base, json={"name": "Epilogue"}).json()
    ana.patch(f"{base}/{epilogue['id']}", json={"name": "Coda", "order": 0})
    copy = ana.post(f"{base}/{opening['id']}/duplicate").json()
    assert copy["name"] == "Opening copy"
    assert ana.delete(f"{base}/{confrontation['id']}").status_code == 204
    names = [s["name"] for s in ana.get(base).json()["items"]]
    assert names == ["Coda", "Opening", "Opening copy", "Resolution"]
    assert [s["order"] for s in ana.get(base).json()["items"]] == [0, 1, 2, 3]
    assert ana.get(f"{base}/{confrontation['id']}").status_code == 404
    ana.get(f"/api/v1/projects/{project['id']}/history")  # reading the history commits what is pending
    assert git(project_folder(server, project), "status", "--porcelain") == ""


def test_graphs_are_validated_and_dangling_edges_dropped(ana: ApiClient) -> None:
    project = _create(ana, "Graph", "text-to-image")
    scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    url = f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph"
    graph = ana.get(url).json()
    del graph["nodes"]["seed"]
    saved = ana.put(url, json=graph).json()
    assert not any(e["source"] == "seed" for e in saved["edges"].values())
    bad = ana.put(url, json={"nodes": {"a b": {"type": "prompt"}}, "edges": {}})
    assert bad.status_code == 400 and "nodes.a b" in bad.json()["detail"]
    bad_edge = ana.put(url, json={"nodes": {}, "edges": {"nonsense": {}}})
    assert bad_edge.status_code == 400


def test_a_scene_file_the_studio_wrote_reads_back_as_it_is_on_disk(server: RunningServer, ana: ApiClient) -> None:
    project = _create(ana, "Round trip", "text-to-image")
    scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    url = f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph"
    graph = ana.get(url).json()
    graph["nodes"]["prompt"]["position"] = {"x": 12.5, "y": 40.0}
    graph["nodes"]["prompt"]["params"]["text"] = "a lighthouse, «at dusk»"
    del graph["nodes"]["seed"]["title"]  # filled in from the type
    saved = ana.put(url, json=graph)
    assert saved.status_code == 200, saved.text
    on_disk = json.loads((project_folder(server, project) / "scenes" / f"{scene['id']}.json").read_text())
    assert on_disk["graph"] == saved.json() == ana.get(url).json()
    assert on_disk["graph"]["nodes"]["seed"]["title"] == "seed"
    assert ana.get(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}").json()["graph"] == on_disk["graph"]
    copy = ana.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "Copy", "graph": on_disk["graph"]})
    assert copy.status_code == 201 and copy.json()["graph"] == on_disk["graph"]


def test_history_summaries_versions_and_restore(server: RunningServer, ana: ApiClient) -> None:
    project = _create(ana, "History", "text-to-image")
    scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    url = f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph"
    graph = ana.get(url).json()
    graph["nodes"]["generate"]["params"]["steps"] = 50
    graph["nodes"]["up"] = {"type": "upscale", "title": "Upscale", "position": {"x": 900, "y": 0}, "params": {}}
    ana.put(url, json=graph)
    history = ana.get(f"/api/v1/projects/{project['id']}/history").json()["items"]
    assert history[0]["summary"] == "Added 1 node to 'Hero shot', changed steps on 'Text to image'"
    assert history[0]["author"]["name"] == "Ana"
    first = history[-1]["sha"]

    old = ana.get(f"/api/v1/projects/{project['id']}/history/{first}").json()
    assert old["scenes"][0]["graph"]["nodes"]["generate"]["params"]["steps"] == 30
    assert ana.get(f"/api/v1/projects/{project['id']}/history/deadbeef").status_code == 404

    restored = ana.post(f"/api/v1/projects/{project['id']}/history/{first}/restore")
    assert restored.status_code == 200 and "Restored the version" in restored.json()["message"]
    assert ana.get(url).json()["nodes"]["generate"]["params"]["steps"] == 30
    after = ana.get(f"/api/v1/projects/{project['id']}/history").json()["items"]
    assert [c["sha"] for c in after[1:]] == [c["sha"] for c in history]  # never rewritten
    assert len(after) == 3
    again = ana.post(f"/api/v1/projects/{project['id']}/history/{first}/restore")
    assert again.status_code == 409 and "current one already" in again.json()["detail"]


def test_viewers_look_but_change_and_run_nothing(server: RunningServer, ana: ApiClient) -> None:
    team = ana.post("/api/v1/workspaces", json={"name": "Viewers test"}).json()
    project = _create(ana, "Look only", "blank", workspace_id=team["id"])
    with ApiClient(server.url) as vic:
        vic.register(f"vic{project['id'][-6:]}")
        vic_id = vic.get("/api/v1/auth/me").json()["user"]["id"]
        ana.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": f"vic{project['id'][-6:]}"})
        assert vic.get(f"/api/v1/projects/{project['id']}").json()["role"] == "editor"
        roles = ana.put(f"/api/v1/projects/{project['id']}/roles/{vic_id}", json={"role": "viewer"}).json()
        assert {r["user"]["id"]: r["role"] for r in roles}[vic_id] == "viewer"
        assert vic.get(f"/api/v1/projects/{project['id']}").json()["role"] == "viewer"
        refused = vic.patch(f"/api/v1/projects/{project['id']}", json={"name": "mine"})
        assert refused.status_code == 403 and "viewer" in refused.json()["detail"]
        assert vic.post(f"/api/v1/projects/{project['id']}/scenes", json={"name": "x"}).status_code == 403
        assert vic.delete(f"/api/v1/projects/{project['id']}").status_code == 403
        assert vic.get(f"/api/v1/projects/{project['id']}/history").status_code == 200
        ana.patch(f"/api/v1/workspaces/{team['id']}", json={"default_project_role": "viewer"})
        assert vic.post("/api/v1/projects", json={"name": "x", "workspace_id": team["id"]}).status_code == 403


def test_reindex_rebuilds_the_index_from_the_folders(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    admin = set_up_admin(server.url)
    made = {_create(admin, name, "storyboard")["id"] for name in ("One", "Two")}
    server.stop()
    import sqlite3

    with sqlite3.connect(server.data_dir / "mediastudio.sqlite") as db:
        db.execute("DELETE FROM project_tags")
        db.execute("DELETE FROM projects")
    result = subprocess.run(
        [sys.executable, "-m", "mediastudio", "projects", "reindex", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "Indexed 2 project(s)" in result.stdout, result.stderr
    restarted = start_server(tmp_path)
    try:
        admin = ApiClient(restarted.url)
        admin.post("/api/v1/auth/login", json={"username": "admin", "password": "copper lantern ninety"})
        listed = admin.get("/api/v1/projects").json()["items"]
        assert {p["id"] for p in listed} == made
        assert all(p["scene_count"] == 3 and p["tags"] == ["storyboard"] for p in listed)
    finally:
        restarted.stop()


def test_tags_per_workspace_export_many_and_reorder_summaries(ana: ApiClient) -> None:
    import io
    import zipfile

    team = ana.post("/api/v1/workspaces", json={"name": "Tagged team"}).json()
    mine = _create(ana, "Mine")
    ours = _create(ana, "Ours", "storyboard", workspace_id=team["id"])
    ana.patch(f"/api/v1/projects/{mine['id']}", json={"tags": ["solo"]})
    tags = {t["tag"] for t in ana.get("/api/v1/projects/tags", params={"workspace": team["id"]}).json()}
    assert tags == {"storyboard"}

    zipped = ana.get("/api/v1/projects/export", params={"ids": f"{mine['id']},{ours['id']}"})
    assert zipped.status_code == 200 and zipped.headers["content-type"].startswith("application/zip")
    names = sorted(zipfile.ZipFile(io.BytesIO(zipped.content)).namelist())
    assert names == ["Mine.msproj", "Ours.msproj"]
    assert ana.get("/api/v1/projects/export", params={"ids": ""}).status_code == 400

    scenes = ana.get(f"/api/v1/projects/{ours['id']}/scenes").json()["items"]
    ana.patch(f"/api/v1/projects/{ours['id']}/scenes/{scenes[0]['id']}", json={"order": 2})
    assert ana.get(f"/api/v1/projects/{ours['id']}/history").json()["items"][0]["summary"] == "Reordered scenes"
