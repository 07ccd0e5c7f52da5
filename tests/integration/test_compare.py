"""Compare takes end to end: takes generated on the CPU by a tiny Stable Diffusion pipeline (random weights),
through the API → queue → engine → assets with provenance, then compared: the differing parameters listed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from test_generation import ENV, run, scene_with, t2i_graph

from support import ApiClient, RunningServer, png_bytes, set_up_admin, start_server, wait_for_task


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from tiny_models import build_tiny_sd

    folder = tmp_path_factory.mktemp("compare")
    model = build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")
    added = subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(model), "--data-dir",
                            str(folder / "data")], capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    server = start_server(folder, env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def take(client: ApiClient, project_id: str | None, **graph: Any) -> tuple[str, str]:
    """A take made by a real run of the text-to-image graph: (project id, asset id)."""
    project = {"id": project_id} if project_id else None
    project_id, scene_id = scene_with(client, *t2i_graph(**graph), project=project)
    task = wait_for_task(client, run(client, project_id, scene_id)["id"], ("succeeded",), 90)
    return project_id, task["result"]["assets"][0]


def test_two_takes_list_the_seed_and_steps_that_differ(admin: ApiClient) -> None:
    project_id, first = take(admin, None, seed=7, steps=2)
    _, second = take(admin, project_id, seed=8, steps=3)
    answer = admin.get(f"/api/v1/projects/{project_id}/assets/compare", params={"ids": f"{first},{second}"})
    assert answer.status_code == 200, answer.text
    compared = answer.json()
    assert [t["asset"]["id"] for t in compared["takes"]] == [first, second]  # in the order asked
    assert [t["seed"] for t in compared["takes"]] == [7, 8]
    assert {t["model"] for t in compared["takes"]} == {"tiny-sd"}
    assert compared["takes"][0]["generator"] == "Hero shot" and compared["takes"][1]["params"]["steps"] == 3
    assert compared["takes"][0]["asset"]["created_by_name"] == "admin"
    differences = {d["path"]: d for d in compared["differences"]}
    assert differences["seed"]["values"] == [7, 8]
    assert differences["Hero shot.steps"]["values"] == [2, 3]
    # The Seed node's value only echoes the recorded seed: named beside it, not listed twice.
    assert "Seed.value" in differences["seed"]["also"] and "Seed.value" not in differences
    assert set(differences) == {"seed", "Hero shot.steps"}
    same = {s["path"]: s["value"] for s in compared["same"]}
    assert same["model"] == "tiny-sd" and same["prompt"] == "a lighthouse at dusk"
    assert same["Hero shot.width"] == 64 and compared["same_count"] == len(compared["same"])

    # A third take with another prompt, and an upload (no provenance): every take has a column.
    _, third = take(admin, project_id, seed=7, steps=2, prompt="a harbour at dawn")
    upload = admin.post(f"/api/v1/projects/{project_id}/assets", files={"file": ("ref.png", png_bytes())}).json()[0]
    ids = [first, second, third, upload["id"]]
    compared = admin.get(f"/api/v1/projects/{project_id}/assets/compare", params={"ids": ",".join(ids)}).json()
    differences = {d["path"]: d["values"] for d in compared["differences"]}
    assert differences["prompt"] == ["a lighthouse at dusk", "a lighthouse at dusk", "a harbour at dawn", None]
    assert differences["seed"] == [7, 8, 7, None]
    assert [t["generated"] for t in compared["takes"]] == [True, True, True, False]


def test_a_bad_list_of_ids_is_refused_with_a_reason(admin: ApiClient) -> None:
    project = admin.post("/api/v1/projects", json={"name": "Refusals"}).json()
    base = f"/api/v1/projects/{project['id']}/assets/compare"
    made = [admin.post(f"/api/v1/projects/{project['id']}/assets",
                       files={"file": (f"{i}.png", png_bytes((i * 30, 0, 0)))}).json()[0]["id"] for i in range(7)]
    one = admin.get(base, params={"ids": made[0]})
    assert one.status_code == 400 and one.json()["detail"] == "Compare takes 2 to 6 assets; 1 ids were given."
    assert one.json()["field"] == "ids" and "?ids=as_one,as_two" in one.json()["hint"]
    same_twice = admin.get(base, params={"ids": f"{made[0]},{made[0]}"})
    assert same_twice.status_code == 422 and "1 were given" in same_twice.json()["detail"]  # one asset: not two takes
    too_many = admin.get(base, params={"ids": ",".join(made)})
    assert too_many.status_code == 400 and "7 ids were given" in too_many.json()["detail"]
    odd = admin.get(base, params={"ids": f"{made[0]},../../etc"})
    assert odd.status_code == 400 and "regex" not in odd.text  # words a person can act on, not the pattern
    assert odd.json()["detail"] == ("'../../etc' is not an asset id in ids: an asset id is 1 to 64 letters, digits, "
                                    "'_' or '-'.")
    spaced = admin.get(base, params={"ids": f"{made[0]},,{made[1]}"})
    assert spaced.status_code == 400 and spaced.json()["detail"].startswith("An empty id in ids")
    missing = admin.get(base, params={"ids": f"{made[0]},as_nothere"})
    assert missing.status_code == 404 and "as_nothere" in missing.json()["detail"]
    nothing = admin.get(base)
    assert nothing.status_code == 422 and "0 were given" in nothing.json()["detail"]
    fine = admin.get(base, params={"ids": f"{made[0]},{made[1]}"})
    assert fine.status_code == 200 and fine.json()["differences"] == []  # uploads: nothing recorded to differ


def clip_bytes(path: Any, fps: int, frames: int = 12) -> bytes:
    """A little MP4 of `frames` grey frames at `fps` frames per second."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return bytes(path.read_bytes())


def test_clips_are_compared_with_their_own_frame_rates(admin: ApiClient, tmp_path: Any) -> None:
    """Each clip's frames per second is read from its file when it is added, and Compare answers it (the UI
    steps a frame by it); a picture has none."""
    project = admin.post("/api/v1/projects", json={"name": "Clips"}).json()
    ids = []
    for fps, name in ((12, "slow.mp4"), (30, "quick.mp4")):
        added = admin.post(f"/api/v1/projects/{project['id']}/assets",
                           files={"file": (name, clip_bytes(tmp_path / name, fps), "video/mp4")})
        assert added.status_code == 201, added.text
        ids.append(added.json()[0]["id"])
    still = admin.post(f"/api/v1/projects/{project['id']}/assets", files={"file": ("still.png", png_bytes((0, 0, 0)))})
    ids.append(still.json()[0]["id"])
    compared = admin.get(f"/api/v1/projects/{project['id']}/assets/compare", params={"ids": ",".join(ids)})
    assert compared.status_code == 200, compared.text
    assert [t["fps"] for t in compared.json()["takes"]] == [12.0, 30.0, None]
    # The asset view steps by the same rate (it assumed 24 for every clip before).
    details = [admin.get(f"/api/v1/projects/{project['id']}/assets/{asset_id}").json() for asset_id in ids]
    assert [d["fps"] for d in details] == [12.0, 30.0, None]
