"""The API section's anchor: a bare Litestar app with endpoints of the studio's shapes, served by uvicorn with the
Config `mediastudio serve` uses (the same keep-alive, no access log, no server header).

What it has that the studio has too: JSON in and out through Litestar, a scene read from its own file, writes that
land in a file, a multipart upload, and a socket that hears an event every 20 ms made by a thread and handed to the
event loop (as a task's progress reaches `WS /api/v1/events`). What it has not: sessions, rights, the database,
git. The gap between the two is what the studio's own request path costs.

    python -m benchmarks.anchor_app --port 8123 --folder /tmp/anchor --projects 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, WebSocket, get, post, websocket
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from mediastudio.server import KEEP_ALIVE_S


def project_row(index: int) -> dict[str, Any]:
    """A list item the size and shape of the studio's project page entries."""
    return {
        "id": f"prj_{index:016x}", "workspace_id": "ws_0000000000000001", "name": f"Project {index}",
        "description": "A project of the benchmark", "tags": ["bench", "api"], "template": "blank",
        "cover_asset_id": None, "created_by": "usr_0000000000000001", "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z", "archived_at": None, "trashed_at": None, "scene_count": 1,
        "asset_count": 0, "role": "owner", "size_bytes": 0,
    }


def build(folder: Path, projects: int) -> Litestar:
    scenes = folder / "scenes"
    scenes.mkdir(parents=True, exist_ok=True)
    (scenes / "scene.json").write_text(json.dumps(
        {"schema": 1, "name": "Scene", "order": 0,
         "graph": {"nodes": {f"n{i}": {"type": "prompt", "title": f"Node {i}", "params": {"text": "a lighthouse"},
                                       "position": {"x": i * 10.0, "y": i * 5.0}} for i in range(6)},
                   "edges": {}}}))
    rows = [project_row(i) for i in range(projects)]

    @get("/api/v1/health", sync_to_thread=False)
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": "0", "database": "ok"}

    @get("/api/v1/projects", sync_to_thread=False)
    def projects() -> dict[str, Any]:
        return {"items": rows, "next_cursor": None}

    @get("/api/v1/scene", sync_to_thread=False)
    def scene() -> dict[str, Any]:
        found: dict[str, Any] = json.loads((scenes / "scene.json").read_bytes())
        return {**found, "id": "scene"}

    @post("/api/v1/scenes", sync_to_thread=False)
    def create_scene(data: dict[str, Any]) -> dict[str, Any]:
        scene_id = secrets.token_hex(8)
        written = {"schema": 1, "name": str(data.get("name", "")), "order": 0, "graph": {"nodes": {}, "edges": {}}}
        (scenes / f"{scene_id}.json").write_text(json.dumps(written))
        return {**written, "id": scene_id}

    @post("/api/v1/upload", sync_to_thread=False)
    def upload(data: UploadFile = Body(media_type=RequestEncodingType.MULTI_PART)) -> dict[str, Any]:
        content = data.file.read()
        name = secrets.token_hex(8)
        (folder / name).write_bytes(content)
        return {"id": name, "size": len(content)}

    @websocket("/api/v1/progress")
    async def progress(socket: WebSocket, steps: int = 60) -> None:
        """`steps` events 20 ms apart, each made on a thread of its own with the time it was published (`at`) and
        handed to the loop, which sends it: the hand-over a task's progress takes, without the studio."""
        await socket.accept()
        loop, queue = asyncio.get_running_loop(), asyncio.Queue[str | None]()

        def publish() -> None:
            for step in range(steps):
                time.sleep(0.02)
                event = json.dumps({"type": "progress", "step": step, "at": datetime.now(UTC).isoformat()})
                loop.call_soon_threadsafe(queue.put_nowait, event)
            loop.call_soon_threadsafe(queue.put_nowait, None)

        threading.Thread(target=publish, daemon=True).start()
        while (event := await queue.get()) is not None:
            await socket.send_text(event)
        await socket.close()

    return Litestar([health, projects, scene, create_scene, upload, progress], debug=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--projects", type=int, default=50, help="items in the project list")
    args = parser.parse_args()
    app = build(args.folder, args.projects)
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="info",
                            timeout_keep_alive=KEEP_ALIVE_S, access_log=False, server_header=False,
                            ws_per_message_deflate=False)
    print(f"anchor pid {os.getpid()} on {args.port}", flush=True)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
