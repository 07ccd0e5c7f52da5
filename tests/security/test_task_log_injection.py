"""What a task writes into its own log is data, never markup or terminal control: escape sequences are dropped,
control characters and bidirectional overrides are shown escaped, long lines are cut, a message's own line
breaks cannot pass for entries of their own in the download, and a flood of lines stays bounded."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from kinds_for_tests import ENV as TEST_KINDS
from mediastudio.tasks.logs import HEAD_LINES, MAX_LINE_CHARS, MAX_LINES, TaskLog, clean
from support import RunningServer, set_up_admin, start_server, wait_for_task

ENV = {**TEST_KINDS, "MEDIASTUDIO_PROBE_GPU": "0"}
HOSTILE = [
    "\x1b[31mred\x1b[0m \x1b]0;window title\x07 \x1b[2J cleared",
    "carriage\rreturn and a bell\x07 and a nul\x00 and DEL\x7f",
    "bidi \u202egnp.exe\u202c and isolate \u2066x\u2069",
    "<img src=x onerror=alert(1)><script>alert(2)</script>",
    "first line\n2026-01-01 00:00:00.000Z ERROR   [task] a forged entry",
    "y" * 100_000,
]
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("task-log-injection"), env=ENV)
    yield server
    server.stop()


def test_hostile_lines_are_stored_cleaned_and_bounded(server: RunningServer) -> None:
    admin = set_up_admin(server.url)
    made = admin.post("/api/v1/tasks", json={"kind": "test.sleep",
                                             "params": {"steps": 1, "step_seconds": 0, "say": HOSTILE}})
    assert made.status_code == 201, made.text
    task_id = made.json()["id"]
    wait_for_task(admin, task_id)
    lines = admin.get(f"/api/v1/tasks/{task_id}/log").json()["lines"]
    said = [line["message"] for line in lines if line["source"] == "task"]
    assert len(said) == len(HOSTILE)
    for message in said:
        assert not CONTROL.search(message.replace("\n", "")), message
        assert len(message) <= MAX_LINE_CHARS
    assert said[0] == "red   cleared"  # colours, a title and a screen clear: dropped
    assert said[1] == "carriage\\x0dreturn and a bell\\x07 and a nul\\x00 and DEL\\x7f"
    assert said[2] == "bidi \\u202egnp.exe\\u202c and isolate \\u2066x\\u2069"
    assert said[3] == HOSTILE[3]  # markup is only text: the UI shows it as such (tests/e2e)
    assert said[5].endswith("(cut: 100,000 characters in all)")

    download = admin.get(f"/api/v1/tasks/{task_id}/log/download")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"].startswith("text/plain")
    text = download.text
    assert not CONTROL.search(text.replace("\n", ""))
    entries = [row for row in text.splitlines() if not row.startswith(("    ", "# "))]
    assert not any("a forged entry" in row for row in entries)  # its own line, indented under its message
    assert "\n    2026-01-01 00:00:00.000Z ERROR   [task] a forged entry\n" in text
    admin.close()


def test_a_flood_of_lines_keeps_the_first_and_the_last() -> None:
    log = TaskLog("t_flood")
    for number in range(50_000):
        log.add("warning" if number % 2 else "info", f"line {number} " + "z" * 2000)
    written = log.unsaved() + log.rest()
    assert len(written) == MAX_LINES
    assert written[0].message.startswith("line 0 ") and written[-1].message.startswith("line 49999 ")
    assert "49,600 lines left out" in written[HEAD_LINES].message
    assert sum(len(line.message) for line in written) <= MAX_LINES * MAX_LINE_CHARS
    assert log.rest() == []  # nothing is written twice


def test_clean_knows_unknown_levels_and_empty_messages() -> None:
    log = TaskLog("t_levels")
    for level in ("critical", "debug", "bogus", "error"):
        log.add(level, "")
    assert [line.level for line in log.unsaved()] == ["error", "info", "info", "error"]
    assert clean("\x1b[1m\x1b[0m") == ""
