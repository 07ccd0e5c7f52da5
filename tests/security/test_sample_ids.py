"""A sample is named by an id of the shipped list, never by a path: ids that climb out of the folder, name a
file of it, or are not ids at all are refused with a 404 that says how to find the real ones, the same as an
unknown id, and nothing is read or created. The workspace in a copy's body is bounded and checked like any."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from support import ApiClient, RunningServer, set_up_admin, start_server

HOSTILE = ["../samples/storyboard", "..%2F..%2Fsettings", "storyboard.msproj", "storyboard/../storyboard",
           "samples.json", "STORYBOARD", "storyboard ", "%00storyboard", "storyboard%00", "templates",
           "../../../../etc/passwd", "x" * 5000, "ȿtoryboard", ".", ".."]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("sample-ids"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def _projects(client: ApiClient) -> list[dict]:
    return list(client.get("/api/v1/projects").json()["items"])


@pytest.mark.parametrize("sample_id", HOSTILE)
def test_a_hostile_sample_id_never_becomes_a_path(admin: ApiClient, sample_id: str) -> None:
    quoted = quote(sample_id, safe="%")
    for method, suffix in (("POST", "/copy"), ("GET", "/cover")):
        answer = admin.request(method, f"/api/v1/samples/{quoted}{suffix}")
        assert answer.status_code in (404, 405), (sample_id, suffix, answer.status_code, answer.text)
        if answer.status_code == 404 and answer.headers["content-type"].startswith("application/problem+json"):
            problem = answer.json()
            assert "storyboard, text-to-image, image-sequence" in problem.get("hint", "") or \
                problem["detail"], problem
        assert b"WEBP" not in answer.content[:16]
    assert _projects(admin) == []


def test_an_unknown_id_says_which_samples_there_are(admin: ApiClient) -> None:
    answer = admin.post("/api/v1/samples/nope/copy")
    assert answer.status_code == 404
    problem = answer.json()
    assert problem["detail"] == "There is no sample 'nope'."
    assert "storyboard" in problem["hint"] and "GET /api/v1/samples" in problem["hint"]


def test_the_workspace_of_a_copy_is_bounded_and_checked(admin: ApiClient) -> None:
    too_long = admin.post("/api/v1/samples/storyboard/copy", json={"workspace_id": "w" * 10_000})
    assert too_long.status_code == 400, too_long.text
    foreign = admin.post("/api/v1/samples/storyboard/copy", json={"workspace_id": "../../etc"})
    assert foreign.status_code in (403, 404), foreign.text
    wrong = admin.post("/api/v1/samples/storyboard/copy", json={"workspace_id": ["w_1"]})
    assert wrong.status_code == 400, wrong.text
    assert _projects(admin) == []
