"""A mask is painted only over a picture of the same project, by someone who may edit it: a source asset of
another project (even one the caller owns) is answered as missing, and a viewer saves nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from support import ApiClient, RunningServer, make_team, png_bytes, set_up_admin, start_server

ENV = {"MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("mask-sources"), env=ENV)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ana(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url, "ana")


def mask_png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, "PNG")
    return buffer.getvalue()


def upload(client: ApiClient, project_id: str) -> dict[str, Any]:
    made = client.post(f"/api/v1/projects/{project_id}/assets", files={"file": ("plate.png", png_bytes(size=(40, 30)))})
    assert made.status_code == 201, made.text
    return dict(made.json()[0])


def count(client: ApiClient, project_id: str) -> int:
    return len(client.get(f"/api/v1/projects/{project_id}/assets").json()["items"])


def test_a_source_of_another_project_is_refused(ana: ApiClient) -> None:
    mine = ana.post("/api/v1/projects", json={"name": "Mine"}).json()
    other = ana.post("/api/v1/projects", json={"name": "Other"}).json()
    theirs = upload(ana, other["id"])
    refused = ana.post(f"/api/v1/projects/{mine['id']}/assets/{theirs['id']}/mask",
                       files={"file": ("mask.png", mask_png((40, 30)))})
    assert refused.status_code == 404
    assert count(ana, mine["id"]) == 0 and count(ana, other["id"]) == 1


def test_strangers_and_viewers_save_no_mask(server: RunningServer, ana: ApiClient) -> None:
    team = make_team(server, ana, 1)
    project_id = team["project"]["id"]
    picture = upload(ana, project_id)
    stranger = ApiClient(server.url)
    stranger.register("mallory", display_name="Mallory")
    own = stranger.post("/api/v1/projects", json={"name": "Mallory's"}).json()
    url = f"/api/v1/projects/{{}}/assets/{picture['id']}/mask"
    for client, project in ((stranger, project_id), (stranger, own["id"]), (team["vic"], project_id)):
        refused = client.post(url.format(project), files={"file": ("mask.png", mask_png((40, 30)))})
        assert refused.status_code in (403, 404), refused.text
    assert count(ana, project_id) == 1 and count(stranger, own["id"]) == 0
    saved = team["bob"].post(url.format(project_id), files={"file": ("mask.png", mask_png((40, 30)))})
    assert saved.status_code == 201 and saved.json()["created_by_name"] == "Bob"
