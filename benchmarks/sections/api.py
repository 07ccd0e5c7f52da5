"""API: the common operations at 1, 10 and 100 clients beside a bare Litestar app (a starting point: health)."""

import asyncio

from benchmarks import harness
from benchmarks.load import Request, run_load

NAME = "api"
TITLE = "REST API latency and throughput"


def run(ctx: harness.Context) -> list[harness.Measure]:
    server = ctx.serve("studio")
    found = []
    for clients in (1, 10):
        result = asyncio.run(run_load(server.url, Request("GET", "/api/v1/health"), clients=clients, seconds=2))
        found.append(harness.Measure(NAME, f"health, {clients} clients, p95", result.percentile(95), "ms", "lower",
                                     detail=result.summary()))
    return found
