"""An image sequence made into a clip over a real server: the clip's frames are the node's pictures in the
order its list holds them (the inspector shows that order and lets a person change it), and a generated
clip's commit says it generated an asset."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server, wait_for_task

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("sequence"))
    yield server
    server.stop()


def _node(type_: str, **params: Any) -> dict[str, Any]:
    return {"type": type_, "title": type_, "position": {"x": 0, "y": 0}, "params": params, "bypass": False}


def _edge(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
    return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                                 "target_handle": into}


def _dominant(frame: Any) -> str:
    red, green, blue = frame.to_image().convert("RGB").resize((1, 1)).getpixel((0, 0))
    return max((red, "red"), (green, "green"), (blue, "blue"))[1]


def test_the_clip_plays_the_pictures_in_the_order_of_the_list(server: RunningServer) -> None:
    import av

    admin: ApiClient = set_up_admin(server.url, "ana")
    project = admin.post("/api/v1/projects", json={"name": "Flipbook"}).json()
    pid = project["id"]
    ids = {}
    for name, colour in COLOURS.items():
        made = admin.post(f"/api/v1/projects/{pid}/assets",
                          files={"file": (f"{name}.png", png_bytes(color=colour, size=(64, 48)), "image/png")})
        assert made.status_code == 201, made.text
        ids[name] = made.json()[0]["id"]
    order = ["blue", "red", "green"]  # neither by name nor by upload
    nodes = {"frames": _node("load_image", asset_ids=[ids[n] for n in order]),
             "clip": _node("image_sequence_to_video", fps=2, codec="mpeg4"), "shot": _node("shot", name="Clip")}
    edges = [_edge("frames", "images", "clip", "images"), _edge("clip", "video", "shot", "video")]
    scene = admin.get(f"/api/v1/projects/{pid}/scenes").json()["items"][0]
    put = admin.put(f"/api/v1/projects/{pid}/scenes/{scene['id']}/graph", json={"nodes": nodes, "edges": dict(edges)})
    assert put.status_code == 200, put.text
    started = admin.post(f"/api/v1/projects/{pid}/scenes/{scene['id']}/run", json={})
    assert started.status_code == 201, started.text
    done = wait_for_task(admin, started.json()["id"], ("succeeded",), 90)
    clip = admin.get(f"/api/v1/projects/{pid}/assets/{done['result']['assets'][0]}/content").content
    with av.open(io.BytesIO(clip)) as container:
        frames = [_dominant(frame) for frame in container.decode(video=0)]
    assert frames == order

    latest = admin.get(f"/api/v1/projects/{pid}/history", params={"limit": 1}).json()["items"][0]
    assert (latest["kind"], latest["summary"]) == ("generate", "Added 'Clip · #1.mp4'")
