"""Walks EVERY route of the OpenAPI document as a user of another workspace and as an anonymous
caller: nothing of the first user's workspace may leak, and nothing may change."""

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("isolation"))
    set_up_admin(server.url).close()
    yield server
    server.stop()


def _sample(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """A plausible value for a JSON schema, so requests pass validation and reach authorisation."""
    if "$ref" in schema:
        return _sample(document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]], document)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _sample(options[0], document) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: _sample(prop, document)
            for name, prop in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":  # as few items as the schema allows
        return [_sample(schema.get("items", {}), document)] * schema.get("minItems", 0)
    return {"string": "leak-probe-value", "integer": 7, "number": 1.5, "boolean": True}.get(kind)


def _body(operation: dict[str, Any], document: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return _sample(schema, document) if schema else None




def test_no_route_leaks_another_workspace(server: RunningServer) -> None:
    victim = ApiClient(server.url)
    victim.register("victim-vera", display_name="Vera Victim")
    team = victim.post("/api/v1/workspaces", json={"name": "Vera's Secret Team"}).json()
    friend = ApiClient(server.url)
    friend.register("friend-fred")
    victim.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": "friend-fred"})
    token = victim.post("/api/v1/auth/tokens", json={"name": "vera-farm"}).json()
    project = victim.post("/api/v1/projects", json={"name": "Vera's Secret Film", "template": "storyboard",
                                                   "workspace_id": team["id"]}).json()
    scene = victim.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    version = victim.get(f"/api/v1/projects/{project['id']}/history").json()["items"][0]
    frame = victim.post(f"/api/v1/projects/{project['id']}/assets",
                        files={"file": ("vera-secret-frame.png", png_bytes(), "image/png")}).json()[0]
    me = victim.get("/api/v1/auth/me").json()["user"]
    task = victim.post("/api/v1/tasks", json={"kind": "project.export", "project_id": project["id"]}).json()
    hook = victim.post("/api/v1/webhooks", json={"url": "https://vera-secret-hooks.example/in",
                                                 "project_id": project["id"]}).json()
    (personal,) = [w for w in victim.get("/api/v1/workspaces").json()["items"] if w["kind"] == "personal"]
    thread = victim.post(f"/api/v1/projects/{project['id']}/comments",
                         json={"target": {"kind": "asset", "id": frame["id"]}, "body": "Vera's secret note"}).json()
    flow = victim.post(f"/api/v1/workspaces/{team['id']}/workflows", json={
        "name": "Vera's secret workflow", "graph": {"format": "mediastudio/nodes", "version": 1, "nodes": {
            "p": {"type": "prompt", "title": "Prompt", "position": {"x": 0, "y": 0}, "params": {"text": "x"},
                  "bypass": False}}, "edges": []}}).json()
    markers = [
        me["id"],
        "victim-vera",
        "Vera Victim",
        team["id"],
        "Vera's Secret Team",
        personal["id"],
        token["id"],
        token["prefix"],
        "friend-fred",
        project["id"],
        "Vera's Secret Film",
        scene["id"],
        version["sha"][:12],
        frame["id"],
        "vera-secret-frame",
        frame["sha256"],
        task["id"],
        hook["id"],
        "vera-secret-hooks",
        thread["id"],
        "Vera's secret note",
        flow["id"],
        "Vera's secret workflow",
    ]
    values = {
        "workspace_id": team["id"],
        "user_id": me["id"],
        "token_id": token["id"],
        "project_id": project["id"],
        "scene_id": scene["id"],
        "commit": version["sha"],
        "asset_id": frame["id"],
        "task_id": task["id"],
        "webhook_id": hook["id"],
        "node_id": "generate",
        "name": "vera-secret-model",
        "invite_id": "no-such-invite",
        "secret": "no-such-invitation-secret",
        "sample_id": "storyboard",
        "thread_id": thread["id"],
        "comment_id": thread["comments"][0]["id"],
        "workflow_id": flow["id"],
    }

    stranger = ApiClient(server.url)
    stranger.register("stranger-sam")
    # The stranger calls with an API token, so that walking POST /auth/logout does not end their turn.
    stranger_token = stranger.post("/api/v1/auth/tokens", json={"name": "probe"}).json()["token"]
    callers = {
        "other workspace": httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {stranger_token}"}),
        "anonymous": httpx.Client(base_url=server.url),
    }
    document = httpx.get(f"{server.url}/api/openapi.json").json()
    walked = 0
    for path, operations in document["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        unknown = [p for p in params if p not in values]
        assert not unknown, f"{path}: add a value of the victim's for {unknown} to this test"
        url = path.format(**values)
        for method in METHODS:
            if method not in operations:
                continue
            body = _body(operations[method], document)
            for who, caller in callers.items():
                response = caller.request(method.upper(), url, json=body)
                caller.cookies.clear()  # POST /auth/register or /auth/guest would log the anonymous caller in
                walked += 1
                sent = url + repr(body)  # an id the caller sent may be echoed in a 404: not a leak
                leaked = [m for m in markers if m in response.text and m not in sent]
                assert not leaked, f"{method.upper()} {path} as {who} leaked {leaked}: {response.text[:300]}"
                assert response.status_code < 500, f"{method.upper()} {path} as {who}: {response.text}"
                if path.startswith("/api/v1/auth/invites/"):  # anyone may ask whether an invitation link holds
                    assert response.status_code == 404, f"{method.upper()} {path} as {who}: {response.status_code}"
                    continue
                if params and who == "other workspace" and path.startswith("/api/v1/samples/"):
                    # The samples are the studio's, open to anyone signed in: a copy lands in the caller's own.
                    assert response.status_code in (200, 201), f"{method.upper()} {path} as {who}: {response.text}"
                elif params and who == "other workspace":
                    # Models and people belong to the instance, not a workspace: only administrators change them.
                    expected = 403 if path.startswith(("/api/v1/models/", "/api/v1/admin/")) else 404
                    assert response.status_code == expected, f"{method.upper()} {path} as {who}: {response.status_code}"
                if params and who == "anonymous":
                    assert response.status_code == 401, f"{method.upper()} {path} as {who}: {response.status_code}"
    assert walked >= 2 * 15

    # And nothing of the victim's changed.
    assert victim.get(f"/api/v1/workspaces/{team['id']}").json()["name"] == "Vera's Secret Team"
    assert len(victim.get(f"/api/v1/workspaces/{team['id']}/members").json()["items"]) == 2
    assert victim.get("/api/v1/auth/me").json()["user"]["display_name"] == "Vera Victim"
    after = victim.get(f"/api/v1/projects/{project['id']}").json()
    assert after["name"] == "Vera's Secret Film" and after["trashed_at"] is None and not after["archived"]
    assert [s["name"] for s in after["scenes"]] == ["Opening", "Confrontation", "Resolution"]
    history = victim.get(f"/api/v1/projects/{project['id']}/history").json()["items"]
    assert history[-1]["sha"] == version["sha"]  # after it only her own upload and comment, nothing of the stranger's
    assert len(history) <= 3 and "Uploaded 'vera-secret-frame.png'" in " ".join(h["message"] for h in history[:-1])
    assert victim.get(f"/api/v1/projects/{project['id']}/assets/{frame['id']}").json()["trashed_at"] is None
    assert not victim.get(f"/api/v1/tasks/{task['id']}").json()["cancel_requested"]
    assert [h["id"] for h in victim.get("/api/v1/webhooks").json()["items"]] == [hook["id"]]
    kept = victim.get(f"/api/v1/projects/{project['id']}/comments/{thread['id']}").json()
    assert [c["body"] for c in kept["comments"]] == ["Vera's secret note"] and not kept["resolved"]
    assert victim.get(f"/api/v1/workflows/{flow['id']}").json()["name"] == "Vera's secret workflow"
    assert (
        httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token['token']}"}).status_code
        == 200
    )
