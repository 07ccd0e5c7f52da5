"""Trashing a project while people edit it: no 500s, every edit that reached the server is in the trashed
(and then restored) project, the editors' sockets close with 4410, and no stray folder is left where
the project was (one once made it impossible to restore)."""

import asyncio
import json
import sys
import threading
import time
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from yclient import YClient, ws_url

from support import ApiClient, project_folder, run_async, set_up_admin, start_server, wait_until_async

CLOSE_WAIT_S = 5.0


def _headers(api: ApiClient) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in api.cookies.items())}


def _hammer(api: ApiClient, url: str, stop: threading.Event, statuses: list[int]) -> None:
    """REST edits of the same scene meanwhile, as another browser tab would make."""
    n = 0
    while not stop.is_set():
        got = api.get(url)
        statuses.append(got.status_code)
        if got.status_code == 200:
            graph = got.json()
            graph["nodes"]["prompt"]["title"] = f"Prompt {n}"
            statuses.append(api.put(url, json=graph).status_code)
        n += 1
        time.sleep(0.01)  # a pace, not a wait: a busy tab, not a flood


async def _edit_until_closed(writer: YClient) -> int | None:
    """Edit every 20 ms until the server closes the socket (at most ~10 s)."""
    for steps in range(100, 600):
        if writer._reader.done():  # type: ignore[union-attr]
            break
        graph = writer.graph()
        graph["nodes"]["generate"]["params"]["steps"] = steps
        try:
            await writer.edit(graph)
        except websockets.ConnectionClosed:
            break
        await asyncio.sleep(0.02)  # a pace, not a wait: someone dragging a slider
    await asyncio.wait_for(asyncio.shield(writer._reader), CLOSE_WAIT_S)  # type: ignore[arg-type]
    return writer.closed_with


def test_trash_and_restore_while_a_writer_edits(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        ana = set_up_admin(server.url, "ana")
        bob = ApiClient(server.url)
        bob.register("bob")
        team = ana.post("/api/v1/workspaces", json={"name": "Crew"}).json()
        ana.post(f"/api/v1/workspaces/{team['id']}/members", json={"username": "bob"})
        project = ana.post("/api/v1/projects", json={"name": "Busy", "template": "text-to-image",
                                                     "workspace_id": team["id"]}).json()
        scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
        url = ws_url(server.url, project["id"], scene["id"])
        graph_url = f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph"
        statuses: list[int] = []
        stop = threading.Event()
        hammer = threading.Thread(target=_hammer, args=(ApiClient(server.url, cookies=bob.cookies), graph_url,
                                                        stop, statuses))

        async def scenario() -> tuple[int | None, int | None, int, dict]:
            async with YClient(url, headers=_headers(ana)) as witness, YClient(url, headers=_headers(bob)) as writer:
                editing = asyncio.create_task(_edit_until_closed(writer))
                hammer.start()
                # Trash it mid-stream: once the writer's edits reach the witness and the REST tab has saved once.
                await wait_until_async(lambda: witness.graph()["nodes"]["generate"]["params"]["steps"] >= 110
                                       and len(statuses) >= 2, message="edits flowing from both writers")
                trashed = await asyncio.to_thread(ana.delete, f"/api/v1/projects/{project['id']}")
                writer_code = await editing
                await asyncio.wait_for(asyncio.shield(witness._reader), CLOSE_WAIT_S)  # type: ignore[arg-type]
                return writer_code, witness.closed_with, trashed.status_code, witness.graph()

        try:
            writer_code, witness_code, trashed, last_seen = run_async(scenario())
        finally:
            stop.set()
            if hammer.is_alive():
                hammer.join(10)
        assert trashed == 204
        assert (writer_code, witness_code) == (4410, 4410)
        assert last_seen["nodes"]["generate"]["params"]["steps"] > 100  # the writer did edit meanwhile
        # A window, not a wait: longer than the rooms' quiet spell (1.5 s) and their tick (0.5 s), so a late scene
        # write would have recreated the folder by now.
        time.sleep(2.0)
        assert not project_folder(server, project).exists()  # no stray folder where the project was
        assert not [s for s in statuses if s >= 500], statuses  # refused edits answer 404, 409 or 410

        restored = ana.post(f"/api/v1/projects/{project['id']}/restore")
        assert restored.status_code == 200, restored.text
        graph = ana.get(graph_url).json()
        assert json.dumps(graph, sort_keys=True) == json.dumps(last_seen, sort_keys=True)  # nothing lost
        on_disk = json.loads((project_folder(server, project) / "scenes" / f"{scene['id']}.json").read_text())
        assert on_disk["graph"]["nodes"]["generate"]["params"]["steps"] == \
            last_seen["nodes"]["generate"]["params"]["steps"]

        async def edit_again() -> int:
            async with YClient(url, headers=_headers(bob)) as writer:
                graph = writer.graph()
                graph["nodes"]["generate"]["params"]["steps"] = 7
                await writer.edit(graph)
                await wait_until_async(lambda: asyncio.to_thread(lambda: ana.get(graph_url).json()),
                                       until=lambda g: g["nodes"]["generate"]["params"]["steps"] == 7,
                                       message="the edit after the restore on the server")
            return 7

        run_async(edit_again())
    finally:
        server.stop()


def test_a_stray_folder_where_the_project_goes_does_not_block_its_restore(tmp_path: Path) -> None:
    """What an older server left behind (a scene write racing the move recreated the folder)."""
    server = start_server(tmp_path)
    try:
        ana = set_up_admin(server.url, "ana")
        project = ana.post("/api/v1/projects", json={"name": "Strayed", "template": "text-to-image"}).json()
        assert ana.delete(f"/api/v1/projects/{project['id']}").status_code == 204
        stray = project_folder(server, project)
        (stray / "scenes").mkdir(parents=True)
        (stray / "scenes" / "sc_late.json").write_text('{"graph": {}}')

        restored = ana.post(f"/api/v1/projects/{project['id']}/restore")
        assert restored.status_code == 200, restored.text
        assert (project_folder(server, project) / "project.json").is_file()
        kept = list((server.data_dir / "workspaces" / project["workspace_id"] / "strays").glob(f"{project['id']}-*"))
        assert len(kept) == 1 and (kept[0] / "scenes" / "sc_late.json").is_file()  # set aside, not deleted
        assert ana.get(f"/api/v1/projects/{project['id']}").status_code == 200
    finally:
        server.stop()
