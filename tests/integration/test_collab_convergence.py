"""Convergence fuzz through a real server: seeded random edits by three Python clients, with random
disconnects, offline edits and reconnects. Every replica ends equal to the server's reloaded state."""

import asyncio
import json
import random
from pathlib import Path

from yclient import YClient, ws_url

from mediastudio.collab.document import dangling_edges
from support import ApiClient, git, project_folder, run_async, set_up_admin, start_server, wait_until, wait_until_async

SEED = 20261129
ROUNDS = 120


def _mutate(graph: dict, rng: random.Random) -> None:
    ids = list(graph["nodes"])
    action = rng.choice(["add", "add", "delete", "param", "param", "move", "connect", "disconnect"])
    if action == "add" or not ids:
        node_id = f"n{rng.randrange(10**6)}"
        graph["nodes"][node_id] = {"type": "seed", "title": f"Node {node_id}", "bypass": False,
                                   "position": {"x": rng.randrange(800), "y": rng.randrange(800)},
                                   "params": {"value": rng.randrange(100)}}
    elif action == "delete":
        del graph["nodes"][rng.choice(ids)]
    elif action == "param":
        node = graph["nodes"][rng.choice(ids)]
        node["params"][rng.choice(["value", "steps", "text"])] = rng.choice([1, 7, 2.5, "dawn", "dusk light"])
    elif action == "move":
        graph["nodes"][rng.choice(ids)]["position"] = {"x": rng.randrange(800), "y": rng.randrange(800)}
    elif action == "connect":
        a, b = rng.choice(ids), rng.choice(ids)
        graph["edges"][f"{a}:out->{b}:in"] = {"source": a, "source_handle": "out", "target": b, "target_handle": "in"}
    elif graph["edges"]:
        del graph["edges"][rng.choice(list(graph["edges"]))]


def test_random_concurrent_edits_converge_through_the_server(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        ana = set_up_admin(server.url, "ana")
        project = ana.post("/api/v1/projects", json={"name": "Fuzz", "template": "text-to-image"}).json()
        scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
        url = ws_url(server.url, project["id"], scene["id"])
        cookies = dict(ana.cookies)
        rng = random.Random(SEED)

        async def scenario() -> tuple[list[dict], dict]:
            clients = [await YClient(url, cookies=cookies).__aenter__() for _ in range(3)]
            online = [True, True, True]
            for _ in range(ROUNDS):
                i = rng.randrange(3)
                roll = rng.random()
                if roll < 0.08 and online[i]:
                    await clients[i].close()
                    online[i] = False
                elif roll < 0.16 and not online[i]:
                    clients[i] = await YClient(url, cookies=cookies, doc=clients[i].doc).__aenter__()
                    online[i] = True
                else:
                    graph = clients[i].graph()
                    _mutate(graph, rng)
                    await clients[i].edit(graph, offline=not online[i])
                if rng.random() < 0.3:
                    await asyncio.sleep(0.01)  # a pace, not a wait: lets some edits cross on the wire
            for i in range(3):
                if not online[i]:
                    clients[i] = await YClient(url, cookies=cookies, doc=clients[i].doc).__aenter__()
            reference = clients[0]
            # Equal replicas (any of them may be the laggard), with the server's repair of dangling edges in.
            await wait_until_async(lambda: all(c.graph() == reference.graph() for c in clients[1:])
                                   and not any(dangling_edges(c.doc) for c in clients),
                                   message="the replicas to converge, dangling edges repaired", interval=0.05)
            graphs = [c.graph() for c in clients]
            edges = dict(reference.doc.get("edges", type=__import__("pycrdt").Map).items())
            for c in clients:
                await c.close()
            return graphs, {"edges": edges}

        graphs, final = run_async(scenario())
        assert graphs[0] == graphs[1] == graphs[2]
        assert len(graphs[0]["nodes"]) > 3
        # The server repaired every dangling edge: none remains in the shared document.
        nodes = graphs[0]["nodes"]
        assert all(e.get("source") in nodes and e.get("target") in nodes for e in final["edges"].values())

        # Reloaded by the server (room closed, reopened from the update log): the same graph. The last editor
        # leaving writes the scene file and commits it, then closes the room.
        folder = project_folder(server, project)
        scene_file = folder / "scenes" / f"{scene['id']}.json"
        wait_until(lambda: json.loads(scene_file.read_text())["graph"] == graphs[0]
                   and not git(folder, "--no-optional-locks", "status", "--porcelain"),
                   message="the room's last save (scene file written and committed)")

        async def fresh() -> dict:
            async with YClient(url, cookies=cookies) as late:
                return late.graph()

        assert run_async(fresh()) == graphs[0]
        rest = ApiClient(server.url, cookies=ana.cookies).get(
            f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph").json()
        assert rest == graphs[0]
    finally:
        server.stop()
