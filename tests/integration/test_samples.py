"""The sample projects over a real server: listed with their covers, copied as new projects with their scenes,
media and history, generated takes with their provenance, a copy in each new guest's sandbox (and not when
that is turned off), the storage quota and the workspace's rights holding."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support import ADMIN_PASSWORD as PASSWORD
from support import ApiClient, RunningServer, set_up_admin, start_server

# Stated, not assumed: the first-run defaults of guests and registration may change.
GUESTS = {"MEDIASTUDIO_GUESTS_ENABLED": "true", "MEDIASTUDIO_GUESTS_PER_IP_PER_HOUR": "100",
          "MEDIASTUDIO_REGISTRATION_OPEN": "true"}
SAMPLES = {"storyboard", "text-to-image", "image-sequence"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("samples"), env=GUESTS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url, "ana")


def _guest(url: str) -> tuple[ApiClient, float]:
    client = ApiClient(url)
    started = time.perf_counter()
    made = client.post("/api/v1/auth/guest", json={})
    seconds = time.perf_counter() - started
    assert made.status_code == 201, made.text
    return client, seconds


def _projects(client: ApiClient) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/projects", params={"limit": 50})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _assets(client: ApiClient, pid: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v1/projects/{pid}/assets", params={"limit": 100}).json()["items"])


def test_the_samples_are_listed_with_a_name_a_line_and_a_cover(admin: ApiClient) -> None:
    listed = admin.get("/api/v1/samples")
    assert listed.status_code == 200, listed.text
    samples = listed.json()
    assert {s["id"] for s in samples} == SAMPLES
    for sample in samples:
        assert sample["name"] and sample["description"]
        cover = admin.get(sample["cover_url"])
        assert cover.status_code == 200
        assert cover.headers["content-type"] == "image/webp"
        assert cover.content[8:12] == b"WEBP"


def test_a_copy_is_a_new_project_with_the_scenes_media_and_history(admin: ApiClient) -> None:
    copies = {}
    for sample in SAMPLES:
        made = admin.post(f"/api/v1/samples/{sample}/copy")
        assert made.status_code == 201, made.text
        copies[sample] = made.json()
    again = admin.post("/api/v1/samples/storyboard/copy", json={})
    assert again.status_code == 201, again.text
    assert again.json()["id"] != copies["storyboard"]["id"]  # each copy is a project of its own

    storyboard = copies["storyboard"]["id"]
    scenes = admin.get(f"/api/v1/projects/{storyboard}/scenes").json()["items"]
    assert len(scenes) == 3
    graph = admin.get(f"/api/v1/projects/{storyboard}/scenes/{scenes[0]['id']}/graph").json()
    assert sum(n["type"] == "shot" for n in graph["nodes"].values()) == 2
    frames = _assets(admin, storyboard)
    assert len(frames) == 6
    for asset in frames:
        body = admin.get(f"/api/v1/projects/{storyboard}/assets/{asset['id']}/content")
        assert body.status_code == 200 and body.content[8:12] == b"WEBP"
    assert copies["storyboard"]["cover_asset_id"] in {a["id"] for a in frames}
    history = admin.get(f"/api/v1/projects/{storyboard}/history").json()["items"]
    assert len(history) > 3  # the sample's own history came along

    takes = [a for a in _assets(admin, copies["text-to-image"]["id"]) if a["category"] == "generated"]
    assert len(takes) == 3
    seeds = set()
    for take in takes:
        detail = admin.get(f"/api/v1/projects/{copies['text-to-image']['id']}/assets/{take['id']}").json()
        provenance = detail["provenance"]
        assert provenance["model"] == "tiny-sd"
        assert provenance["prompt"] == "A lighthouse at dusk"
        assert provenance["params"]["steps"] == 8
        seeds.add(provenance["seed"])
    assert seeds == {42, 43, 44}

    clips = [a for a in _assets(admin, copies["image-sequence"]["id"]) if a["mime"] == "video/mp4"]
    assert len(clips) == 1 and clips[0]["duration"] == pytest.approx(2.0, abs=0.3)  # 12 frames at 6 fps


def test_a_new_guest_finds_a_copy_of_each_sample_in_the_sandbox(server: RunningServer, admin: ApiClient) -> None:
    guest, seconds = _guest(server.url)
    print(f"guest created with the samples copied in: {seconds:.2f} s")
    assert seconds < 15  # generous: a loaded 2-core machine; about 0.5 s quiet
    names = {p["name"] for p in _projects(guest)}
    assert len(names) == 3
    assert {"The Lighthouse — storyboard", "Dusk — text to image",
            "Sunset — frames to clip"} == names
    # The copies and their media are the guest's own (who made each version stays in the history).
    me = guest.get("/api/v1/auth/me").json()["user"]
    for project in _projects(guest):
        assert {a["created_by"] for a in _assets(guest, project["id"])} == {me["id"]}
        history = guest.get(f"/api/v1/projects/{project['id']}/history").json()["items"]
        assert history[0]["message"].startswith("Copied from the sample “")
        assert any(v["author"]["name"] == "Mediastudio samples" for v in history)


def test_a_copy_goes_only_where_the_caller_may_add_projects(server: RunningServer, admin: ApiClient) -> None:
    workspace = admin.post("/api/v1/workspaces", json={"name": "Crew"}).json()
    outsider = ApiClient(server.url)
    outsider.register("cyd")
    refused = outsider.post("/api/v1/samples/storyboard/copy", json={"workspace_id": workspace["id"]})
    assert refused.status_code in (403, 404), refused.text
    assert refused.json()["detail"]
    assert _projects(outsider) == []


def test_the_samples_need_a_signed_in_caller(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/api/v1/samples").status_code == 401
    assert httpx.get(f"{server.url}/api/v1/samples/storyboard/cover").status_code == 401


def test_the_quota_holds_even_for_a_new_guests_samples(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = start_server(tmp_path_factory.mktemp("samples-quota"),
                          env={**GUESTS, "MEDIASTUDIO_STORAGE_QUOTA_BYTES": "4096",
                               "MEDIASTUDIO_GUEST_STORAGE_QUOTA_BYTES": "4096"})
    try:
        set_up_admin(server.url, "bob").close()  # an administrator has no storage limit: a registered person does
        person = ApiClient(server.url)
        assert person.post("/api/v1/auth/register", json={"username": "cyd", "password": PASSWORD}).status_code == 201
        over = person.post("/api/v1/samples/text-to-image/copy")
        assert over.status_code == 507, over.text
        assert "quota" in over.json()["detail"]
        assert _projects(person) == []  # nothing half-copied stays
        guest, _ = _guest(server.url)  # the guest is made all the same, with what fits: nothing
        assert _projects(guest) == []
        assert "was not copied into a guest's sandbox: Your storage quota is used up" in server.log()
        assert "Traceback" not in server.log()
    finally:
        server.stop()


def test_guests_can_start_with_an_empty_sandbox(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = start_server(tmp_path_factory.mktemp("samples-off"), env={**GUESTS, "MEDIASTUDIO_GUEST_SAMPLES": "false"})
    try:
        set_up_admin(server.url, "bob").close()
        guest, seconds = _guest(server.url)
        print(f"guest created without the samples: {seconds:.2f} s")
        assert _projects(guest) == []
        assert guest.post("/api/v1/samples/storyboard/copy").status_code == 201  # still offered
    finally:
        server.stop()
