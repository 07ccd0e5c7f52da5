"""Groups in a run, with the tiny diffusion model: a bypassed group's nodes are skipped (each hands its first input
of a fitting type to its output, as a bypassed node does), and running a group runs its nodes and what they need."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from support import ApiClient, RunningServer, add_model, set_up_admin, start_server, wait_for_task

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}
FRAME = {"x": 0, "y": 0, "width": 600, "height": 300}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from tiny_models import build_tiny_sd

    folder = tmp_path_factory.mktemp("group-runs")
    model = build_tiny_sd(folder / "models" / "tiny-sd")
    add_model(model, folder / "data")
    server = start_server(folder, env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def _node(type_: str, group: str | None = None, **params: Any) -> dict[str, Any]:
    node = {"type": type_, "title": type_, "position": {"x": 0, "y": 0}, "params": params, "bypass": False}
    return {**node, "group": group} if group else node


def _edge(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
    return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                                 "target_handle": into}


def _graph(bypass: bool) -> dict[str, Any]:
    nodes = {"prompt": _node("prompt", text="a lighthouse"), "seed": _node("seed", value=7),
             "model": _node("model_loader", model="tiny-sd"),
             "generate": _node("text_to_image", width=64, height=64, steps=2, guidance_scale=5.0),
             "bigger": _node("upscale", "g1", factor=2, method="nearest"),
             "sharper": _node("upscale", "g1", factor=2, method="nearest"),
             "shot": _node("shot", name="Hero")}
    edges = [_edge("prompt", "text", "generate", "prompt"), _edge("seed", "seed", "generate", "seed"),
             _edge("model", "model", "generate", "model"), _edge("generate", "image", "bigger", "image"),
             _edge("bigger", "image", "sharper", "image"), _edge("sharper", "image", "shot", "images")]
    group = {"title": "Upscaling", "bounds": FRAME, **({"bypass": True} if bypass else {})}
    return {"nodes": nodes, "edges": dict(edges), "groups": {"g1": group}}


def _scene(admin: ApiClient, bypass: bool) -> tuple[str, str]:
    project = admin.post("/api/v1/projects", json={"name": "Groups"}).json()
    scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    put = admin.put(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph", json=_graph(bypass))
    assert put.status_code == 200, put.text
    return project["id"], scene["id"]


def _run(admin: ApiClient, project_id: str, scene_id: str, **body: Any) -> dict[str, Any]:
    started = admin.post(f"/api/v1/projects/{project_id}/scenes/{scene_id}/run", json=body)
    assert started.status_code == 201, started.text
    return wait_for_task(admin, started.json()["id"], ("succeeded",), 120)


def _size(admin: ApiClient, project_id: str, asset_id: str) -> tuple[int, int]:
    content = admin.get(f"/api/v1/projects/{project_id}/assets/{asset_id}/content").content
    return Image.open(io.BytesIO(content)).size


def test_a_bypassed_group_is_skipped_and_a_group_back_in_runs(admin: ApiClient) -> None:
    project_id, scene_id = _scene(admin, bypass=True)
    done = _run(admin, project_id, scene_id)
    assert _size(admin, project_id, done["result"]["assets"][0]) == (64, 64)  # neither upscale ran

    graph = admin.get(f"/api/v1/projects/{project_id}/scenes/{scene_id}/graph").json()
    assert graph["groups"]["g1"]["bypass"] is True and graph["nodes"]["bigger"]["bypass"] is False
    del graph["groups"]["g1"]["bypass"]
    assert admin.put(f"/api/v1/projects/{project_id}/scenes/{scene_id}/graph", json=graph).status_code == 200
    done = _run(admin, project_id, scene_id)
    assert _size(admin, project_id, done["result"]["assets"][0]) == (256, 256)


def test_running_a_group_runs_its_nodes_and_what_they_need(admin: ApiClient) -> None:
    project_id, scene_id = _scene(admin, bypass=False)
    # What the canvas's "Run the group" sends; forced, as the first test may have made these already.
    done = _run(admin, project_id, scene_id, outputs=["bigger", "sharper"], force=True)
    assert set(done["result"]["ran"]) == {"prompt", "seed", "model", "generate", "bigger", "sharper"}
    assert not done["result"]["assets"]  # the shot, outside the group, did not run
