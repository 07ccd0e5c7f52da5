"""The pending journal is shared by every process on a data folder: a `mediastudio worker` that commits a result
commits (reads, then removes) the journal while the server appends to it. Two real processes do that at once here,
and no answered change may miss the history."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from mediastudio.projects.repo import Author, ProjectRepo

CHANGES = 150

APPENDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from mediastudio.projects.files import write_json
    from mediastudio.projects.repo import Author, ProjectRepo

    repo = ProjectRepo(Path(sys.argv[1]))
    for i in range(int(sys.argv[2])):
        path = repo.path / "scenes" / f"sc_{i}.json"
        write_json(path, {"name": f"Scene {i}"})
        repo.commit_later(f"Added scene 'Scene {i}'", Author("Ana", "u_ana"), kind="scene", paths=[path],
                          window_s=3600)  # no timer fires: the other process commits
""")

COMMITTER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from mediastudio.projects.repo import ProjectRepo

    repo, stop = ProjectRepo(Path(sys.argv[1])), Path(sys.argv[2])
    while not stop.exists():
        repo.commit_pending()
""")


def test_a_second_process_committing_the_journal_loses_no_line_the_first_appends(tmp_path: Path) -> None:
    repo = ProjectRepo.init(tmp_path / "p")
    (repo.path / "scenes").mkdir()
    repo.commit_all("Created", Author("Ana", "u_ana"), kind="created", allow_empty=True)
    stop = tmp_path / "stop"
    committer = subprocess.Popen([sys.executable, "-c", COMMITTER, str(repo.path), str(stop)])
    try:
        appender = subprocess.run([sys.executable, "-c", APPENDER, str(repo.path), str(CHANGES)], timeout=300)
        assert appender.returncode == 0
    finally:
        stop.touch()
        assert committer.wait(60) == 0
    repo.commit_pending()
    history = subprocess.run(["git", "log", "--format=%B"], cwd=repo.path, capture_output=True, text=True,
                             check=True).stdout
    named = [i for i in range(CHANGES) if f"Added scene 'Scene {i}'" in history]
    missing = sorted(set(range(CHANGES)) - set(named))
    assert not missing, f"{len(missing)} answered changes are in no commit message: {missing[:10]}"
    assert not (repo.path / ".git" / "mediastudio-pending.jsonl").exists()
