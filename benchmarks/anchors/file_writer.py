"""The writes section's anchor: a bare Litestar app whose one route writes a small JSON file the way the studio
writes a scene (temporary file, fsync, rename, fsync of the folder) and answers, with no database, no session and
no git. Run: `python -m benchmarks.anchors.file_writer PORT FOLDER` (uvicorn with the studio's settings)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, get, post

from mediastudio.projects.files import write_json
from mediastudio.server import GRACEFUL_SHUTDOWN_S, KEEP_ALIVE_S


def make_app(folder: Path) -> Litestar:
    folder.mkdir(parents=True, exist_ok=True)

    @post("/write/{name:str}", status_code=201, sync_to_thread=True)
    def write(name: str, data: dict[str, Any]) -> dict[str, Any]:
        write_json(folder / f"{name[:64]}.json", data)
        return {"written": name, "size": len(json.dumps(data))}

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(route_handlers=[write, health])


if __name__ == "__main__":
    port, target = int(sys.argv[1]), Path(sys.argv[2])
    uvicorn.run(make_app(target), host="127.0.0.1", port=port, log_level="warning", access_log=False,
                server_header=False, timeout_keep_alive=KEEP_ALIVE_S, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
