"""Import never trusts the archive: each hostile .msproj is built here, imported into an in-process studio
next to another person's private project, and must be refused with a 400 that says why (no server path in
it), leaving no project folder, no temporary file and no adopted blob behind — or, where the fix is to
read the file safely instead, be imported into a project that stays entirely inside its own folder."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import struct
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from archive_kit import (
    PNG,
    Gitlink,
    Link,
    Studio,
    asset_file,
    bundle_of,
    history,
    leftovers,
    manifest_for,
    msproj,
    msproj_of,
    open_studio,
    project_tree,
    refused,
    scene,
    snapshot,
)
from litestar.testing import TestClient

from mediastudio.app import create_app
from mediastudio.settings import Settings
from support import wait_until


def _studio(tmp_path: Path, **limits: Any) -> Iterator[Studio]:
    settings = Settings(data_dir=tmp_path / "data", probe_gpu=False, allowed_hosts=["testserver.local"],
                        rate_limit_expensive_per_minute=10_000, **limits)
    with TestClient(create_app(settings)) as client:
        yield open_studio(client, settings.data_dir)


# One studio per module (accounts and Vic's project take seconds to make); each test compares snapshots.
@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    yield from _studio(tmp_path_factory.mktemp("studio"))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    """Import limits small enough to test: 1 MiB, 3 media files."""
    yield from _studio(tmp_path_factory.mktemp("small"), import_max_bytes=1 << 20, import_max_blobs=3)


def _imported(studio: Studio, data: bytes) -> dict[str, Any]:
    answer = studio.import_(data)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _inside_only(studio: Studio, project: dict[str, Any]) -> None:
    """Every file of the project is a plain file inside its folder."""
    folder = studio.project_folder(project)
    for path in folder.rglob("*"):
        assert not path.is_symlink(), path
        assert path.resolve().is_relative_to(folder.resolve()), path


# -- a scene's id is never a path ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_a_scene_id_that_is_a_path_cannot_make_an_edit_write_outside_the_project(
        studio: Studio, tmp_path: Path, kind: str) -> None:
    mine = studio.data_dir / "workspaces" / studio.victim["workspace_id"]  # any folder of the data: Vic's
    ours_to_theirs = os.path.relpath(studio.victim_folder / "project", studio.data_dir / "workspaces" / "x" / "p" / "y"
                                     / "scenes")
    hostile_id = ("../" + ours_to_theirs) if kind == "relative" else str(studio.victim_folder / "project")
    assert mine.is_dir()
    before = snapshot(studio)
    evil = scene("Evil", 5, id=hostile_id, graph={"nodes": {}, "edges": {}}, evil=True)
    project = _imported(studio, msproj_of(tmp_path, project_tree(files={"scenes/sc_b.json": evil})))
    scenes = studio.call("GET", f"/api/v1/projects/{project['id']}/scenes").json()["items"]
    assert sorted(s["id"] for s in scenes) == ["sc_a", "sc_b"]  # ids are the files' names
    moved = studio.call("PATCH", f"/api/v1/projects/{project['id']}/scenes/sc_a", json={"order": 1})
    assert moved.status_code == 200, moved.text  # renumbers (rewrites) the other scene too
    after = snapshot(studio)
    assert after["victim"] == before["victim"] and after["victim_head"] == before["victim_head"]
    assert not (studio.data_dir.parent / "project.json").exists()
    _inside_only(studio, project)


# -- links and submodules in the history ---------------------------------------------------------------
def _host_json(tmp_path: Path) -> Path:
    host = tmp_path / "host-secret.json"
    host.write_text(json.dumps({"name": "Host secret", "graph": {"nodes": {}, "edges": {}}, "secret": 42}))
    return host


@pytest.mark.parametrize("where", ["scene file", "scenes folder", "assets folder", "project.json"])
def test_a_symbolic_link_in_the_history_is_refused(studio: Studio, tmp_path: Path, where: str) -> None:
    host = _host_json(tmp_path)
    (tmp_path / "host-folder").mkdir()
    link = {"scene file": {"scenes/sc_link.json": Link(str(host))},
            "scenes folder": {"scenes/sc_a.json": None, "scenes": Link(str(tmp_path / "host-folder"))},
            "assets folder": {"assets/.keep": None, "assets": Link(str(tmp_path / "host-folder"))},
            "project.json": {"project.json": Link(str(host))}}[where]
    before = snapshot(studio)
    tree = {k: v for k, v in project_tree().items() if k not in link}
    answer = studio.import_(msproj_of(tmp_path, {**tree, **link}))
    refused(studio, answer, before, "symbolic link")
    assert json.loads(host.read_text())["secret"] == 42 and list((tmp_path / "host-folder").iterdir()) == []


def test_a_symbolic_link_anywhere_in_the_past_is_refused_too(studio: Studio, tmp_path: Path) -> None:
    host = _host_json(tmp_path)
    before = snapshot(studio)
    data = msproj_of(tmp_path, {**project_tree(), "scenes/sc_old.json": Link(str(host))},
                     {"scenes/sc_old.json": None})  # gone from the newest commit, still restorable
    refused(studio, studio.import_(data), before, "symbolic link")


def test_a_submodule_in_the_history_is_refused(studio: Studio, tmp_path: Path) -> None:
    before = snapshot(studio)
    answer = studio.import_(msproj_of(tmp_path, {**project_tree(), "scenes/sc_sub": Gitlink()}))
    refused(studio, answer, before, "submodule")


@pytest.mark.parametrize("path", [".gitattributes", "notes.txt", "scenes/../x.json", "scenes/a b.json",
                                  "assets/nested/as_x.json", ".gitmodules"])
def test_files_a_project_never_has_are_refused(studio: Studio, tmp_path: Path, path: str) -> None:
    before = snapshot(studio)
    answer = studio.import_(msproj_of(tmp_path, {**project_tree(), path: b"{}"}))
    refused(studio, answer, before, "which a project never has")


# -- the bundle is a bundle ----------------------------------------------------------------------------
def test_a_gitdir_file_cannot_clone_another_workspaces_repository(studio: Studio) -> None:
    before = snapshot(studio)
    pointer = f"gitdir: {studio.victim_folder / '.git'}\n".encode()
    answer = studio.import_(msproj({"repo.bundle": pointer}))
    refused(studio, answer, before, "not a git bundle")
    names = [p["name"] for p in studio.call("GET", "/api/v1/projects", params={"all": True}).json()["items"]]
    assert "Private" not in names


def test_an_import_cannot_name_media_it_does_not_carry(studio: Studio, tmp_path: Path) -> None:
    """Vic's picture is in the shared blob store; naming its sha256 must not make it Ana's."""
    before = snapshot(studio)
    theirs = studio.victim_asset["sha256"]
    data = msproj_of(tmp_path, project_tree(files={"assets/as_stolen.json": asset_file(theirs)}))
    refused(studio, studio.import_(data), before, "does not hold")


# -- imported media is sniffed, imported ids never touch another project ------------------------------
def test_a_blob_that_is_not_media_is_refused_whatever_its_metadata_says(studio: Studio, tmp_path: Path) -> None:
    html = b"<!doctype html><script>fetch('/api/v1/auth/me')</script>"
    sha = hashlib.sha256(html).hexdigest()
    before = snapshot(studio)
    meta = asset_file(sha, mime="text/html", category="image")
    answer = studio.import_(msproj_of(tmp_path, project_tree(files={"assets/as_page.json": meta}), blobs=(html,)))
    refused(studio, answer, before, "not a kind of media")


def test_the_mime_type_comes_from_the_bytes_not_from_the_metadata(studio: Studio, tmp_path: Path) -> None:
    sha = hashlib.sha256(PNG).hexdigest()
    meta = asset_file(sha, mime="text/html", category="nonsense", size=10**12)
    project = _imported(studio, msproj_of(tmp_path, project_tree(files={"assets/as_page.json": meta}), blobs=(PNG,)))
    listed = studio.call("GET", f"/api/v1/projects/{project['id']}/assets").json()["items"]
    assert [(a["id"], a["mime"], a["category"], a["size"]) for a in listed] == [("as_page", "image/png", "image", 64)]
    served = studio.call("GET", f"/api/v1/projects/{project['id']}/assets/as_page/content")
    assert served.status_code == 200 and served.headers["content-type"].startswith("image/png")


def _asset_row(studio: Studio, asset_id: str) -> tuple[Any, ...]:
    with sqlite3.connect(studio.data_dir / "mediastudio.sqlite") as db:
        row = db.execute("SELECT project_id, name, sha256, mime FROM assets WHERE id = ?", (asset_id,)).fetchone()
    return tuple(row)


def test_an_imported_asset_id_never_rewrites_another_projects_row(studio: Studio, tmp_path: Path) -> None:
    theirs = studio.victim_asset["id"]
    row = _asset_row(studio, theirs)
    sha = hashlib.sha256(PNG).hexdigest()
    cover = project_tree()["project.json"].replace(b'"tags"', f'"cover_asset_id": "{theirs}", "tags"'.encode())
    data = msproj_of(tmp_path, {**project_tree(), "project.json": cover,
                                f"assets/{theirs}.json": asset_file(sha, name="Hijacked")}, blobs=(PNG,))
    project = _imported(studio, data)
    assert _asset_row(studio, theirs) == row  # Vic's row: same project, name, bytes
    listed = studio.call("GET", f"/api/v1/projects/{project['id']}/assets").json()["items"]
    assert len(listed) == 1 and listed[0]["id"] != theirs and listed[0]["name"] == "Hijacked"
    assert project["cover_asset_id"] == listed[0]["id"]  # references follow the new id


# -- malformed archives: a 400, never a 500 ------------------------------------------------------------
def _good_entries(tmp_path: Path) -> dict[str, bytes]:
    return {"repo.bundle": bundle_of(history(tmp_path, project_tree()))}


def _central(raw: bytes, name: str) -> int:
    """Offset of the central directory record of entry `name`."""
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack("<H", raw[at + 28:at + 30])[0]
        if raw[at + 46:at + 46 + length] == name.encode():
            return at
        at = raw.find(b"PK\x01\x02", at + 4)
    raise AssertionError(name)


def _patched(data: bytes, name: str, local: int, central: int, change: Any) -> bytes:
    """`data` with a 2-byte field of entry `name` changed in both its local header and its central record."""
    raw = bytearray(data)
    for at in (zipfile.ZipFile(io.BytesIO(data)).getinfo(name).header_offset + local, _central(data, name) + central):
        raw[at:at + 2] = struct.pack("<H", change(struct.unpack("<H", raw[at:at + 2])[0]))
    return bytes(raw)


def _bad_crc(tmp_path: Path) -> bytes:
    entries = _good_entries(tmp_path)
    data = msproj(entries)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("repo.bundle")
    start = info.header_offset + 30 + len(info.filename.encode())
    flipped = bytearray(data)
    flipped[start + 40] ^= 0xFF  # the stored bytes, not their CRC
    return bytes(flipped)


def _corrupt_deflate(tmp_path: Path) -> bytes:
    data = msproj(_good_entries(tmp_path), compress=zipfile.ZIP_DEFLATED)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("repo.bundle")
    start = info.header_offset + 30 + len(info.filename.encode())
    broken = bytearray(data)
    broken[start:start + 8] = b"\xff" * 8
    return bytes(broken)


def _manifest_of(entries: dict[str, bytes], value: Any) -> bytes:
    return msproj(entries, manifest=json.dumps(value).encode())


MALFORMED = {
    "bad CRC": (_bad_crc, "damaged"),
    "corrupt deflate": (_corrupt_deflate, "damaged"),
    # The compression method (local header offset 8, central record 10) and the flags (6 and 8).
    "unknown compression": (lambda t: _patched(msproj(_good_entries(t)), "repo.bundle", 8, 10, lambda _: 99),
                            "compression"),
    "encrypted": (lambda t: _patched(msproj(_good_entries(t)), "repo.bundle", 6, 8, lambda f: f | 0x1),
                  "encrypted"),
    "entries is a list": (lambda t: _manifest_of(_good_entries(t), {"format": "mediastudio-project",
                                                                     "format_version": 1, "entries": []}),
                          "manifest"),
    "size is text": (lambda t: _manifest_of(e := _good_entries(t), {
        "format": "mediastudio-project", "format_version": 1,
        "entries": {"repo.bundle": {"sha256": hashlib.sha256(e["repo.bundle"]).hexdigest(),
                                    "size": str(len(e["repo.bundle"]))}}}), "manifest"),
    "entry is a number": (lambda t: _manifest_of(_good_entries(t), {"format": "mediastudio-project",
                                                                     "format_version": 1,
                                                                     "entries": {"repo.bundle": 5}}), "manifest"),
    "manifest is a list": (lambda t: _manifest_of(_good_entries(t), [1, 2]), "version this server reads"),
    "project name is a list": (lambda t: msproj(e := _good_entries(t), manifest=manifest_for(e, project={"name": [1]})),
                               "manifest"),
    "deeply nested manifest": (lambda t: msproj(_good_entries(t), manifest=b"[" * 100_000 + b"]" * 100_000),
                               "not valid JSON"),
    "the same entry twice": (lambda t: _twice(_good_entries(t)), "twice"),
}


def _twice(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO(msproj(entries))
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "a") as archive:
        warnings.simplefilter("ignore")
        archive.writestr("repo.bundle", entries["repo.bundle"])
    return buffer.getvalue()


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_archive_is_a_400_that_leaves_nothing(studio: Studio, tmp_path: Path, case: str) -> None:
    build, word = MALFORMED[case]
    data = build(tmp_path)
    before = snapshot(studio)
    refused(studio, studio.import_(data), before, word)


def test_a_project_json_of_the_wrong_shape_is_refused(studio: Studio, tmp_path: Path) -> None:
    before = snapshot(studio)
    bad = json.dumps({"name": ["not", "a", "name"], "tags": [1, 2]}).encode()
    refused(studio, studio.import_(msproj_of(tmp_path, {**project_tree(), "project.json": bad})), before,
            "project.json")


def test_a_history_without_project_json_names_no_server_path(studio: Studio, tmp_path: Path) -> None:
    before = snapshot(studio)
    tree = {k: v for k, v in project_tree().items() if k != "project.json"}
    detail = refused(studio, studio.import_(msproj_of(tmp_path, tree)), before, "project.json")
    assert "import-" not in detail and "Errno" not in detail


def test_damaged_git_data_names_no_server_path_nor_git_output(studio: Studio) -> None:
    before = snapshot(studio)
    garbage = b"# v2 git bundle\n" + b"0" * 40 + b" refs/heads/main\n\nPACK" + os.urandom(200)
    detail = refused(studio, studio.import_(msproj({"repo.bundle": garbage})), before, "history is damaged")
    assert "fatal" not in detail and "Cmd(" not in detail and "git bundle" not in detail.split("(", 1)[0]


@pytest.mark.parametrize("content", [b'{"name": "No id", "graph": {"nodes": {}, "edges": {}}}', b"[1, 2]",
                                     b"not json", b'{"name": 5}', b'{"name": "x", "graph": {"nodes": [1]}}',
                                     b"[" * 50_000 + b"]" * 50_000])
def test_a_scene_file_without_a_valid_scene_in_it_does_not_break_the_project(
        studio: Studio, tmp_path: Path, content: bytes) -> None:
    project = _imported(studio, msproj_of(tmp_path, project_tree(files={"scenes/sc_odd.json": content})))
    opened = studio.call("GET", f"/api/v1/projects/{project['id']}")
    assert opened.status_code == 200, opened.text
    ids = {s["id"] for s in opened.json()["scenes"]}
    assert "sc_a" in ids and ids <= {"sc_a", "sc_odd"}
    assert studio.call("GET", f"/api/v1/projects/{project['id']}/scenes").status_code == 200
    assert studio.call("PATCH", f"/api/v1/projects/{project['id']}/scenes/sc_a", json={"name": "Still fine"}
                       ).status_code == 200


# -- limits hold on every path -------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/projects/import", "/api/v1/projects/import/background"])
def test_a_multipart_import_is_held_to_the_size_limit(small: Studio, path: str) -> None:
    before = snapshot(small)
    big = os.urandom(2 << 20)
    answer = small.call("POST", path, files={"file": ("big.msproj", big, "application/zip")})
    refused(small, answer, before, "larger than 1 MiB")


def test_a_blob_that_expands_a_hundredfold_is_refused_before_it_lands(studio: Studio, tmp_path: Path) -> None:
    # 40 MiB that deflate about 100:1 — under the per-entry ratio check of 200:1.
    blob = PNG + b"".join(os.urandom(24) + bytes(4072) for _ in range(40 << 8))
    sha = hashlib.sha256(blob).hexdigest()
    entries = {"repo.bundle": bundle_of(history(tmp_path, project_tree(files={"assets/as_big.json": asset_file(sha)}))),
               f"blobs/{sha}": blob}
    data = msproj(entries, compress=zipfile.ZIP_DEFLATED)
    assert 20 < len(blob) / len(data) < 200
    before = snapshot(studio)
    refused(studio, studio.import_(data), before, "expands suspiciously")


def test_too_many_media_files_are_refused(small: Studio, tmp_path: Path) -> None:
    blobs = tuple(PNG + bytes([n]) for n in range(4))
    tree = project_tree(files={f"assets/as_{n}.json": asset_file(hashlib.sha256(b).hexdigest())
                               for n, b in enumerate(blobs)})
    before = snapshot(small)
    refused(small, small.import_(msproj_of(tmp_path, tree, blobs=blobs)), before, "4 media files (at most 3)")


def test_media_no_asset_names_is_not_adopted(studio: Studio, tmp_path: Path) -> None:
    strays = tuple(PNG + b"stray %d" % n for n in range(3))
    before = snapshot(studio)
    _imported(studio, msproj_of(tmp_path, project_tree(), blobs=strays))
    assert snapshot(studio)["blobs"] == before["blobs"]
    assert leftovers(studio) == []


def test_an_import_task_takes_only_its_owners_upload(studio: Studio, tmp_path: Path) -> None:
    """Another person's spooled upload (a valid project file) cannot be imported — nor deleted — by a task."""
    imports = studio.data_dir / "tmp" / "imports"
    imports.mkdir(parents=True, exist_ok=True)
    theirs = imports / "u_someone-0123456789abcdef0123456789abcdef.msproj"
    theirs.write_bytes(msproj_of(tmp_path, project_tree("Their upload")))
    started = studio.call("POST", "/api/v1/tasks", json={"kind": "project.import", "params": {"file": theirs.name}})
    if started.status_code == 201:
        task_id = started.json()["id"]
        task = wait_until(lambda: studio.call("GET", f"/api/v1/tasks/{task_id}").json(),
                          until=lambda task: task["status"] in ("succeeded", "failed", "cancelled"),
                          message="the import task to end")
        assert task["status"] == "failed", task
    names = [p["name"] for p in studio.call("GET", "/api/v1/projects", params={"all": True}).json()["items"]]
    assert "Their upload" not in names and theirs.is_file()
