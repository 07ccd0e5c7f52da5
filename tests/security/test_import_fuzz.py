"""Property: whatever the archive — truncated, bit-flipped, with random entries, a random manifest, or a
history of random files with odd names and random contents — an import answers 400 (leaving nothing
behind) or makes a project that lies entirely inside its own folder and opens. Never a 500."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from archive_kit import (
    PNG,
    Studio,
    asset_file,
    bundle_of,
    history,
    leftovers,
    manifest_for,
    msproj,
    open_studio,
    project_tree,
    snapshot,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from mediastudio.app import create_app
from mediastudio.settings import Settings

EXAMPLES = 60
SHA = hashlib.sha256(PNG).hexdigest()


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    root = tmp_path_factory.mktemp("fuzz")
    options = Settings(data_dir=root / "data", probe_gpu=False, allowed_hosts=["testserver.local"],
                       rate_limit_expensive_per_minute=100_000, rate_limit_user_per_minute=100_000)
    with TestClient(create_app(options)) as client:
        yield open_studio(client, options.data_dir)


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The entries of a valid project file with one picture."""
    repo = history(tmp_path_factory.mktemp("good"), project_tree(files={"assets/as_pic.json": asset_file(SHA)}))
    return {"repo.bundle": bundle_of(repo), f"blobs/{SHA}": PNG}


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
ODD = st.text(st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",)), min_size=1, max_size=10)
NAME = st.one_of(ODD.filter(lambda n: n not in (".", "..", ".git") and not n.lower().startswith(".git")),
                 st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,8}\.json\Z"))
ID_JSON = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,8}\.json\Z")
FOLDER = st.sampled_from(["scenes", "assets"])
GOOD_PATH = st.tuples(FOLDER, ID_JSON).map("/".join)
ODD_PATH = st.one_of(st.tuples(FOLDER, NAME).map("/".join), NAME, st.tuples(NAME, NAME).map("/".join))
CONTENT = st.one_of(JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=40),
                    st.builds(lambda name, extra: json.dumps({"name": name, "graph": extra}).encode(), st.text(), JSON),
                    st.just(asset_file(SHA)), st.builds(lambda mime: asset_file(SHA, mime=mime), st.text(max_size=20)))


@st.composite
def archives(draw: st.DrawFn, good: dict[str, bytes], root: Path) -> bytes:
    base = msproj(good)
    kind = draw(st.sampled_from(["truncated", "flipped", "manifest", "entries", "tree", "tree", "tree"]))
    if kind == "truncated":
        return base[:draw(st.integers(0, len(base) - 1))]
    if kind == "flipped":
        flipped = bytearray(base)
        for at, bits in draw(st.lists(st.tuples(st.integers(0, len(base) - 1), st.integers(1, 255)), min_size=1,
                                      max_size=8)):
            flipped[at] ^= bits
        return bytes(flipped)
    if kind == "manifest":
        value = draw(st.one_of(JSON, st.fixed_dictionaries({"format": st.just("mediastudio-project"),
                                                             "format_version": st.just(1), "entries": JSON})))
        return msproj(good, manifest=json.dumps(value).encode())
    if kind == "entries":
        names = st.one_of(st.text(max_size=30), st.sampled_from(["blobs/" + "0" * 64, "repo.bundle", "blobs/x"]))
        extra = draw(st.dictionaries(names.filter(bool), st.binary(max_size=64), min_size=1, max_size=4))
        entries = {**good, **extra}
        return msproj(entries, manifest=manifest_for(entries) if draw(st.booleans()) else None)
    files = draw(st.dictionaries(GOOD_PATH, CONTENT, min_size=1, max_size=4))
    if draw(st.integers(0, 2)) == 0:  # a third of the histories also hold a file no project has
        files[draw(ODD_PATH)] = draw(CONTENT)
    tree = {k: v for k, v in project_tree().items() if not any(k.startswith(f"{p}/") or p.startswith(f"{k}/")
                                                              for p in files)}
    try:
        repo = history(root, {**tree, **files})
    except Exception:  # a name this filesystem or git will not take: import the plain project instead
        repo = history(root, project_tree())
    return msproj({"repo.bundle": bundle_of(repo), f"blobs/{SHA}": PNG})


def _check(studio: Studio, answer: Any, before: dict[str, Any]) -> None:
    assert answer.status_code in (201, 400), answer.text
    assert str(studio.data_dir) not in answer.text
    assert leftovers(studio) == []
    if answer.status_code == 400:
        assert answer.json()["detail"] and snapshot(studio) == before
        return
    project = answer.json()
    folder = studio.project_folder(project)
    for path in folder.rglob("*"):
        assert not path.is_symlink() and path.resolve().is_relative_to(folder.resolve()), path
    after = snapshot(studio)
    assert after["victim"] == before["victim"] and after["victim_head"] == before["victim_head"]
    assert set(after["projects"]) - set(before["projects"]) == {project["id"]}
    assert studio.call("GET", f"/api/v1/projects/{project['id']}").status_code == 200
    assets = studio.call("GET", f"/api/v1/projects/{project['id']}/assets")
    assert assets.status_code == 200 and all(a["mime"] == "image/png" for a in assets.json()["items"])


def test_any_archive_is_refused_or_imported_entirely_inside_its_folder(
        studio: Studio, good: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("histories")

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=archives(good, root))
    def run(data: bytes) -> None:
        before = snapshot(studio)
        _check(studio, studio.import_(data), before)

    run()
