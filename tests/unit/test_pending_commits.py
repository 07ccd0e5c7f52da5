"""Changes committed together: one commit names each change, credits its authors and keeps its kind; a line a
crash cut short is skipped, not fatal; a reader of the history commits what is pending first."""

from pathlib import Path

from mediastudio.projects.repo import Author, PendingChange, ProjectRepo, coalesce, runs_of_a_kind

ANA = Author("Ana", "u_ana")
BO = Author("Bo", "u_bo")


def test_one_change_keeps_its_message_author_and_kind() -> None:
    assert coalesce([PendingChange("Added scene 'A'", ANA, "scene")]) == ("Added scene 'A'", ANA, [], "scene")


def test_several_changes_are_listed_with_their_authors() -> None:
    message, lead, others, kind = coalesce([PendingChange("Added scene 'A'", BO, "scene"),
                                            PendingChange("Added scene 'B'", ANA, "scene"),
                                            PendingChange("Renamed scene 'B' to 'C'", ANA, "scene")])
    assert message.splitlines()[0] == "Added scene 'A'; Added scene 'B'; Renamed scene 'B' to 'C'"
    assert "- Added scene 'A' (Bo)" in message and "- Renamed scene 'B' to 'C' (Ana)" in message
    assert (lead, others, kind) == (ANA, [BO], "scene")


def test_mixed_kinds_are_an_edit_and_a_long_list_is_summed_up() -> None:
    changes = [PendingChange(f"Added scene 'Scene number {i}'", ANA, "scene") for i in range(300)]
    message, _, _, kind = coalesce([*changes, PendingChange("Renamed to 'X'", ANA, "settings")])
    assert kind == "edit"
    assert message.splitlines()[0] == "Added scene 'Scene number 0' and 300 more changes"
    assert message.rstrip().endswith("- and 101 more")


def test_a_torn_journal_line_is_skipped_and_readers_commit_first(tmp_path: Path) -> None:
    repo = ProjectRepo.init(tmp_path / "p")
    (repo.path / "a.json").write_text("{}\n")
    repo.commit_all("First", ANA, kind="created")
    (repo.path / "b.json").write_text("{}\n")
    repo.commit_later("Added b", BO, kind="scene", paths=[repo.path / "b.json"], window_s=60)
    with (repo.path / ".git" / "mediastudio-pending.jsonl").open("a") as journal:
        journal.write('{"message": "cut sho')  # a crash mid-append
    assert [c.message for c in repo.pending()] == ["Added b"]
    log = repo.log()
    assert [c.message.splitlines()[0] for c in log] == ["Added b", "First"]
    assert log[0].author_id == "u_bo" and repo.pending() == []
    assert repo.commit_pending() is None


def test_a_change_of_another_kind_starts_another_commit() -> None:
    changes = [PendingChange("Uploaded 'a.png'", ANA, "upload"), PendingChange("Added scene 'A'", ANA, "scene"),
               PendingChange("Added scene 'B'", BO, "scene"), PendingChange("Renamed to 'X'", ANA, "settings")]
    assert [[c.message for c in run] for run in runs_of_a_kind(changes)] == [
        ["Uploaded 'a.png'"], ["Added scene 'A'", "Added scene 'B'"], ["Renamed to 'X'"]]


def test_a_pending_commit_holds_only_its_own_files(tmp_path: Path) -> None:
    repo = ProjectRepo.init(tmp_path / "p")
    repo.commit_all("First", ANA, kind="created", allow_empty=True)
    (repo.path / "mine.json").write_text("{}\n")
    repo.commit_later("Added mine", ANA, kind="scene", paths=[repo.path / "mine.json"], window_s=60)
    (repo.path / "live.json").write_text("{}\n")  # written meanwhile by someone who commits it themselves
    repo.commit_all("Live edit", BO, kind="edit")
    log = repo.log()
    assert [c.message.splitlines()[0] for c in log] == ["Live edit", "Added mine", "First"]
    assert set(repo.files_at(log[1].sha)) == {"mine.json"}
    assert set(repo.files_at(log[0].sha)) == {"mine.json", "live.json"}


def test_changes_of_two_kinds_to_one_file_are_one_commit() -> None:
    changes = [PendingChange("Uploaded 'a.png'", ANA, "upload", ("assets/as_1.json",)),
               PendingChange("Renamed asset 'a.png' to 'b.png'", ANA, "asset", ("assets/as_1.json",)),
               PendingChange("Renamed to 'X'", ANA, "settings", ("project.json",))]
    runs = runs_of_a_kind(changes)
    assert [len(run) for run in runs] == [2, 1]
    message, _, _, kind = coalesce(runs[0])
    assert kind == "edit" and message.splitlines()[0] == "Uploaded 'a.png'; Renamed asset 'a.png' to 'b.png'"


def test_a_commit_is_made_by_git_itself_and_keeps_its_message_and_people(tmp_path: Path) -> None:
    """The server's process builds no tree or commit object (it read every object it needed through
    `git cat-file` and wrote the commit in Python): git makes the commit, exactly as it is told."""
    import subprocess
    import sys

    repo = ProjectRepo.init(tmp_path / "p")
    (repo.path / "a.json").write_text("{}\n")
    repo.commit_all("First", ANA, kind="created")
    for name in ("b", "c"):
        (repo.path / f"{name}.json").write_text("{}\n")
        repo.commit_later(f"Added '{name}'", BO if name == "b" else ANA, kind="scene",
                          paths=[repo.path / f"{name}.json"], window_s=60)
    started: list[list[str]] = []

    def audit(event: str, args: tuple[object, ...]) -> None:
        if event == "subprocess.Popen" and watching:
            started.append([str(a) for a in args[1]])  # type: ignore[union-attr]

    watching = [True]
    sys.addaudithook(audit)
    try:
        sha = repo.commit_pending()
    finally:
        watching.clear()
    assert sha is not None
    assert not [c for c in started if "cat-file" in c], started
    assert len(started) <= 5, started  # ls-files, add, diff-index, commit, rev-parse
    shown = subprocess.run(["git", "show", "-s", "--format=%an|%ae|%cn|%ce|%B", sha], cwd=repo.path,
                           capture_output=True, text=True, check=True).stdout
    head = shown.partition("|Added")[0]
    assert head.split("|") == ["Bo", "u_bo@mediastudio.invalid", "Mediastudio", "studio@mediastudio.invalid"]
    assert "Added 'b'; Added 'c'" in shown and "- Added 'b' (Bo)" in shown and "Mediastudio-Kind: scene" in shown
    assert "Co-authored-by:" in shown
    assert sha == repo.log(limit=1)[0].sha
    assert repo.commit_all("Nothing new", ANA) is None  # an unchanged folder makes no commit
    assert repo.commit_all("Saved version: v1", ANA, kind="version", allow_empty=True) is not None


def test_a_name_git_would_refuse_still_commits(tmp_path: Path) -> None:
    repo = ProjectRepo.init(tmp_path / "p")
    (repo.path / "a.json").write_text("{}\n")
    odd = Author("<.>", "u_odd")
    assert repo.commit_all("Added 'a\0b'", odd, co_authors=[Author("Bo <bo@x>\nX", "u_bo")], kind="scene") is not None
    made = repo.log(limit=1)[0]
    assert (made.author_name, made.author_id) == ("u_odd", "u_odd")
    assert made.message.startswith("Added 'ab'")
    assert "Co-authored-by: Bo bo@x X <u_bo@mediastudio.invalid>" in made.message
