"""Hand-off exports end to end on an in-process studio (real SQLite, git, Huey lanes, blobs): the shots a hand-off
holds and their takes, the contact sheet (PDF pages, PNG size), the image sequence (its files), the MP4 animatic
(frames and duration read back with PyAV), cancel, who may start one and who may download it, and the limits."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from litestar.testing import TestClient
from PIL import Image
from sqlmodel import select

from mediastudio.app import create_app
from mediastudio.audit.tables import AuditEntry
from mediastudio.auth.tables import User
from mediastudio.handoff.pictures import letterbox, still
from mediastudio.handoff.shots import board_shots
from mediastudio.media.assets import add_assets, update_asset
from mediastudio.media.probe import probe
from mediastudio.projects import content
from mediastudio.projects.access import project_folder
from mediastudio.projects.tables import Project
from mediastudio.settings import Settings
from mediastudio.storage.sniff import sniff
from mediastudio.studio import Studio
from support import TEST_CLIENT_HOST

PASSWORD = "copper lantern ninety"
PAGE = (1754, 1240)


def picture(color: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def clip(frames: int = 12, fps: int = 12, size: tuple[int, int] = (160, 96)) -> bytes:
    """A small H.264 clip whose frame i is grey level 20·i (so a frame can be told by its colour)."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for index in range(frames):
            pixels = np.full((size[1], size[0], 3), 20 * index, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode(None))
    return out.getvalue()


def shot(x: int, y: int, name: str) -> dict[str, Any]:
    return {"type": "shot", "title": name, "position": {"x": x, "y": y}, "params": {"name": name}}


