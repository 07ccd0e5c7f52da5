"""Snapshots taken without a server: what is pending travels and is committed on restore, the data folder is
only read, an unchanged history is not bundled again, and the files copied are only the new ones."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from pathlib import Path

import pytest

from backup_kit import ANA, BOB, PROJECT, backup, make_folder, restore
from mediastudio.backups.manifest import BadBackup, read_manifest
from mediastudio.backups.restore import check_target, put_in_place
from mediastudio.backups.take import take_backup


def _log(folder: Path) -> list[str]:
    return subprocess.run(["git", "log", "--format=%an|%s"], cwd=folder, capture_output=True, text=True,
                          check=True).stdout.splitlines()


def test_a_pending_change_and_an_uncommitted_file_are_committed_on_restore_and_the_source_is_left_alone(
        tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    two = folder.scene("s_two", "Two")
    folder.pending("Added scene 'Two'", BOB, two)  # answered, its commit window still open
    folder.scene("s_one", "One", steps=50)  # a live scene's file written, its commit not made yet
    head = _log(folder.repo.path)

    backup(folder, tmp_path / "backup")

    assert _log(folder.repo.path) == head  # the backup committed nothing in the studio's folder
    assert (folder.repo.path / ".git" / "mediastudio-pending.jsonl").is_file()
    _, restored = restore(tmp_path / "backup", tmp_path / "restored")
    project = restored / PROJECT
    log = _log(project)
    assert log[-2:] == _log(folder.repo.path)[-2:] == ["Bob|Changed steps", "Ana|Created the project"]
    assert log[:2] == ["Mediastudio|Recovered changes saved before an interrupted commit", "Bob|Added scene 'Two'"]
    assert json.loads((project / "scenes" / "s_one.json").read_text())["graph"]["nodes"]["generate"]["params"][
        "steps"] == 50
    assert not subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True).stdout
    assert not (project / ".git" / "mediastudio-pending.jsonl").exists()
    assert (restored / "blobs" / "sha256").is_dir() and (restored / "mediastudio.sqlite").is_file()


def test_a_scene_deleted_after_the_last_commit_stays_deleted(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder.repo.path / "scenes" / "s_one.json").unlink()
    folder.pending("Deleted scene 'One'", ANA, folder.repo.path / "scenes" / "s_one.json")
    backup(folder, tmp_path / "backup")
    _, restored = restore(tmp_path / "backup", tmp_path / "restored")
    assert not (restored / PROJECT / "scenes" / "s_one.json").exists()
    assert _log(restored / PROJECT)[0] == "Ana|Deleted scene 'One'"


def test_a_second_snapshot_copies_only_new_files_and_keeps_an_unmoved_history(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    first = backup(folder, tmp_path / "backup")
    assert (first.bundles_made, first.bundles_kept) == (1, 0)
    again = backup(folder, tmp_path / "backup")
    # No blob, bundle or file again (the database copy only if SQLite wrote its pages otherwise).
    assert (again.bundles_made, again.bundles_kept) == (0, 1)
    assert again.copied_files <= 1
    sha = folder.blobs.put_bytes(b"a new picture")
    folder.scene("s_one", "One", steps=99)
    folder.repo.commit_all("Changed steps", ANA, kind="edit")
    third = backup(folder, tmp_path / "backup")
    assert (third.bundles_made, third.bundles_kept) == (1, 0)
    blobs_copied = {p.name for p in (tmp_path / "backup" / "objects").glob("*/*")} & {
        b.sha256 for b in third.manifest.blobs}
    assert sha in blobs_copied and len(third.manifest.blobs) == 2
    # the new blob, the new bundle, the changed scene file, and at most the database
    assert 3 <= third.copied_files <= 4
    names = sorted(p.name for p in (tmp_path / "backup" / "snapshots").iterdir())
    assert len(names) == 3
    _, oldest = restore(tmp_path / "backup", tmp_path / "oldest", names[0])
    assert json.loads((oldest / PROJECT / "scenes" / "s_one.json").read_text())["graph"]["nodes"]["generate"][
        "params"]["steps"] == 35


def test_a_trashed_project_and_models_only_when_asked_are_in_the_snapshot(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    trashed = folder.data / "workspaces" / "ws_test" / "trash" / "p_old"
    trashed.parent.mkdir()
    folder.repo.path.rename(trashed)
    (folder.data / "models" / "tiny").mkdir(parents=True)
    (folder.data / "models" / "tiny" / "model_index.json").write_text("{}")
    (folder.data / "loras").mkdir()
    (folder.data / "loras" / "style.safetensors").write_bytes(b"lora")
    without = backup(folder, tmp_path / "backup").manifest
    with_models = take_backup(folder.data, tmp_path / "backup", models=True).manifest
    assert [p.path for p in without.projects] == ["workspaces/ws_test/trash/p_old"]
    assert {f.path for f in without.files} >= {"loras/style.safetensors"}
    assert not [f for f in without.files if f.path.startswith("models/")]
    assert [f.path for f in with_models.files if f.path.startswith("models/")] == ["models/tiny/model_index.json"]
    _, restored = restore(tmp_path / "backup", tmp_path / "restored")
    assert _log(restored / "workspaces" / "ws_test" / "trash" / "p_old")[0] == "Bob|Changed steps"
    assert (restored / "models" / "tiny" / "model_index.json").read_text() == "{}"


def test_a_forced_restore_moves_what_was_there_aside(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    backup(folder, tmp_path / "backup")
    target = tmp_path / "studio"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    manifest = read_manifest(tmp_path / "backup")
    with pytest.raises(BadBackup, match="not empty"):
        check_target(target, manifest, force=False)
    check_target(target, manifest, force=True)
    _, staging = restore(tmp_path / "backup", target)
    aside = put_in_place(staging, target)
    assert aside is not None and (aside / "keep.txt").read_text() == "mine"
    assert (target / PROJECT / "project.json").is_file() and not list(tmp_path.glob(".studio.restoring-*"))


def test_two_backups_into_one_folder_do_not_run_at_once(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    dest = tmp_path / "backup"
    dest.mkdir()
    held = os.open(dest / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(BadBackup, match="Another backup"):
            backup(folder, dest)
    finally:
        os.close(held)
    (dest / "tmp").mkdir()
    (dest / "tmp" / "part-left-by-a-kill").write_bytes(b"x")
    backup(folder, dest)
    assert not (dest / "tmp" / "part-left-by-a-kill").exists()
