"""Snapshots taken without a server: what is pending travels and is committed on restore, the data folder is
only read, an unchanged history is not bundled again, and the files copied are only the new ones."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from backup_kit import ANA, BOB, PROJECT, backup, make_folder, restore


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
