"""Two studios of two checkouts at once, one-at-a-time 1-step runs alternated between them: the fixed cost of a
change, measured so that the machine's drift hits both sides alike.

    PYTHONPATH=src:tests:. python benchmarks/compare_generation.py --base ../other-checkout/src [--runs 200]

Each side is a real `mediastudio serve` (the side's `src` first on its PYTHONPATH) with the tiny random Stable
Diffusion the tests build, and the benchmark's graph (benchmarks/sections/generation.py). Runs alternate A, B,
B, A, … after 5 warm-up runs of each, with a pause before each (`--gap`, 50 ms: what a run leaves for after its
outcome lands there, as between a person's runs). Printed per side, medians: the run from the request to its
`task.succeeded` event; the same less the generator node's own seconds (from the task's `detail`: what the studio
adds around the pipeline, with the pipeline's own variance taken out); the server's CPU per run; and the stages
by the task's timestamps. On a shared 2-core machine a difference under ~0.3 ms is within the noise of 200 runs:
run it twice. It is a tool for comparing two commits, not part of `python -m benchmarks`.

`--batch N` alternates batches of N runs queued at once (`--runs` batches a side): per picture (the batch from
its request to its last event, over N), each task's time inside it less the generator, and the server's CPU per
picture. `--both-ways` measures twice, the sides' studios made in the other order the second time, and prints
the mean of the two differences: the order alone read ~1.5 ms a picture apart in batches (an A/A run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import harness
from benchmarks.sections import generation

WARM_UP = 5
# A pause before each run, as between a person's runs (and the benchmark's, where the direct call comes between):
# what a run leaves for after its outcome (its git commit, the events of what it recorded: the follow-ups, 5 ms
# later) lands in it, not in the next run's request.
GAP_S = 0.05


class Side(generation.Studio):
    """`generation.Studio`, its server and its CLI run with `src` first on the PYTHONPATH."""

    def __init__(self, ctx: harness.Context, model: Path, src: str, name: str) -> None:
        self.name = name
        folder = ctx.folder(name)
        subprocess.run([sys.executable, "-m", "mediastudio", "models", "add", str(model), "--name", "bench",
                        "--data-dir", str(folder / "data")], check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": src})
        self.server = ctx.serve(name, env={"PYTHONPATH": src})
        self.client = ctx.admin(self.server)
        project = self.client.post("/api/v1/projects", json={"name": "Benchmark"}).json()
        scene = self.client.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
        self.scene = f"/api/v1/projects/{project['id']}/scenes/{scene['id']}"
        self.assets = f"/api/v1/projects/{project['id']}/assets"
        self.set_steps(1, generation.SIZE)


def measures(task: dict[str, Any]) -> dict[str, float]:
    """One run's milliseconds: end to end, less the generator node, and its stages (the task's timestamps and the
    client's clock, one machine)."""
    created, started, finished = (generation._moment(task[k]) for k in ("created_at", "started_at", "finished_at"))
    total = (task["received_at"] - task["sent_at"]) * 1000
    node = ((task.get("detail") or {}).get("nodes") or {}).get("generate") or {}
    return {"total": total, "less the generator": total - float(node.get("seconds") or 0) * 1000,
            "request → recorded": (created - task["sent_at"]) * 1000, "recorded → started": (started - created) * 1000,
            "started → finished": (finished - started) * 1000,
            "finished → event": (task["received_at"] - finished) * 1000}


async def alternate(sides: list[Side], runs: int, gap: float = 0.0) -> dict[str, dict[str, float]]:
    posters = [side.poster() for side in sides]
    sockets = [await side.events().__aenter__() for side in sides]
    for socket in sockets:
        json.loads(await socket.recv())  # the hello
    found: dict[str, list[dict[str, float]]] = {side.name: [] for side in sides}
    cpu: dict[str, float] = {}
    for index in range(runs + WARM_UP):
        if index == WARM_UP:
            cpu = {side.name: generation.process_cpu_seconds(side.server.process.pid) or 0.0 for side in sides}
        order = list(zip(sides, posters, sockets, strict=True))
        for side, poster, socket in (reversed(order) if index % 2 else order):
            await asyncio.sleep(gap)
            _, task = await side.one(socket, poster)
            if index >= WARM_UP:
                found[side.name].append(measures(task))
    for poster, socket in zip(posters, sockets, strict=True):
        await poster.close()
        await socket.close()
    out = {}
    for side in sides:
        rows = found[side.name]
        spent = (generation.process_cpu_seconds(side.server.process.pid) or 0.0) - cpu[side.name]
        out[side.name] = {**{key: statistics.median(row[key] for row in rows) for key in rows[0]},
                          "server CPU per run": spent / runs * 1000}
    return out


