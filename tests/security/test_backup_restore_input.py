"""A backup folder is data that may come from elsewhere. A restore resolves every path its manifest names inside
the folder it rebuilds, never writes into a repository's `.git` (hooks, config) but for the pending journal, bounds
every size, checks every checksum, and passes git nothing the manifest names but checked project folders and
bundle files of the store. A refused restore leaves nothing behind: no target, no staging folder, no file outside."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backup_kit import PROJECT, backup, edit_manifest, make_folder, restore
from mediastudio.backups.manifest import BadBackup
from mediastudio.projects.repo import Author, PendingChange


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    backup(make_folder(tmp_path / "source"), tmp_path / "backup")
    return tmp_path / "backup"


def _object(dest: Path, data: bytes) -> dict[str, Any]:
    """Put bytes in the store as a backup would; their manifest entry (without a path)."""
    sha = hashlib.sha256(data).hexdigest()
    (dest / "objects" / sha[:2]).mkdir(parents=True, exist_ok=True)
    (dest / "objects" / sha[:2] / sha).write_bytes(data)
    return {"sha256": sha, "size": len(data)}


def _refused(dest: Path, tmp_path: Path, says: str) -> None:
    with pytest.raises(BadBackup, match=says):
        restore(dest, tmp_path / "out" / "data")
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("path", [
    "../escaped", "../../escaped", "/tmp/escaped", "previews/../../escaped", "./x", "a//b", "tls\\..\\x",
    "a\x00b", "a\nb", "",
])
def test_a_path_that_is_not_a_plain_relative_one_is_refused(dest: Path, tmp_path: Path, path: str) -> None:
    data = _object(dest, b"x")
    edit_manifest(dest, lambda m: m["files"].append({"path": path, **data}))
    _refused(dest, tmp_path, "plain relative path|leads out")


@pytest.mark.parametrize("path", [
    f"{PROJECT}/.git/hooks/post-commit", f"{PROJECT}/.git/config", f"{PROJECT}/.gitattributes",
    f"{PROJECT}/scenes/../.git/config", f"{PROJECT}/scenes/a/b.json", "workspaces/ws_other/projects/p/project.json",
    "loras/.git/config", "blobs/sha256/ab/cd/x", "mediastudio.sqlite", "workspaces/x",
])
def test_a_file_where_a_snapshot_never_puts_one_is_refused(dest: Path, tmp_path: Path, path: str) -> None:
    data = _object(dest, b"[core]\n\tfsmonitor = touch escaped\n")
    edit_manifest(dest, lambda m: m["files"].append({"path": path, **data}))
    _refused(dest, tmp_path, "not a file of a project|never holds|plain relative path")


def test_a_link_in_the_target_cannot_lead_a_file_out(dest: Path, tmp_path: Path) -> None:
    """The folder is built fresh, so no link of the target's is followed; a link a history tried to bring is
    refused by the history's own check (projects/unbundle.py)."""
    _, staging = restore(dest, tmp_path / "out" / "data")
    assert not any(p.is_symlink() for p in staging.rglob("*"))


@pytest.mark.parametrize("project_path", [
    "workspaces/../../escaped/projects/p", "workspaces/ws/projects/../p", "workspaces/ws/other/p", "/abs",
    "workspaces/ws/projects/--upload-pack=touch escaped", "workspaces/ws/projects/p/.git",
])
def test_a_project_folder_of_another_shape_is_refused_before_git_sees_it(
        dest: Path, tmp_path: Path, project_path: str) -> None:
    edit_manifest(dest, lambda m: m["projects"][0].update(path=project_path))
    _refused(dest, tmp_path, "not valid")


@pytest.mark.parametrize("sha", ["../../../../etc/passwd", "A" * 64, "0" * 63, "-" + "0" * 63])
def test_a_checksum_that_is_not_a_sha256_is_refused(dest: Path, tmp_path: Path, sha: str) -> None:
    edit_manifest(dest, lambda m: m["blobs"].append({"sha256": sha, "size": 1}))
    _refused(dest, tmp_path, "not valid")