class Handoff:
    """One in-process studio with Ana (its administrator) signed in, and ways to act as others."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.studio: Studio = client.app.state.studio
        self.csrf = self.login("ana", setup=True)

    def login(self, name: str, *, setup: bool = False, register: bool = False) -> dict[str, str]:
        self.client.cookies.clear()
        path = "setup" if setup else "register" if register else "login"
        answer = self.client.post(f"/api/v1/auth/{path}", json={"username": name, "password": PASSWORD})
        assert answer.status_code in (200, 201), answer.text
        self.csrf = {"X-CSRF-Token": self.client.cookies["ms_csrf"]}
        return self.csrf

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, json=body or {}, headers=self.csrf)

    def user(self, name: str) -> User:
        with self.studio.db.session() as db:
            found = db.exec(select(User).where(User.username == name)).one()
            db.expunge(found)
            return found

    def take(self, project_id: str, scene_id: str, node_id: str, name: str, data: bytes) -> str:
        """A generated asset of the shot, as a run records one (provenance names the scene and the node)."""
        sha, _ = self.studio.blobs.store_bytes(data)
        sniffed = sniff(data[:4096])
        probed = probe(self.studio.blobs.path(sha), sniffed.category, sniffed.mime, max_pixels=10**8)
        with self.studio.db.transaction() as db:
            (asset,) = add_assets(db, self.studio.settings, self.user("ana"), project_id,
                                  [(name, sha, sniffed, probed, len(data))], category="generated",
                                  provenance={"scene_id": scene_id, "node_id": node_id, "seed": 1})
        return asset.id

    def edit_scene(self, project_id: str, scene_id: str, change: Any) -> None:
        """Change a scene's file as the board stores a shot's review (`GraphNode.review`)."""
        with self.studio.db.session() as db:
            project = db.get(Project, project_id)
            assert project is not None
            folder = project_folder(self.studio.settings, project)
        scene = content.read_scene(folder, scene_id)
        assert scene is not None
        change(scene["graph"]["nodes"])
        content.write_scene(folder, scene)

    def wait(self, task_id: str, statuses: tuple[str, ...] = ("succeeded",), timeout: float = 60) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            task = self.client.get(f"/api/v1/tasks/{task_id}").json()
            if task["status"] in statuses:
                return task
            assert task["status"] not in ("succeeded", "failed", "cancelled"), task
            time.sleep(0.05)
        raise AssertionError(f"task {task_id} did not reach {statuses}")

    def export(self, project_id: str, kind: str, body: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        started = self.post(f"/api/v1/projects/{project_id}/handoff/{kind}", body)
        assert started.status_code == 202, started.text
        done = self.wait(started.json()["id"])
        download = self.client.get(done["result"]["download"])
        assert download.status_code == 200, download.text
        return done, download


@pytest.fixture
def handoff(tmp_path: Path) -> Iterator[Handoff]:
    settings = Settings(data_dir=tmp_path / "data", probe_gpu=False, allowed_hosts=[TEST_CLIENT_HOST],
                        registration_open=True)
    with TestClient(create_app(settings)) as client:
        yield Handoff(client)


@pytest.fixture
def film(handoff: Handoff) -> dict[str, Any]:
    """A project whose first scene has four shots: 'Wide' (two takes, the older picked on the board), 'Close'
    (a one-second clip), 'Insert' (no take) and 'Reverse' (placed first on the board, held 3 s by its own
    duration)."""
    project = handoff.post("/api/v1/projects", {"name": "Night shoot"}).json()
    scene = handoff.client.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    nodes = {"wide": shot(0, 0, "Wide"), "close": shot(400, 0, "Close"), "insert": shot(0, 300, "Insert"),
             "reverse": shot(400, 300, "Reverse")}
    put = handoff.client.put(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph",
                             json={"nodes": nodes, "edges": {}}, headers=handoff.csrf)
    assert put.status_code == 200, put.text
    pid, sid = project["id"], scene["id"]
    picked = handoff.take(pid, sid, "wide", "Wide · seed 1 · #1.png", picture((200, 30, 30)))
    newer = handoff.take(pid, sid, "wide", "Wide · seed 2 · #2.png", picture((30, 200, 30)))
    close = handoff.take(pid, sid, "close", "Close · seed 1 · #1.mp4", clip())
    reverse = handoff.take(pid, sid, "reverse", "Reverse · seed 1 · #1.png", picture((30, 30, 200), (180, 320)))

    def review(nodes: dict[str, Any]) -> None:
        nodes["wide"]["review"] = {"take": picked, "status": "approved"}
        nodes["reverse"]["review"] = {"order": 0}
        nodes["reverse"]["params"]["duration"] = 3
    handoff.edit_scene(pid, sid, review)
    return {"project": project, "scene": scene, "picked": picked, "newer": newer, "close": close,
            "reverse": reverse}


def test_the_shots_come_in_board_order_with_the_picked_take_and_their_durations(handoff: Handoff,
                                                                              film: dict[str, Any]) -> None:
    with handoff.studio.db.session() as db:
        project = db.get(Project, film["project"]["id"])
        assert project is not None
        (scene,) = board_shots(db, handoff.studio.settings, project, None, still_seconds=1.5)
    got = [(s.title, s.take.asset_id if s.take else None, s.picked, s.status, s.seconds) for s in scene.shots]
    assert got == [("Reverse", film["reverse"], False, "todo", 3.0),  # on the board first, its own duration; to do
                   # as the board shows a shot placed there whose status nobody set
                   ("Wide", film["picked"], True, "approved", 1.5),  # the pick, not the newer take
                   ("Close", film["close"], False, None, 1.0),  # a clip: its own length
                   ("Insert", None, False, None, 1.5)]  # canvas order: top-left to bottom-right
    with handoff.studio.db.transaction() as db:  # a picked take in the trash: the newest take stands in
        update_asset(db, handoff.studio.settings, handoff.user("ana"), film["project"]["id"], film["picked"],
                     {"trashed": True})
    with handoff.studio.db.session() as db:
        project = db.get(Project, film["project"]["id"])
        assert project is not None
        (scene,) = board_shots(db, handoff.studio.settings, project, None, still_seconds=2)
    assert (scene.shots[1].take and scene.shots[1].take.asset_id, scene.shots[1].picked) == (film["newer"], False)


def test_a_contact_sheet_as_pdf_has_its_pages_and_as_png_its_size(handoff: Handoff, film: dict[str, Any]) -> None:
    pid = film["project"]["id"]
    second = handoff.post(f"/api/v1/projects/{pid}/scenes", {"name": "Rooftop"}).json()
    handoff.client.put(f"/api/v1/projects/{pid}/scenes/{second['id']}/graph", headers=handoff.csrf,
                       json={"nodes": {"a": shot(0, 0, "Skyline")}, "edges": {}})
    # 2 cards a page: scene 1's four shots take two pages, the rooftop's one a third.
    done, pdf = handoff.export(pid, "sheet", {"format": "pdf", "columns": 2, "rows": 1})
    assert done["result"]["pages"] == 3 and done["result"]["shots"] == 5 and done["progress"] == 1.0
    assert pdf.content.startswith(b"%PDF-") and pdf.content.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf.content)) == 3
    assert b"/Count 3" in pdf.content and "Night shoot contact sheet.pdf" in pdf.headers["content-disposition"]
    # an opaque download, as every document the studio serves (tests/security/test_http_edge.py)
    assert pdf.headers["content-disposition"].startswith("attachment;")
    done, png = handoff.export(pid, "sheet", {"format": "png"})  # 12 cards a page: one page
    assert png.headers["content-type"] == "image/png" and done["result"]["pages"] == 1
    with Image.open(io.BytesIO(png.content)) as page:
        assert page.size == PAGE
        assert page.convert("RGB").getpixel((PAGE[0] // 2, 20)) == (255, 255, 255)
    done, pages = handoff.export(pid, "sheet", {"format": "png", "columns": 1, "rows": 2,
                                                "scene_ids": [film["scene"]["id"]]})
    with zipfile.ZipFile(io.BytesIO(pages.content)) as archive:
        assert archive.namelist() == ["contact-sheet-01.png", "contact-sheet-02.png"]
        with Image.open(io.BytesIO(archive.read("contact-sheet-02.png"))) as page:
            assert page.size == PAGE


def test_an_image_sequence_holds_one_png_per_shot_or_every_frame(handoff: Handoff, film: dict[str, Any]) -> None:
    pid, sid = film["project"]["id"], film["scene"]["id"]
    _, answer = handoff.export(pid, "sequence", {"scene_id": sid})
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = archive.namelist()
        assert names == ["001 Reverse.png", "002 Wide.png", "003 Close.png", "004 Insert.png", "shots.json"]
        assert archive.read("002 Wide.png") == picture((200, 30, 30))  # the picked take's own file
        with Image.open(io.BytesIO(archive.read("003 Close.png"))) as middle:
            assert middle.size == (160, 96)
            assert abs(int(np.asarray(middle.convert("L"))[48, 80]) - 120) <= 12  # frame 6 of 12: grey 120
        listing = json.loads(archive.read("shots.json"))
    assert [s["take_id"] for s in listing["shots"]] == [film["reverse"], film["picked"], film["close"], None]
    # Every frame at 4 fps: 3 s + 2 s + 1 s + 2 s = 32 frames, all 640×360.
    _, answer = handoff.export(pid, "sequence", {"scene_id": sid, "frames": "timed", "fps": 4, "size": "640x360"})
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        frames = sorted(n for n in archive.namelist() if n.startswith("frames/"))
        assert frames == [f"frames/{i:06d}.png" for i in range(1, 33)]
        with Image.open(io.BytesIO(archive.read("frames/000013.png"))) as first_of_wide:
            assert first_of_wide.size == (640, 360)
            assert first_of_wide.convert("RGB").getpixel((320, 180)) == (200, 30, 30)
            assert first_of_wide.convert("RGB").getpixel((5, 180)) == (200, 30, 30)  # 16:9 into 16:9: no bars
        with Image.open(io.BytesIO(archive.read("frames/000001.png"))) as portrait:
            assert portrait.convert("RGB").getpixel((5, 180)) == (0, 0, 0)  # a portrait take is letterboxed
        listing = json.loads(archive.read("shots.json"))
    assert [(s["first_frame"], s["frames"]) for s in listing["shots"]] == [(1, 12), (13, 8), (21, 4), (25, 8)]


def test_an_animatic_holds_each_shot_for_its_duration(handoff: Handoff, film: dict[str, Any]) -> None:
    done, answer = handoff.export(film["project"]["id"], "animatic",
                                  {"scene_id": film["scene"]["id"], "fps": 12, "size": "640x360"})
    assert answer.headers["content-type"] == "video/mp4" and "animatic.mp4" in answer.headers["content-disposition"]
    assert done["result"]["frames"] == 12 * 8 and done["result"]["seconds"] == 8.0
    with av.open(io.BytesIO(answer.content), mode="r") as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and (stream.width, stream.height) == (640, 360)
        frames = [frame.to_ndarray(format="rgb24")[180, 320] for frame in container.decode(stream)]
        assert len(frames) == 96
        assert stream.duration is not None and stream.time_base is not None
        assert float(stream.duration * stream.time_base) == pytest.approx(8.0, abs=0.1)
    assert abs(int(frames[36][0]) - 200) < 12 and frames[36][1] < 50  # 3 s in: the picked (red) take
    grey = [int(f[0]) for f in frames[60:72]]  # the clip re-timed: its 12 frames over 1 s, in order
    assert grey == sorted(grey) and grey[-1] - grey[0] > 150


def test_a_running_export_stops_when_cancelled(handoff: Handoff, film: dict[str, Any]) -> None:
    def hold(nodes: dict[str, Any]) -> None:
        for node in nodes.values():
            node["params"]["duration"] = 60
    handoff.edit_scene(film["project"]["id"], film["scene"]["id"], hold)
    started = handoff.post(f"/api/v1/projects/{film['project']['id']}/handoff/animatic",
                           {"scene_id": film["scene"]["id"], "fps": 60, "size": "1920x1080", "still_seconds": 60})
    running = handoff.wait(started.json()["id"], ("running",))
    end = time.monotonic() + 20
    while handoff.client.get(f"/api/v1/tasks/{running['id']}").json()["step"] < 5 and time.monotonic() < end:
        time.sleep(0.05)
    stopping = handoff.post(f"/api/v1/tasks/{running['id']}/cancel").json()
    assert stopping["outcome"] == "stopping"
    cancelled = handoff.wait(running["id"], ("cancelled",), timeout=10)
    assert cancelled["result"] is None
    assert handoff.client.get(f"/api/v1/tasks/{running['id']}/result").status_code == 404


def test_viewers_may_export_outsiders_may_not_and_only_the_owner_downloads(handoff: Handoff) -> None:
    handoff.login("bob", register=True)
    handoff.login("vic", register=True)
    handoff.login("ana")
    workspace = handoff.post("/api/v1/workspaces", {"name": "Crew"}).json()
    project = handoff.post("/api/v1/projects", {"name": "Shared", "workspace_id": workspace["id"]}).json()
    scene = handoff.client.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    handoff.client.put(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph", headers=handoff.csrf,
                       json={"nodes": {"a": shot(0, 0, "Only")}, "edges": {}})
    assert handoff.post(f"/api/v1/workspaces/{workspace['id']}/members", {"username": "vic"}).status_code == 201
    vic = handoff.user("vic")
    role = handoff.client.put(f"/api/v1/projects/{project['id']}/roles/{vic.id}", json={"role": "viewer"},
                              headers=handoff.csrf)
    assert role.status_code == 200, role.text
    base = f"/api/v1/projects/{project['id']}/handoff"

    handoff.login("vic")  # a viewer: exports change nothing
    done, _ = handoff.export(project["id"], "animatic", {"scene_id": scene["id"], "fps": 2})
    assert done["owner_name"] == "vic"
    with handoff.studio.db.session() as db:
        entries = db.exec(select(AuditEntry).where(AuditEntry.action == "project.handoff")).all()
    assert [(e.actor_name, json.loads(e.details or "{}")["kind"]) for e in entries] == [("vic", "handoff.animatic")]
    missing = handoff.post(f"{base}/sequence", {"scene_id": "sc_nothere"})
    assert missing.status_code == 404 and "no scene" in missing.json()["detail"]
    bad = handoff.post(f"{base}/animatic", {"scene_id": scene["id"], "fps": 500})
    assert bad.status_code == 400 and "fps" in bad.text
    odd = handoff.post(f"{base}/sheet", {"format": "tiff"})
    assert odd.status_code == 400
    blank = handoff.post(f"{base}/sequence", {"scene_id": ""})  # the document states the rule (a fuzzer reads it)
    assert blank.status_code == 400 and "A scene id has 1 to 64 letters" in blank.json()["detail"]
    assert handoff.client.app.openapi_schema.components.schemas["SequenceParams"].properties["scene_id"].pattern

    handoff.login("bob")  # not a member: the project is not there, nor is vic's file
    assert handoff.post(f"{base}/sheet", {}).status_code == 404
    assert handoff.client.get(done["result"]["download"]).status_code == 404
    via_tasks = handoff.post("/api/v1/tasks", {"kind": "handoff.sheet", "project_id": project["id"]})
    assert via_tasks.status_code == 404


def test_limits_and_oversized_takes_fail_with_words_to_act_on(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", probe_gpu=False, allowed_hosts=[TEST_CLIENT_HOST],
                        max_image_pixels=1_000_000)
    with TestClient(create_app(settings)) as client:
        handoff = Handoff(client)
        project = handoff.post("/api/v1/projects", {"name": "Huge"}).json()
        scene = client.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
        nodes = {f"s{i}": shot(0, 100 * i, f"Shot {i}") for i in range(61)}
        client.put(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph", headers=handoff.csrf,
                   json={"nodes": nodes, "edges": {}})
        base = f"/api/v1/projects/{project['id']}/handoff"
        many = handoff.wait(handoff.post(f"{base}/sheet", {"columns": 1, "rows": 1}).json()["id"], ("failed",))
        assert many["error"]["code"] == "too_large" and "61 pages" in many["error"]["message"]
        long = handoff.wait(handoff.post(f"{base}/sequence", {"scene_id": scene["id"], "frames": "timed",
                                                              "still_seconds": 60}).json()["id"], ("failed",))
        assert long["error"]["code"] == "too_large" and long["error"]["hint"]
        handoff.take(project["id"], scene["id"], "s0", "Big.png", picture((9, 9, 9), (1200, 1000)))
        big = handoff.wait(handoff.post(f"{base}/sheet", {}).json()["id"], ("failed",))
        assert big["error"]["code"] == "unreadable_take" and "Big.png" in big["error"]["message"]
        assert "megapixels" in big["error"]["message"] and big["error"]["hint"]


def test_a_picture_already_the_frame_size_is_held_as_it_is(tmp_path: Path) -> None:
    """A take of exactly the animatic's size needs no scaling: what comes back is still a usable picture (the file
    it was read from is closed after reading)."""
    path = tmp_path / "exact.png"
    path.write_bytes(picture((10, 120, 200), (64, 36)))
    held = still(path, "exact.png", 10**6, (64, 36))
    assert held.size == (64, 36) and held.getpixel((0, 0)) == (10, 120, 200)
    assert letterbox(held, (64, 36)).getpixel((63, 35)) == (10, 120, 200)
