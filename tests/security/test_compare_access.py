"""Compare takes: only assets of one project, read with the right to view it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("compare-access"))
    set_up_admin(server.url).close()
    yield server
    server.stop()


def upload(client: ApiClient, project_id: str, name: str) -> str:
    made = client.post(f"/api/v1/projects/{project_id}/assets", files={"file": (name, png_bytes())})
    assert made.status_code == 201, made.text
    return str(made.json()[0]["id"])


def test_takes_of_another_project_or_person_are_refused(server: RunningServer) -> None:
    ana, eve = ApiClient(server.url), ApiClient(server.url)
    ana.register("ana-compare")
    eve.register("eve-compare")
    mine = ana.post("/api/v1/projects", json={"name": "Mine"}).json()
    other = ana.post("/api/v1/projects", json={"name": "Other"}).json()
    a, b = upload(ana, mine["id"], "a.png"), upload(ana, mine["id"], "b.png")
    elsewhere = upload(ana, other["id"], "c.png")
    base = f"/api/v1/projects/{mine['id']}/assets/compare"
    assert ana.get(base, params={"ids": f"{a},{b}"}).status_code == 200

    # An asset of the owner's other project, asked for through this one: as if it did not exist.
    mixed = ana.get(base, params={"ids": f"{a},{elsewhere}"})
    assert mixed.status_code == 404 and "this project" in mixed.json()["hint"]
    assert mixed.json()["detail"] == ana.get(base, params={"ids": f"{a},as_0000000000000000"}).json()[
        "detail"].replace("as_0000000000000000", elsewhere)

    # Someone with no right to the project learns nothing of its takes, whichever project they name.
    eves = eve.post("/api/v1/projects", json={"name": "Eve's"}).json()
    own = upload(eve, eves["id"], "e.png")
    assert eve.get(base, params={"ids": f"{a},{b}"}).status_code == 404
    # Whatever ids they send, their answer is the one a project that does not exist gets: the project is
    # checked before the ids are, and the ids' form (the document's pattern) is refused alike for every project.
    nowhere = "/api/v1/projects/pr_0000000000000000/assets/compare"
    for ids in (None, a, f"{a},{a}", "../x,y", ",".join([a] * 7), "a" * 700):
        query = {"ids": ids} if ids is not None else None
        refused, unknown = eve.get(base, params=query), eve.get(nowhere, params=query)
        assert refused.status_code == unknown.status_code and refused.status_code in (400, 404), (ids, refused.text)
        assert refused.json()["detail"] == unknown.json()["detail"].replace("pr_0000000000000000", mine["id"])
    stolen = eve.get(f"/api/v1/projects/{eves['id']}/assets/compare", params={"ids": f"{own},{a}"})
    assert stolen.status_code == 404 and "Mine" not in stolen.text and "a.png" not in stolen.text
    assert ApiClient(server.url).get(base, params={"ids": f"{a},{b}"}).status_code == 401
