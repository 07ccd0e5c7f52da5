"""The command line, through Typer's runner (in process)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediastudio import __version__
from mediastudio.cli.main import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"mediastudio {__version__}"


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "doctor", "openapi"):
        assert command in result.output


def test_serve_rejects_a_bad_port_with_a_message() -> None:
    result = runner.invoke(app, ["serve", "--port", "99999", "--no-open"])
    assert result.exit_code != 0
    assert "port" in result.output.lower()


def _doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, web_dist: Path) -> tuple[int, list[str]]:
    monkeypatch.setenv("MEDIASTUDIO_WEB_DIST", str(web_dist))
    monkeypatch.setenv("MEDIASTUDIO_PORT", "1")  # privileged for non-root, in use or not: any answer is fine
    result = runner.invoke(app, ["doctor", "--data-dir", str(tmp_path / "data")])
    return result.exit_code, result.output.splitlines()


def test_doctor_prints_one_line_per_check_with_hints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    web_dist = tmp_path / "web_dist"
    web_dist.mkdir()
    (web_dist / "index.html").write_text("<!doctype html>")
    code, lines = _doctor(tmp_path, monkeypatch, web_dist)
    checks = [line for line in lines if not line.startswith("      hint:")]
    assert all(line.split()[0] in ("ok", "warn", "fail") for line in checks), lines
    text = "\n".join(lines)
    assert "ok    Python 3." in text
    assert "torch " in text
    assert "GPU:" in text
    assert f"Data folder {tmp_path / 'data'} is writable" in text
    assert "Free disk:" in text
    assert "ok    UI build present" in text
    # Every non-ok line is followed by a hint a person can act on.
    for i, line in enumerate(lines):
        if line.startswith(("warn", "fail")):
            assert lines[i + 1].startswith("      hint: "), line
    assert code == (1 if any(line.startswith("fail") for line in lines) else 0)


def test_doctor_fails_when_the_ui_build_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = _doctor(tmp_path, monkeypatch, tmp_path / "missing")
    assert code == 1
    failing = lines.index(next(line for line in lines if line.startswith("fail  UI build missing")))
    assert "npm run build" in lines[failing + 1]


def test_doctor_fails_on_an_unusable_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MEDIASTUDIO_WEB_DIST", str(tmp_path))
    result = runner.invoke(app, ["doctor", "--data-dir", str(blocker / "data")])
    assert result.exit_code == 1
    assert "is not writable" in result.output
    assert "--data-dir" in result.output


def test_doctor_reads_the_database_and_the_queue_without_changing_them(tmp_path: Path) -> None:
    import sqlite3

    from mediastudio.cli.doctor import check_database, check_queue

    path = tmp_path / "mediastudio.sqlite"
    assert check_database(path).label.startswith("Database: none yet")
    assert check_queue(path).label == "Queue: no tasks yet"
    assert not path.exists()  # read-only: the doctor makes no database
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tasks (id TEXT, lane TEXT, status TEXT)")
        db.executemany("INSERT INTO tasks VALUES (?, ?, ?)", [("a", "gpu", "queued"), ("b", "gpu", "queued"),
                                                              ("c", "gpu", "running"), ("d", "cpu", "succeeded")])
    assert check_database(path).status == "ok"
    assert check_queue(path).label == "Queue: cpu 0 waiting, 0 running; gpu 2 waiting, 1 running"
    path.write_bytes(b"this is not a database at all" * 200)
    broken = check_database(path)
    assert broken.status == "fail" and broken.hint and "backup" in broken.hint
