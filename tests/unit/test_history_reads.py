"""A history page reads its commits' files through one git process, each file once, and says what each changed
exactly as reading every commit's files on its own would (a fuzzed project's page of 199 versions took over 10 s:
two repositories, and their git processes, opened per version listed)."""

import subprocess
from pathlib import Path

import pytest

from mediastudio.projects import history
from mediastudio.projects.files import write_json
from mediastudio.projects.history import describe_changes, snapshot
from mediastudio.projects.history_controller import commit_outs
from mediastudio.projects.repo import Author, ProjectRepo

ANA = Author("Ana", "u_ana")


@pytest.fixture
def repo(tmp_path: Path) -> ProjectRepo:
    """A history of every kind of change the summaries tell: the project's fields, scenes added, renamed,
    reordered and deleted, nodes, assets added, renamed and trashed, a version with no change, an asset file
    that is not JSON."""
    repo = ProjectRepo.init(tmp_path / "project")
    write_json(repo.path / "project.json", {"name": "Film"})
    for n in range(12):
        write_json(repo.path / "assets" / f"a{n}.json", {"id": f"a{n}", "name": f"plate {n}.png"})
    repo.commit_all("Created project", ANA)
    write_json(repo.path / "scenes" / "s1.json", {"id": "s1", "name": "One", "order": 0, "graph": {}})
    write_json(repo.path / "scenes" / "s2.json", {"id": "s2", "name": "Two", "order": 1, "graph": {}})
    repo.commit_all("Added scenes", ANA)
    for n in range(25):
        write_json(repo.path / "project.json", {"name": f"Film {n}"})
        repo.commit_all(f"Renamed {n}", ANA)
        if n % 5 == 0:
            write_json(repo.path / "assets" / f"a{n}.json",
                       {"id": f"a{n}", "name": f"take {n}.png", "trashed_at": "2026-12-06T00:00:00Z"})
            write_json(repo.path / "assets" / f"b{n}.json", {"id": f"b{n}", "name": f"new {n}.png"})
            repo.commit_all(f"Assets {n}", ANA)
    for text in ("a fox", "a red fox"):
        graph = {"nodes": {"n1": {"type": "prompt", "params": {"text": text}}}, "edges": {}}
        write_json(repo.path / "scenes" / "s1.json", {"id": "s1", "name": "Uno", "order": 2, "graph": graph})
        repo.commit_all("Scene work", ANA)
    repo.commit_all("Saved version: Cut 1", ANA, kind="version", allow_empty=True)
    (repo.path / "assets" / "broken.json").write_text("{not json")
    (repo.path / "scenes" / "s2.json").unlink()
    repo.commit_all("Deleted scene", ANA)
    return repo


def _one_by_one(repo: ProjectRepo) -> list[str]:
    """Each commit's summary from its own files and its parent's, read apart."""
    said = []
    for commit in repo.log(limit=500):
        after = snapshot(repo.files_at(commit.sha))
        said.append(describe_changes(snapshot(repo.files_at(commit.parents[0])), after) if commit.parents
                     else f"Created the project with {len(after['scenes'])} scenes")
    return said


def test_a_page_says_what_each_version_changed_as_reading_them_apart_does(repo: ProjectRepo) -> None:
    history._summaries.clear()
    commits = repo.log(limit=500)
    page = [out.summary for out in commit_outs(repo, commits)]
    apart = _one_by_one(repo)
    assert len(page) == len(commits) == 36
    # A commit that changed nothing is named by its kind; every other one reads the same either way.
    assert [p for p, a in zip(page, apart, strict=True) if a and p != a] == []
    assert page[1] == "Nothing changed since the version before"
    assert page[0] == "Deleted scene 'Two'"
    assert page[-1] == "Created the project with 0 scenes"
    # Kept: the next view gives the same words without reading a file.
    history._summaries.clear()
    first = commit_outs(repo, commits[:5])
    assert [o.summary for o in commit_outs(repo, commits[:5])] == [o.summary for o in first]


def test_a_page_of_versions_starts_a_few_git_processes_not_two_per_version(repo: ProjectRepo,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    history._summaries.clear()
    commits = repo.log(limit=500)
    started: list[object] = []
    real = subprocess.Popen.__init__

    def counted(self: subprocess.Popen[bytes], args: object, *rest: object, **named: object) -> None:
        started.append(args)
        real(self, args, *rest, **named)  # type: ignore[arg-type]

    monkeypatch.setattr(subprocess.Popen, "__init__", counted)
    commit_outs(repo, commits)
    assert len(started) <= 3, started
    # Seen again: no git process at all (the summaries are kept by commit).
    started.clear()
    commit_outs(repo, commits)
    assert started == []


def test_one_file_of_a_version_is_read_without_walking_the_tree(repo: ProjectRepo,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A live scene's commit reads its scene's file at HEAD: walking every asset's file entry to find it took ~20 ms
    with 2,000 assets. A prefix that is not a file still lists what it starts."""
    import git

    head = repo.log(limit=1)[0].sha
    everything = repo.files_at(head)
    walks: list[str] = []
    real = git.Tree.traverse
    monkeypatch.setattr(git.Tree, "traverse", lambda self, *a, **k: (walks.append(self.path), real(self, *a, **k))[1])
    assert repo.files_at(head, "scenes/s1.json") == {"scenes/s1.json": everything["scenes/s1.json"]}
    assert walks == []
    assert set(repo.files_at(head, "assets/b")) == {p for p in everything if p.startswith("assets/b")}
    assert repo.files_at(head, "scenes/s2.json") == {}  # deleted at HEAD
    assert walks  # those two walked it
