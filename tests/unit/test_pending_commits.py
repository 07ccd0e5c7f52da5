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
