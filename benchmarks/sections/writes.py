"""Writes: creating a scene, renaming a scene and renaming a project through the REST API at 1, 10 and 100
clients, beside a bare Litestar app on the same uvicorn settings that writes the same small JSON file atomically
with fsync and does nothing else (no database, no session, no git): the floor a write of the studio stands on.

Every client is signed in as the administrator (cookie and CSRF header, as the UI sends them). Clients share
ten projects the way a team does: client n writes to project n mod 10. See benchmarks/README.md, "## writes".
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import httpx

from benchmarks import harness
from benchmarks.load import Request, Result, median, run_load
from support import free_port, git, project_folder, wait_until

NAME = "writes"
TITLE = "Writes through the REST API (scenes, projects) beside an fsync-only file writer"
TARGET_RPS = 100.0


def _start_anchor(ctx: harness.Context) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.anchors.file_writer", str(port),
                                str(ctx.folder("anchor-files"))], cwd=harness.REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: httpx.get(f"{url}/health", timeout=1).status_code == 200, timeout=harness.start_wait_s(),
               ignoring=(httpx.HTTPError,), message="the anchor app to answer")
    return process, url


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _rounds(url: str, request: Request, clients: int, seconds: float, rounds: int) -> list[Result]:
    return [asyncio.run(run_load(url, request, clients=clients, seconds=seconds)) for _ in range(rounds)]


def _measure(name: str, clients: int, ours: list[Result], anchor: list[Result]) -> list[harness.Measure]:
    rps = median([r.throughput for r in ours])
    p95 = median([r.percentile(95) for r in ours])
    errors = sum(r.errors for r in ours)
    detail: dict[str, object] = {"rounds": [r.summary() for r in ours], "anchor_rounds": [r.summary() for r in anchor]}
    anchor_name = "fsync'd file write, bare Litestar"
    return [
        harness.Measure(NAME, f"{name}, {clients} clients, req/s", rps, "req/s", "higher",
                        target=f">= {TARGET_RPS:.0f} req/s", passed=rps >= TARGET_RPS and errors == 0,
                        anchor=median([r.throughput for r in anchor]), anchor_name=anchor_name, detail=detail),
        harness.Measure(NAME, f"{name}, {clients} clients, p95", p95, "ms", "lower",
                        anchor=median([r.percentile(95) for r in anchor]), anchor_name=anchor_name,
                        detail={"errors": errors}),
    ]


def run(ctx: harness.Context) -> list[harness.Measure]:
    levels = (1, 10) if ctx.quick else (1, 10, 100)
    seconds, rounds = (0.75, 2) if ctx.quick else (4.0, 3)
    server = ctx.serve("studio")
    admin = ctx.admin(server)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in admin.cookies.items()),
               "X-CSRF-Token": admin.cookies["ms_csrf"], "Content-Type": "application/json"}
    made = [admin.post("/api/v1/projects", json={"name": f"Writes {i}"}).json() for i in range(10)]
    projects = [p["id"] for p in made]

    def commits() -> int:  # asking for the history commits what is pending first
        for project in projects:
            admin.get(f"/api/v1/projects/{project}/history", params={"limit": 1})
        return sum(int(git(project_folder(server, p), "rev-list", "--count", "HEAD")) for p in made)
    own_scene: dict[tuple[str, int], str] = {}

    def scene_of(project: str, client: int) -> str:
        if (project, client) not in own_scene:  # made before the clock starts (the warm-up request)
            made = admin.post(f"/api/v1/projects/{project}/scenes", json={"name": f"Client {client}"})
            own_scene[(project, client)] = made.json()["id"]
        return own_scene[(project, client)]

    anchor, anchor_url = _start_anchor(ctx)
    found: list[harness.Measure] = []
    answered = 0
    try:
        for clients in levels:
            for project_index in range(min(10, clients)):  # each client's own scene, made up front
                for client in range(project_index, clients, 10):
                    scene_of(projects[project_index], client)
            base = Request("POST", lambda c, n: f"/write/c{c}-{n % 50}", {"Content-Type": "application/json"},
                           body=lambda c, n: _json({"name": f"Client {c} write {n}", "order": n,
                                                    "graph": {"nodes": {}, "edges": {}}}))
            ops = {
                "create scene": Request(
                    "POST", lambda c, n: f"/api/v1/projects/{projects[c % 10]}/scenes", headers,
                    body=lambda c, n: _json({"name": f"Client {c} scene {n}"})),
                "rename scene": Request(
                    "PATCH", lambda c, n: f"/api/v1/projects/{projects[c % 10]}/scenes/"
                                          f"{own_scene[(projects[c % 10], c)]}", headers,
                    body=lambda c, n: _json({"name": f"Client {c} name {n}"})),
                "rename project": Request(
                    "PATCH", lambda c, n: f"/api/v1/projects/{projects[c % 10]}", headers,
                    body=lambda c, n: _json({"name": f"Writes {c % 10} by {c} #{n}"})),
            }
            if ctx.quick:  # the quick run keeps to the two scene writes
                del ops["rename project"]
            started = time.perf_counter()
            before = commits()
            for name, request in ops.items():
                ours, reference = [], []
                for _ in range(rounds):  # interleaved: both see the same moment of a noisy machine
                    ours += _rounds(server.url, request, clients, seconds, 1)
                    reference += _rounds(anchor_url, base, clients, seconds, 1)
                found += _measure(name, clients, ours, reference)
                answered += sum(r.statuses.get(200, 0) + r.statuses.get(201, 0) for r in ours)
            made_commits = commits() - before
            found.append(harness.Measure(NAME, f"answered writes per commit, {clients} clients",
                                         answered / max(1, made_commits), "writes", "higher",
                                         detail={"writes": answered, "commits": made_commits}))
            answered = 0
            print(f"   {clients} clients: {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        anchor.terminate()
        anchor.wait(10)
    return found