def test_bytes_that_do_not_match_their_checksum_are_refused(dest: Path, tmp_path: Path) -> None:
    manifest = json.loads(next((dest / "snapshots").glob("*/manifest.json")).read_text())
    sha = manifest["blobs"][0]["sha256"]
    stored = dest / "objects" / sha[:2] / sha
    stored.write_bytes(b"X" * stored.stat().st_size)  # same size, other bytes
    _refused(dest, tmp_path, "does not match its checksum")


def test_a_file_longer_than_its_manifest_says_is_not_read_past_it(dest: Path, tmp_path: Path) -> None:
    manifest = json.loads(next((dest / "snapshots").glob("*/manifest.json")).read_text())
    sha = manifest["blobs"][0]["sha256"]
    with (dest / "objects" / sha[:2] / sha).open("ab") as grown:
        grown.write(b"\0" * (1 << 20))
    _refused(dest, tmp_path, "does not match its checksum")


def test_a_store_file_that_is_a_link_is_refused(dest: Path, tmp_path: Path) -> None:
    manifest = json.loads(next((dest / "snapshots").glob("*/manifest.json")).read_text())
    sha = manifest["blobs"][0]["sha256"]
    stored = dest / "objects" / sha[:2] / sha
    (tmp_path / "real").write_bytes(stored.read_bytes())
    stored.unlink()
    os.symlink(tmp_path / "real", stored)
    _refused(dest, tmp_path, "lacks the file")


def test_sizes_are_bounded(dest: Path, tmp_path: Path) -> None:
    edit_manifest(dest, lambda m: m["blobs"].append({"sha256": "0" * 64, "size": 2**60}))
    _refused(dest, tmp_path, "not valid")


def test_a_journal_that_names_files_outside_the_project_is_refused(dest: Path, tmp_path: Path) -> None:
    line = PendingChange("Added", Author("Eve", "u_eve"), "scene", ("../../../escaped",)).line()
    journal = _object(dest, line)
    edit_manifest(dest, lambda m: m["files"].append({"path": f"{PROJECT}/.git/mediastudio-pending.jsonl", **journal}))
    _refused(dest, tmp_path, "pending journal")


def test_a_history_that_is_not_a_project_is_refused(dest: Path, tmp_path: Path) -> None:
    repo = tmp_path / "evil"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "hooks").mkdir()
    (repo / "hooks" / "post-commit").write_text("#!/bin/sh\ntouch escaped\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "Eve", "GIT_AUTHOR_EMAIL": "e@x", "GIT_COMMITTER_NAME": "Eve",
           "GIT_COMMITTER_EMAIL": "e@x"}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "x"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "bundle", "create", "-q", str(tmp_path / "evil.bundle"), "--all"], cwd=repo, check=True)
    bundle = _object(dest, (tmp_path / "evil.bundle").read_bytes())
    edit_manifest(dest, lambda m: m["projects"][0].update(bundle=bundle))
    _refused(dest, tmp_path, "cannot be restored")


def test_a_snapshot_name_is_never_a_path(dest: Path, tmp_path: Path) -> None:
    for name in ("../backup", "/etc", "20260101T000000Z/../../x"):
        with pytest.raises(BadBackup, match="no snapshot named"):
            restore(dest, tmp_path / "out" / "data", name)


def test_the_command_refuses_with_a_message_and_leaves_nothing_behind(dest: Path, tmp_path: Path) -> None:
    data = _object(dest, b"x")
    edit_manifest(dest, lambda m: m["files"].append({"path": "../../escaped", **data}))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "mediastudio", "restore", str(dest), str(out / "data")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: The manifest names a path that is not a plain relative path")
    assert not (out / "data").exists() and not list(out.glob(".data.restoring-*"))
    assert not (tmp_path / "escaped").exists()


def test_a_database_that_is_not_one_is_refused(dest: Path, tmp_path: Path) -> None:
    fake = _object(dest, b"SQLite format 3\0" + b"\xff" * 4080)
    edit_manifest(dest, lambda m: m.update(database={"path": "mediastudio.sqlite", **fake}))
    _refused(dest, tmp_path, "database is damaged")
