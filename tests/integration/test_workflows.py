"""The workflow library over a real server: save, list, search, rename, delete, who may do what, and the checks a
saved or dropped graph goes through (node types, parameters, ports, sizes)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from support import ApiClient, RunningServer, make_team, png_bytes, set_up_admin, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("workflows"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ana(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url, "ana")


@pytest.fixture
def team(server: RunningServer, ana: ApiClient, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    crew = make_team(server, ana, abs(hash(request.node.name)) % 10**6)
    yield crew
    crew["bob"].close()
    crew["vic"].close()


def fragment() -> dict[str, Any]:
    """A prompt feeding a text-to-image node, and a note: the clipboard's format."""
    return {"format": "mediastudio/nodes", "version": 1,
            "nodes": {"p": {"type": "prompt", "title": "Prompt", "position": {"x": 10, "y": 20},
                            "params": {"text": "a lighthouse"}, "bypass": False},
                      "g": {"type": "text_to_image", "title": "Hero", "position": {"x": 300, "y": 20},
                            "params": {"steps": 4, "width": 512}, "bypass": False, "color": "teal"},
                      "n": {"type": "generic", "title": "Note", "position": {"x": 0, "y": 200},
                            "params": {"text": "remember"}, "bypass": False}},
            "edges": [{"source": "p", "source_handle": "text", "target": "g", "target_handle": "prompt"}]}


def save(client: ApiClient, workspace_id: str, name: str = "Lighthouse", **extra: Any) -> Any:
    return client.post(f"/api/v1/workspaces/{workspace_id}/workflows",
                       json={"name": name, "description": "A prompt and a generator", "graph": fragment(), **extra})


