"""The History over a real server: labelled versions are always made and shown, the list is searchable, and
every commit says what kind of change made it."""

from collections.abc import Iterator

import pytest

from support import ApiClient, RunningServer, make_team, png_bytes, set_up_admin, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("history"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ana(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url, "ana")


@pytest.fixture
def team(server: RunningServer, ana: ApiClient, request: pytest.FixtureRequest) -> dict:
    return make_team(server, ana, abs(hash(request.node.name)) % 10**6)


def history(client: ApiClient, project_id: str, **params: object) -> list[dict]:
    response = client.get(f"/api/v1/projects/{project_id}/history", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_label_always_makes_a_version_and_the_list_shows_it(ana: ApiClient, team: dict) -> None:
    pid = team["project"]["id"]
    before = history(ana, pid)
    saved = ana.post(f"/api/v1/projects/{pid}/save", json={"message": "  Client   review "})
    assert saved.status_code == 200, saved.text
    assert saved.json()["status"] == "saved" and saved.json()["label"] == "Client review"
    items = history(ana, pid)
    assert len(items) == len(before) + 1  # nothing changed since the last commit: an empty commit
    latest = items[0]
    assert latest["sha"] == saved.json()["commit"]
    assert (latest["kind"], latest["label"]) == ("version", "Client review")
    assert latest["summary"] == "Nothing changed since the version before"
    assert ana.post(f"/api/v1/projects/{pid}/save", json={"message": "Client review"}).json()["status"] == "saved"
    assert len(history(ana, pid)) == len(before) + 2  # the same label again: another version
    unlabelled = ana.post(f"/api/v1/projects/{pid}/save", json={})
    assert unlabelled.json() == {"status": "unchanged", "commit": None, "label": None}
    assert len(history(ana, pid)) == len(before) + 2


def test_labels_and_searches_are_bounded(ana: ApiClient, team: dict) -> None:
    pid = team["project"]["id"]
    for label in ("x" * 121, "two\nlines", "bell\u0007", "tab\there", "sep\u2028arated"):
        refused = ana.post(f"/api/v1/projects/{pid}/save", json={"message": label})
        assert refused.status_code == 400, (label, refused.text)
        assert "message" in refused.text
    assert ana.post(f"/api/v1/projects/{pid}/save", json={"message": "x" * 120}).status_code == 200
    too_long = ana.get(f"/api/v1/projects/{pid}/history", params={"q": "q" * 101})
    assert too_long.status_code == 400, too_long.text
    control = ana.get(f"/api/v1/projects/{pid}/history", params={"q": "a\u0001b"})
    assert control.status_code == 400 and "control characters" in control.json()["detail"]


def test_the_history_is_searchable_by_label_message_and_author(ana: ApiClient, team: dict) -> None:
    pid, bob = team["project"]["id"], team["bob"]
    assert ana.post(f"/api/v1/projects/{pid}/save", json={"message": "Client review"}).status_code == 200
    renamed = bob.patch(f"/api/v1/projects/{pid}/scenes/{team['scene']['id']}", json={"name": "Finale"})
    assert renamed.status_code == 200, renamed.text
    assert ana.post(f"/api/v1/projects/{pid}/save", json={"message": "Final cut"}).status_code == 200

    assert [c["label"] for c in history(ana, pid, q="CLIENT")] == ["Client review"]
    assert [c["message"] for c in history(ana, pid, q="finale")] == ["Renamed scene 'Hero shot' to 'Finale'"]
    assert {c["author"]["name"] for c in history(ana, pid, q="bob")} == {"Bob"}
    assert [c["label"] for c in history(ana, pid, q="saved version")] == ["Final cut", "Client review"]
    assert history(ana, pid, q="nothing like this") == []
    first = ana.get(f"/api/v1/projects/{pid}/history", params={"q": "version", "limit": 1}).json()
    assert [c["label"] for c in first["items"]] == ["Final cut"] and first["next_cursor"]
    rest = ana.get(f"/api/v1/projects/{pid}/history",
                   params={"q": "version", "limit": 1, "cursor": first["next_cursor"]}).json()
    assert [c["label"] for c in rest["items"]] == ["Client review"] and rest["next_cursor"] is None


def test_every_commit_says_what_kind_of_change_made_it(ana: ApiClient, team: dict) -> None:
    pid, scene = team["project"]["id"], team["scene"]
    upload = ana.post(f"/api/v1/projects/{pid}/assets", files={"file": ("frame.png", png_bytes(), "image/png")})
    assert upload.status_code == 201, upload.text
    asset = upload.json()[0] if isinstance(upload.json(), list) else upload.json()
    # A person looks before renaming what they uploaded: reading the history commits the upload on its own
    # (two changes of one file within a commit window are one commit: the file holds both).
    history(ana, pid)
    assert ana.patch(f"/api/v1/projects/{pid}/assets/{asset['id']}", json={"name": "first.png"}).status_code == 200
    assert ana.post(f"/api/v1/projects/{pid}/scenes", json={"name": "Second"}).status_code == 201
    assert ana.patch(f"/api/v1/projects/{pid}", json={"description": "A short"}).status_code == 200
    graph_url = f"/api/v1/projects/{pid}/scenes/{scene['id']}/graph"
    graph = ana.get(graph_url).json()
    graph["nodes"]["generate"]["params"]["steps"] = 12
    assert ana.put(graph_url, json=graph).status_code == 200
    ana.post(f"/api/v1/projects/{pid}/save", json={"message": "Look"})
    created = history(ana, pid)[-1]
    restored = ana.post(f"/api/v1/projects/{pid}/history/{created['sha']}/restore")
    assert restored.status_code == 200, restored.text

    items = history(ana, pid)
    said = [(c["kind"], c["summary"]) for c in items]
    assert said[0][0] == "restore" and items[0]["restored_from"] == created["sha"]
    assert said[1] == ("version", "Nothing changed since the version before") and items[1]["label"] == "Look"
    assert said[2:7] == [
        ("edit", "Changed steps on 'Text to image'"),
        ("settings", "Changed the project's description"),
        ("scene", "Added scene 'Second'"),
        ("asset", "Renamed 'frame.png' to 'first.png'"),
        ("upload", "Added 'frame.png'"),
    ]
    assert said[-1][0] == "created"
    assert "deleted scene 'Second'" in items[0]["summary"]
