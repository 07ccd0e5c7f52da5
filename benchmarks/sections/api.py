"""API: the common operations at 1, 10 and 100 clients, each beside the same shape of request on a bare Litestar
app (benchmarks/anchor_app.py) served with the same uvicorn settings, measured in the same rounds.

Operations: the projects page (50 projects), one scene of a project with 300 scenes (and of a project with one
scene: the read must not depend on how many there are), creating a scene, uploading a small PNG (the studio's
real upload route, multipart), health. Requests carry a browser session (cookie, and the CSRF header on writes),
as the studio's pages send them. Every number is the median of its rounds; ours and the anchor alternate within
a round so both see the same noise."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks import harness
from benchmarks.load import Request, Result, median, run_load

NAME = "api"
TITLE = "REST API latency and throughput"

PROJECTS = 50
SCENES = 300
BOUNDARY = "msbenchboundary7f3a"


@dataclass
class Operation:
    label: str
    ours: Request
    anchor: Request
    kind: str  # "read", "write" or "health": which target applies


def _multipart(name: str, data: bytes, mime: str) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: {mime}\r\n\r\n").encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def _start_anchor(folder: Path, projects: int) -> tuple[subprocess.Popen[bytes], str]:
    from support import free_port

    port = free_port()
    log = (folder / "anchor.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.anchor_app", "--port", str(port),
                                "--folder", str(folder), "--projects", str(projects)],
                               cwd=harness.REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait = harness.start_wait_s()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the anchor app exited: {(folder / 'anchor.log').read_text()}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the anchor app did not answer within {wait:.0f} s (load average {os.getloadavg()[0]:.1f}); "
                       f"its log: {(folder / 'anchor.log').read_text()}")


def _fill(server: harness.RunningServer, admin: harness.ApiClient, projects: int) -> dict[str, str]:
    """`projects` projects; one with 300 scenes (written as files, as an imported project has them), one with a
    single scene; and a project that receives the writes."""
    made = [admin.post("/api/v1/projects", json={"name": f"Project {i}"}).json() for i in range(projects)]
    big, small, writes = made[0], made[1], made[2]
    first = admin.post(f"/api/v1/projects/{big['id']}/scenes", json={"name": "Opening"}).json()
    folder = next((server.data_dir / "workspaces").glob(f"*/projects/{big['id']}"))
    template = json.loads((folder / "scenes" / f"{first['id']}.json").read_text())
    from mediastudio.common import new_id

    have = len(list((folder / "scenes").glob("*.json")))
    for order in range(have, SCENES):
        scene_id = new_id("sc")
        (folder / "scenes" / f"{scene_id}.json").write_text(
            json.dumps({**template, "id": scene_id, "name": f"Scene {order}", "order": order}))
    assert len(admin.get(f"/api/v1/projects/{big['id']}/scenes").json()["items"]) == SCENES
    lone = admin.get(f"/api/v1/projects/{small['id']}/scenes").json()["items"][0]
    return {"big": big["id"], "big_scene": first["id"], "small": small["id"], "small_scene": lone["id"],
            "writes": writes["id"]}


def _operations(ids: dict[str, str], cookie: str, csrf: str, projects: int) -> list[Operation]:
    from support import png_bytes

    png = png_bytes(size=(48, 32))
    session = {"Cookie": cookie}
    write = {**session, "X-CSRF-Token": csrf, "Content-Type": "application/json"}
    upload_headers = {**session, "X-CSRF-Token": csrf, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    anchor_upload = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}

    def scene_name(client: int, count: int) -> bytes:
        return json.dumps({"name": f"Bench {client}-{count}"}).encode()

    return [
        Operation(f"list projects ({projects})", Request("GET", "/api/v1/projects?limit=50", session),
                  Request("GET", "/api/v1/projects"), "read"),
        Operation(f"get a scene ({SCENES} scenes)",
                  Request("GET", f"/api/v1/projects/{ids['big']}/scenes/{ids['big_scene']}", session),
                  Request("GET", "/api/v1/scene"), "read"),
        Operation("get a scene (1 scene)",
                  Request("GET", f"/api/v1/projects/{ids['small']}/scenes/{ids['small_scene']}", session),
                  Request("GET", "/api/v1/scene"), "read"),
        Operation("create a scene", Request("POST", f"/api/v1/projects/{ids['writes']}/scenes", write, scene_name),
                  Request("POST", "/api/v1/scenes", {"Content-Type": "application/json"}, scene_name), "write"),
        Operation(f"upload a {len(png) // 1024 + 1} KB PNG",
                  Request("POST", f"/api/v1/projects/{ids['writes']}/assets", upload_headers,
                          _multipart("frame.png", png, "image/png")),
                  Request("POST", "/api/v1/upload", anchor_upload, _multipart("frame.png", png, "image/png")),
                  "write"),
        Operation("health", Request("GET", "/api/v1/health"), Request("GET", "/api/v1/health"), "health"),
    ]


def _target(kind: str, clients: int, top: int) -> tuple[str, Callable[[float, float], bool] | None, str,
                                                         Callable[[float], bool] | None]:
    """(p95 target, its check on (p95, rps), throughput target, its check) for an operation at `clients`."""
    if kind == "read" and clients == 100:
        return "p95 < 200 ms at ≥ 1,000 req/s", lambda p95, rps: p95 < 200 and rps >= 1000, "≥ 1,000 req/s", \
            lambda rps: rps >= 1000
    if kind == "write" and clients == top:
        return "", None, "≥ 100 req/s", lambda rps: rps >= 100
    if kind == "health" and clients == top:
        return "", None, "≥ 5,000 req/s", lambda rps: rps >= 5000
    return "", None, "", None


def run(ctx: harness.Context) -> list[harness.Measure]:
    # Uploads are "expensive" requests (30 a minute per user by default): opened up like the other limits.
    server = ctx.serve("studio", env={"MEDIASTUDIO_RATE_LIMIT_EXPENSIVE_PER_MINUTE": "100000000"})
    admin = ctx.admin(server)
    projects = 12 if ctx.quick else PROJECTS  # a project costs a git repository: quick mode keeps its budget
    ids = _fill(server, admin, projects)
    cookie = "; ".join(f"{k}={v}" for k, v in admin.cookies.items())
    anchor, anchor_url = _start_anchor(ctx.folder("anchor"), projects)
    levels = (1, 10) if ctx.quick else (1, 10, 100)
    rounds, seconds = (2, 0.5) if ctx.quick else (3, 3.0)
    found: list[harness.Measure] = []
    try:
        for operation in _operations(ids, cookie, admin.cookies["ms_csrf"], projects):
            for clients in levels:
                ours: list[Result] = []
                theirs: list[Result] = []
                # Writes queue behind git commits: one round of them in quick mode keeps the section in budget.
                for _ in range(1 if ctx.quick and operation.kind == "write" else rounds):
                    ours.append(asyncio.run(run_load(server.url, operation.ours, clients=clients, seconds=seconds)))
                    theirs.append(asyncio.run(run_load(anchor_url, operation.anchor, clients=clients,
                                                       seconds=seconds)))
                found += _measures(operation, clients, levels[-1], ours, theirs)
    finally:
        anchor.terminate()
        anchor.wait(10)
    return found


def _measures(operation: Operation, clients: int, top: int, ours: list[Result],
              theirs: list[Result]) -> list[harness.Measure]:
    def summary(results: list[Result]) -> dict[str, object]:
        return {"p50_ms": median([r.percentile(50) for r in results]),
                "p95_ms": median([r.percentile(95) for r in results]),
                "p99_ms": median([r.percentile(99) for r in results]),
                "rps": median([r.throughput for r in results]),
                "errors": sum(r.errors for r in results),
                "statuses": _statuses(results),
                "rounds": len(results)}

    mine, base = summary(ours), summary(theirs)
    p95, rps = float(mine["p95_ms"]), float(mine["rps"])  # type: ignore[arg-type]
    p95_target, p95_check, rps_target, rps_check = _target(operation.kind, clients, top)
    label = f"{operation.label}, {clients} client{'s' if clients > 1 else ''}"
    errors = int(mine["errors"])  # type: ignore[call-overload]
    return [
        harness.Measure(NAME, f"{label}, p95", p95, "ms", "lower", target=p95_target,
                        passed=None if p95_check is None else p95_check(p95, rps) and not errors,
                        anchor=float(base["p95_ms"]), anchor_name="bare Litestar",  # type: ignore[arg-type]
                        detail={"ours": mine, "anchor": base}),
        harness.Measure(NAME, f"{label}, throughput", rps, "req/s", "higher", target=rps_target,
                        passed=None if rps_check is None else rps_check(rps) and not errors,
                        anchor=float(base["rps"]), anchor_name="bare Litestar"),  # type: ignore[arg-type]
    ]


def _statuses(results: list[Result]) -> dict[str, int]:
    total: dict[str, int] = {}
    for result in results:
        for status, count in result.statuses.items():
            total[str(status)] = total.get(str(status), 0) + count
    return total