def test_save_list_search_rename_delete(team: dict[str, Any]) -> None:
    bob, ws = team["bob"], team["workspace"]["id"]
    preview = "data:image/png;base64," + base64.b64encode(png_bytes(size=(64, 48))).decode()
    saved = save(bob, ws, preview=preview)
    assert saved.status_code == 201, saved.text
    made = saved.json()
    assert made["node_count"] == 3 and made["has_preview"] and made["can_change"]
    save(bob, ws, "Portrait setup", description="faces")
    listed = bob.get(f"/api/v1/workspaces/{ws}/workflows").json()["items"]
    assert [w["name"] for w in listed] == ["Portrait setup", "Lighthouse"]
    found = bob.get(f"/api/v1/workspaces/{ws}/workflows", params={"q": "generator"}).json()["items"]
    assert [w["name"] for w in found] == ["Lighthouse"]
    one = bob.get(f"/api/v1/workflows/{made['id']}").json()
    assert one["graph"]["nodes"]["g"]["params"] == {"steps": 4, "width": 512}
    assert one["graph"]["nodes"]["g"]["color"] == "teal"
    assert one["graph"]["edges"] == [{"source": "p", "source_handle": "text", "target": "g", "target_handle": "prompt"}]
    picture = bob.get(f"/api/v1/workflows/{made['id']}/preview")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content == png_bytes(size=(64, 48))
    file = bob.get(f"/api/v1/workflows/{made['id']}/file")
    assert 'filename="Lighthouse.json"' in file.headers["content-disposition"]
    exported = json.loads(file.content)
    assert exported["format"] == "mediastudio/nodes" and exported["name"] == "Lighthouse"
    renamed = bob.patch(f"/api/v1/workflows/{made['id']}", json={"name": "Harbour light"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Harbour light"
    assert bob.delete(f"/api/v1/workflows/{made['id']}").status_code == 204
    assert bob.get(f"/api/v1/workflows/{made['id']}").status_code == 404


def test_members_read_and_save_only_who_saved_and_admins_change(team: dict[str, Any], ana: ApiClient,
                                                                server: RunningServer) -> None:
    bob, vic, ws = team["bob"], team["vic"], team["workspace"]["id"]
    made = save(bob, ws).json()
    # Vic views the team's project, but is a member of the workspace: reads the library and saves to it.
    seen = vic.get(f"/api/v1/workspaces/{ws}/workflows").json()["items"]
    assert [w["can_change"] for w in seen] == [False]
    assert vic.get(f"/api/v1/workflows/{made['id']}").status_code == 200
    refused = vic.patch(f"/api/v1/workflows/{made['id']}", json={"name": "Mine"})
    assert refused.status_code == 403 and "who saved this workflow" in refused.json()["detail"]
    assert vic.delete(f"/api/v1/workflows/{made['id']}").status_code == 403
    assert save(vic, ws, "Vic's").status_code == 201
    assert ana.get(f"/api/v1/workspaces/{ws}/workflows").json()["items"][0]["can_change"]  # the owner
    assert ana.patch(f"/api/v1/workflows/{made['id']}", json={"description": "checked"}).status_code == 200
    outsider = ApiClient(server.url)
    outsider.register(f"out{abs(hash(ws)) % 10**6}")
    assert outsider.get(f"/api/v1/workspaces/{ws}/workflows").status_code == 404
    assert outsider.get(f"/api/v1/workflows/{made['id']}").status_code == 404
    assert outsider.get(f"/api/v1/workflows/{made['id']}/file").status_code == 404
    assert outsider.delete(f"/api/v1/workflows/{made['id']}").status_code == 404
    assert save(outsider, ws).status_code == 404
    outsider.close()


@pytest.mark.parametrize(("change", "said"), [
    (lambda g: g["nodes"]["g"].update(type="os_system"), "not a kind of node this studio has"),
    (lambda g: g["nodes"]["g"]["params"].update(steps=100000), "'steps'"),
    (lambda g: g["nodes"]["g"]["params"].update(shell="rm -rf /"), "has no parameter 'shell'"),
    (lambda g: g["nodes"]["p"]["params"].update(text="x" * 70_000), "more than 64 KB"),
    (lambda g: g["edges"].append({"source": "p", "source_handle": "text", "target": "g", "target_handle": "nope"}),
     "no such port"),
    (lambda g: g["edges"].append({"source": "p", "source_handle": "text", "target": "ghost", "target_handle": "x"}),
     "not two nodes"),
    (lambda g: g["nodes"].update({"../x": {"type": "prompt"}}), "is not a node"),
    (lambda g: g["nodes"].update({f"n{i}": {"type": "generic"} for i in range(201)}), "at most 200"),
    (lambda g: g.update(format="comfyui"), "not a workflow of this studio's format"),
])
def test_a_hostile_graph_is_refused_with_a_sentence(team: dict[str, Any], change: Any, said: str) -> None:
    graph = fragment()
    change(graph)
    refused = team["bob"].post(f"/api/v1/workspaces/{team['workspace']['id']}/workflows",
                               json={"name": "Bad", "graph": graph})
    assert refused.status_code == 400, refused.text
    assert said in refused.json()["detail"]
    assert team["bob"].get(f"/api/v1/workspaces/{team['workspace']['id']}/workflows").json()["items"] == []


def test_a_preview_must_be_a_small_picture(team: dict[str, Any]) -> None:
    ws = team["workspace"]["id"]
    html = "data:image/png;base64," + base64.b64encode(b"<script>alert(1)</script>").decode()
    refused = save(team["bob"], ws, preview=html)
    assert refused.status_code == 400 and "PNG, JPEG or WebP" in refused.json()["detail"]
    huge = "data:image/png;base64," + "A" * 300_000
    assert save(team["bob"], ws, preview=huge).status_code == 400


def test_reading_a_json_file_checks_it_as_a_saved_workflow(team: dict[str, Any]) -> None:
    bob = team["bob"]
    read = bob.post("/api/v1/workflows/read", content=json.dumps(fragment()).encode())
    assert read.status_code == 200, read.text
    assert set(read.json()["nodes"]) == {"p", "g", "n"} and len(read.json()["edges"]) == 1
    bad = bob.post("/api/v1/workflows/read", content=b"{not json")
    assert bad.status_code == 400 and "not JSON" in bad.json()["detail"]
    picture = bob.post("/api/v1/workflows/read", content=png_bytes())
    assert picture.status_code == 400 and "carries no graph" in picture.json()["detail"]


def test_saving_renaming_deleting_and_importing_are_audited(team: dict[str, Any], ana: ApiClient) -> None:
    bob, vic, ws = team["bob"], team["vic"], team["workspace"]["id"]
    made = save(bob, ws, "Audited").json()
    assert bob.patch(f"/api/v1/workflows/{made['id']}", json={"name": "Audited again"}).status_code == 200
    assert vic.patch(f"/api/v1/workflows/{made['id']}", json={"name": "Not mine"}).status_code == 403  # no entry
    assert bob.patch(f"/api/v1/workflows/{made['id']}", json={"name": "Audited again"}).status_code == 200  # no change
    assert bob.delete(f"/api/v1/workflows/{made['id']}").status_code == 204
    found = ana.get("/api/v1/admin/audit", params={"target": made["id"], "limit": 50}).json()["items"]
    assert [e["action"] for e in found] == ["workflow.delete", "workflow.rename", "workflow.save"]
    assert {e["actor_id"] for e in found} == {team["bob_id"]}
    deleted, renamed, saved = found
    assert saved["target_label"] == "Audited" and saved["details"]["nodes"] == 3
    assert renamed["details"] == {"name": {"before": "Audited", "after": "Audited again"}}
    assert deleted["target_label"] == "Audited again" and deleted["details"]["workspace_id"] == ws

    assert bob.post("/api/v1/workflows/read", content=json.dumps(fragment()).encode()).status_code == 200
    assert bob.post("/api/v1/workflows/read", content=b"{not json").status_code == 400  # refused: no entry
    imports = ana.get("/api/v1/admin/audit", params={"action": "workflow.import", "limit": 50}).json()["items"]
    mine = [e for e in imports if e["actor_id"] == team["bob_id"]]
    assert len(mine) == 1 and mine[0]["details"] == {"source": "json", "bytes": len(json.dumps(fragment())), "nodes": 3}
