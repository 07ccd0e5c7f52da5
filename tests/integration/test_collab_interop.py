"""Interop: Node's `yjs` + `y-websocket` clients (disableBc) against our pycrdt rooms."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from support import REPO, ApiClient, set_up_admin, start_server, wait_until

INTEROP = REPO / "tests" / "interop"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is needed for the interop clients")
def test_node_yjs_clients_sync_through_the_server(tmp_path: Path) -> None:
    assert (INTEROP / "node_modules" / "y-websocket").is_dir(), "run: cd tests/interop && npm install"
    server = start_server(tmp_path)
    try:
        ana = set_up_admin(server.url, "ana")
        project = ana.post("/api/v1/projects", json={"name": "Interop", "template": "text-to-image"}).json()
        scene = ana.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
        base = server.url.replace("http://", "ws://") + f"/api/v1/projects/{project['id']}/scenes"
        cookie = "; ".join(f"{k}={v}" for k, v in ana.cookies.items())
        result = subprocess.run(["node", "clients.mjs", base, scene["id"], cookie], cwd=INTEROP,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        seen = json.loads(result.stdout.strip().splitlines()[-1])
        assert seen == {"ok": True, "before": 30, "steps": 55,
                        "text": "Node says: A lighthouse on a cliff at dusk, cinematic, 35mm film"}
        # The server's document (and so REST, files and git) has the Node clients' edit.
        rest = ApiClient(server.url, cookies=ana.cookies)
        graph = wait_until(lambda: rest.get(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph").json(),
                           until=lambda graph: graph["nodes"]["generate"]["params"]["steps"] == 55,
                           interval=0.2, message="the Node clients' steps (55) on the server")
        assert graph["nodes"]["prompt"]["params"]["text"].startswith("Node says: ")
    finally:
        server.stop()