async def alternate_batches(sides: list[Side], batches: int, size: int) -> dict[str, dict[str, float]]:
    """`batches` batches of `size` runs a side after one warm-up batch each, alternated, a pause around each (its
    follow-ups land outside the next); medians."""
    sockets = [await side.events().__aenter__() for side in sides]
    for socket in sockets:
        json.loads(await socket.recv())  # the hello
    found: dict[str, dict[str, list[float]]] = {side.name: {"per picture": [], "in the task less the generator": [],
                                                            "server CPU per picture": []} for side in sides}
    for index in range(batches + 1):
        order = list(zip(sides, sockets, strict=True))
        for side, socket in (reversed(order) if index % 2 else order):
            await asyncio.sleep(0.3)
            cpu = generation.process_cpu_seconds(side.server.process.pid) or 0.0
            seconds, tasks = await side.batch(socket, size)
            await asyncio.sleep(0.3)
            spent = (generation.process_cpu_seconds(side.server.process.pid) or 0.0) - cpu
            if index == 0:
                continue
            rows = found[side.name]
            rows["per picture"].append(seconds / size * 1000)
            rows["server CPU per picture"].append(spent / size * 1000)
            for task in tasks:
                inside = generation._moment(task["finished_at"]) - generation._moment(task["started_at"])
                node = ((task.get("detail") or {}).get("nodes") or {}).get("generate") or {}
                rows["in the task less the generator"].append((inside - float(node.get("seconds") or 0)) * 1000)
    for socket in sockets:
        await socket.close()
    return {name: {key: statistics.median(values) for key, values in rows.items()} for name, rows in found.items()}


def measure(model: Path, ctx: harness.Context, sources: list[tuple[str, str]], args: argparse.Namespace,
            suffix: str = "") -> dict[str, dict[str, float]]:
    """Studios of `sources` ((name, src) each, made in that order) measured side by side, by name; then stopped."""
    sides = [Side(ctx, model, src, name + suffix) for name, src in sources]
    try:
        if args.batch:
            found = asyncio.run(alternate_batches(sides, args.runs, args.batch))
        else:
            found = asyncio.run(alternate(sides, args.runs, args.gap))
    finally:
        for side in sides:
            side.server.stop()
    return {name.removesuffix(suffix): values for name, values in found.items()}


def main() -> None:
    from tiny_models import build_tiny_sd

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the other checkout's src folder")
    parser.add_argument("--head", default=str(Path(__file__).resolve().parents[1] / "src"),
                        help="this side's src folder (default: this checkout's)")
    parser.add_argument("--runs", type=int, default=200, help="runs of each side (after 5 warm-up runs)")
    parser.add_argument("--gap", type=float, default=GAP_S, help="seconds between runs (default %(default)s)")
    parser.add_argument("--batch", type=int, default=0, help="runs per batch (default: one at a time)")
    parser.add_argument("--both-ways", action="store_true", help="measure again with the studios made the other "
                        "way round, and print the mean difference")
    args = parser.parse_args()
    with harness.context(quick=True) as ctx:
        model = build_tiny_sd(ctx.folder("models") / "tiny-sd")
        found = [measure(model, ctx, [("base", args.base), ("head", args.head)], args)]
        if args.both_ways:
            found.append(measure(model, ctx, [("head", args.head), ("base", args.base)], args, suffix="-again"))
    width = max(len(key) for key in found[0]["base"]) + 2
    print(f"{'median ms':{width}s} {'base':>9s} {'head':>9s} {'head − base':>12s}"
          + (f" {'other way':>10s} {'mean':>8s}" if args.both_ways else ""))
    for key in found[0]["base"]:
        base, head = found[0]["base"][key], found[0]["head"][key]
        line = f"{key:{width}s} {base:9.2f} {head:9.2f} {head - base:+12.2f}"
        if args.both_ways:
            other = found[1]["head"][key] - found[1]["base"][key]
            line += f" {other:+10.2f} {(head - base + other) / 2:+8.2f}"
        print(line)


if __name__ == "__main__":
    main()
