"""Schemathesis over the operations of the OpenAPI document, against a real server, as a registered member and
as a guest: no request the schema allows may answer a 5xx, every 405 names the allowed methods (Allow), and a
request the schema calls valid is not refused as invalid (the document states the constraints the server
enforces). Bounded: a fixed seed and a few dozen examples per operation.

The operations are fuzzed in three groups, a test each on a server of its own: a failure names its group, and the
test runs, which hand out whole files with the most tests first, no longer left the whole document (one test,
~70 s) for the end of the run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from support import ApiClient, RunningServer, png_bytes, set_up_admin

CHECKS = "not_a_server_error,unsupported_method,allow_header_conformance,positive_data_acceptance"
EXAMPLES = 20
SEED = 20261204
pytestmark = pytest.mark.slow

# The groups, by the operation's name ("METHOD /path"): projects and everything in them, accounts and
# administration, and all the others (the group without a pattern).
GROUPS = {"projects": r"^[A-Z]+ /api/v1/projects(/|$)", "accounts": r"^[A-Z]+ /api/v1/(auth|admin)/", "others": None}
# Operations that end the caller's own session or take away the fixtures every other operation works on:
# they run once more at the end of their group, on their own, so that the rest is not tested against a 401 or
# a 404.
DESTRUCTIVE = {"projects": r"^DELETE /api/v1/projects/\{project_id\}$",
               "accounts": r"^[A-Z]+ /api/v1/auth/(logout|tokens/\{token_id\})$"}
FAST_LIMITS = {
    "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "1000000",
    "MEDIASTUDIO_RATE_LIMIT_IP_PER_MINUTE": "1000000",
    "MEDIASTUDIO_RATE_LIMIT_EXPENSIVE_PER_MINUTE": "1000000",
    "MEDIASTUDIO_GUESTS_PER_IP_PER_HOUR": "1000",
    "MEDIASTUDIO_TASK_QUOTA": "100000",
    "MEDIASTUDIO_GUEST_TASK_QUOTA": "100000",
}


def _schemathesis() -> str:
    found = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    if not Path(found).exists():
        pytest.fail("schemathesis is not installed: pip install -e '.[test]'")
    return found


def _fixtures(client: ApiClient) -> dict[str, str]:
    """A project with a scene and an asset, the ids the path parameters take."""
    project = client.post("/api/v1/projects", json={"name": "Fuzzed", "template": "storyboard"}).json()
    scene = client.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    uploaded = client.post(f"/api/v1/projects/{project['id']}/assets",
                           files={"file": ("frame.png", png_bytes(), "image/png")})
    assert uploaded.status_code == 201, uploaded.text
    me = client.get("/api/v1/auth/me").json()["user"]
    return {"project_id": project["id"], "scene_id": scene["id"], "asset_id": uploaded.json()[0]["id"],
            "workspace_id": project["workspace_id"], "user_id": me["id"]}


# What a schema-valid request may still get: refusals of rights, of state (409), of rules no schema states
# (422: a weak password, a reserved name), of media the server does not take (413, 415, 507: a quota). A 400
# means "this request breaks the OpenAPI document" and must not answer a request the document allows.
ACCEPTABLE = ["2xx", "3xx", "401", "403", "404", "409", "413", "415", "422", "429", "507"]


def _toml(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def _config(path: Path, headers: dict[str, str], parameters: dict[str, str]) -> Path:
    lines = ["[headers]", *[f'"{k}" = "{v}"' for k, v in headers.items()], "", "[parameters]",
             *[f'"path.{k}" = "{v}"' for k, v in parameters.items()], "",
             "[checks.positive_data_acceptance]", f"expected-statuses = {_toml(ACCEPTABLE)}", "",
             # No schema can say what a sound .msproj is: a damaged one is a 400 naming what is wrong with it.
             "[[operations]]", 'include-path-regex = "^/api/v1/projects/import"',
             "[operations.checks.positive_data_acceptance]", f"expected-statuses = {_toml([*ACCEPTABLE, '400'])}", "",
             # Nor what a sound workflow is: its nodes must be of the studio's node types, with their parameters
             # and ports (a file's bytes, or a saved workflow's graph): a 400 names the node and what is wrong.
             "[[operations]]", 'include-path-regex = "^/api/v1/(workflows/read|workspaces/[^/]+/workflows)$"',
             "[operations.checks.positive_data_acceptance]", f"expected-statuses = {_toml([*ACCEPTABLE, '400'])}", ""]
    path.write_text("\n".join(lines))
    return path


def _run(server: RunningServer, config: Path, *, only: str | None, skip: str | None) -> subprocess.CompletedProcess:
    command = [_schemathesis(), "--config-file", str(config), "--no-color", "run", f"{server.url}/api/openapi.json",
               "--checks", CHECKS, "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "1",
               "--phases", "examples,coverage,fuzzing", "--generation-deterministic"]
    if only:
        command += ["--include-name-regex", only]
    if skip:
        command += ["--exclude-name-regex", skip]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=config.parent)


def _passes(group: str) -> list[tuple[str | None, str | None]]:
    """(only, skip) name patterns of each pass over `group`: its operations but the destructive ones, then those."""
    only = GROUPS[group]
    others = "|".join(pattern for pattern in GROUPS.values() if pattern)  # the other groups' operations
    destructive = DESTRUCTIVE.get(group)
    skip = destructive if only else "|".join(filter(None, (others, destructive)))
    return [(only, skip), *([(destructive, None)] if destructive else [])]


def _fuzz(server: RunningServer, tmp: Path, group: str, who: str, headers: dict[str, str],
          ids: dict[str, Any]) -> str | None:
    """Every pass over `group` as `who`; what went wrong, or None."""
    config = _config(tmp / f"schemathesis-{who}.toml", headers, ids)
    for only, skip in _passes(group):
        result = _run(server, config, only=only, skip=skip)
        if result.returncode != 0:
            return f"schemathesis as {who} found problems:\n{result.stdout[-20000:]}\n{result.stderr[-3000:]}"
    return None


def test_the_passes_cover_every_operation_once() -> None:
    """The groups' passes together select each operation of the document exactly once."""
    import json
    import re

    document = json.loads((Path(__file__).parents[2] / "web/src/lib/api/openapi.json").read_text())
    names = [f"{method.upper()} {path}" for path, operations in document["paths"].items() for method in operations
             if method in ("get", "put", "post", "patch", "delete")]
    taken = [name for group in GROUPS for only, skip in _passes(group) for name in names
             if (only is None or re.search(only, name)) and not (skip and re.search(skip, name))]
    assert sorted(taken) == sorted(names)


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_operation_as_a_member_and_as_a_guest(server_factory, tmp_path: Path, group: str) -> None:
    server = server_factory(env=FAST_LIMITS)
    admin = set_up_admin(server.url)
    member = ApiClient(server.url)
    member.register("fuzzer")
    token = member.post("/api/v1/auth/tokens", json={"name": "fuzz", "expires_in_days": 1}).json()["token"]
    ids = _fixtures(member)
    guest = ApiClient(server.url)
    assert guest.post("/api/v1/auth/guest").status_code in (200, 201)
    guest_ids = _fixtures(guest)
    cookie = f"ms_session={guest.cookies['ms_session']}; ms_csrf={guest.cookies['ms_csrf']}"
    # The member and the guest are fuzzed at the same time, each on their own data (the server is shared as
    # it would be): half the wall time, and requests of two people interleave.
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(_fuzz, server, tmp_path, group, "member", {"Authorization": f"Bearer {token}"}, ids),
                pool.submit(_fuzz, server, tmp_path, group, "guest",
                            {"Cookie": cookie, "X-CSRF-Token": guest.cookies["ms_csrf"]}, guest_ids)]
        problems = [p for p in (run.result() for run in runs) if p]
    assert not problems, "\n\n".join(problems) + f"\nserver log:\n{server.log()[-5000:]}"
    assert admin.get("/api/v1/health").status_code == 200
