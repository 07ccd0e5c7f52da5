"""Each task's own log on a real server: a generation with the tiny model says which model it loaded, from where
and how long that took; a failure says what to do; the lines of two tasks running at once never mix; a log stays
bounded; only the task's owner (and administrators) may read it; the log goes with its task."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kinds_for_tests import ENV as KINDS_ENV
from mediastudio.settings import Settings
from mediastudio.tables import open_database
from mediastudio.tasks.logs import HEAD_LINES, MAX_LINE_CHARS, MAX_LINES, TAIL_LINES
from mediastudio.tasks.tables import Task, TaskLogLine
from support import ApiClient, RunningServer, add_model, set_up_admin, start_server, wait_for_task, wait_until

# No preload: the first run loads the model itself (and says so in its log).
ENV = {**KINDS_ENV, "MEDIASTUDIO_PROBE_GPU": "0", "MEDIASTUDIO_RATE_LIMIT_USER_PER_MINUTE": "100000",
       "MEDIASTUDIO_PRELOAD_MODELS": "false"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from tiny_models import build_tiny_sd

    folder = tmp_path_factory.mktemp("task-logs")
    model = build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")
    add_model(model, folder / "data")
    server = start_server(folder, env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


def start(client: ApiClient, kind: str = "test.sleep", **params: Any) -> str:
    made = client.post("/api/v1/tasks", json={"kind": kind, "params": {"steps": 2, "step_seconds": 0, **params}})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def lines_of(client: ApiClient, task_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/tasks/{task_id}/log")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["lines"])


def node(type_: str, title: str, **params: Any) -> dict[str, Any]:
    return {"type": type_, "title": title, "position": {"x": 0, "y": 0}, "params": params, "bypass": False}


def edge(source: str, out: str, target: str, into: str) -> tuple[str, dict[str, str]]:
    return f"{source}:{out}->{target}:{into}", {"source": source, "source_handle": out, "target": target,
                                                 "target_handle": into}


def run_generation(client: ApiClient, model: str, width: int = 64) -> dict[str, Any]:
    nodes = {"prompt": node("prompt", "Prompt", text="a lighthouse"),
             "model": node("model_loader", "Model", model=model),
             "generate": node("text_to_image", "Hero shot", width=width, height=64, steps=2, guidance_scale=5.0),
             "shot": node("shot", "Shot", name="Hero")}
    edges = dict([edge("prompt", "text", "generate", "prompt"), edge("model", "model", "generate", "model"),
                  edge("generate", "image", "shot", "images")])
    project = client.post("/api/v1/projects", json={"name": "Logged"}).json()
    scene = client.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    put = client.put(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/graph",
                     json={"nodes": nodes, "edges": edges})
    assert put.status_code == 200, put.text
    started = client.post(f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/run", json={})
    assert started.status_code == 201, started.text
    return dict(started.json())


def test_a_generation_logs_its_model_load_and_its_end(server: RunningServer, admin: ApiClient) -> None:
    task = wait_for_task(admin, run_generation(admin, "tiny-sd")["id"], timeout=120)
    lines = lines_of(admin, task["id"])
    messages = [line["message"] for line in lines]
    assert messages[0].startswith("Started: scene.run on the gpu lane")
    loading = next(m for m in messages if m.startswith("Loading model 'tiny-sd'"))
    assert "StableDiffusionPipeline" in loading and "a linked folder (tiny-sd/)" in loading and "on cpu" in loading
    assert str(server.data_dir) not in " ".join(messages)  # where, without the server's own paths
    assert any(m.startswith("Loaded model 'tiny-sd' in ") and m.endswith("MiB)") for m in messages)
    assert any(line["level"] == "warning" and "No GPU" in line["message"] for line in lines)
    assert messages[-1].startswith("Succeeded in ")
    assert [line["seq"] for line in lines] == sorted(line["seq"] for line in lines)
    again = wait_for_task(admin, run_generation(admin, "tiny-sd", width=72)["id"], timeout=120)
    assert [line["message"] for line in lines_of(admin, again["id"])].count(
        "Model 'tiny-sd' is already loaded on cpu") == 1


def test_a_failure_says_what_to_do(server: RunningServer, admin: ApiClient) -> None:
    failed = wait_for_task(admin, start(admin, fail_at=1), ("failed",))
    last = lines_of(admin, failed["id"])[-1]
    assert last["level"] == "error"
    assert last["message"].startswith("Failed after ") and "Asked to fail at step 1." in last["message"]
    assert last["message"].endswith("What to do: It is a test task.")
    crashed = wait_for_task(admin, start(admin, crash_at=0), ("failed",))
    assert "RuntimeError: crash at step 0" in lines_of(admin, crashed["id"])[-1]["message"]


def test_library_warnings_land_in_their_own_tasks_log_only(server: RunningServer, admin: ApiClient) -> None:
    """Two tasks at once, on two lanes (two threads): each one's library warnings and Python warnings in its
    own log, never in the other's."""
    first = start(admin, "test.sleep", steps=6, step_seconds=0.05, library_warning="gpu-lane-note")
    second = start(admin, "test.sleep_cpu", steps=6, step_seconds=0.05, library_warning="cpu-lane-note")
    for task_id in (first, second):
        wait_for_task(admin, task_id)
    mine, theirs = lines_of(admin, first), lines_of(admin, second)
    text_of = {task_id: "\n".join(line["message"] for line in lines) for task_id, lines in
               ((first, mine), (second, theirs))}
    assert "gpu-lane-note (step 5)" in text_of[first] and "cpu-lane-note (step 5)" in text_of[second]
    assert "cpu-lane-note" not in text_of[first] and "gpu-lane-note" not in text_of[second]
    sources = {line["source"] for line in mine if "gpu-lane-note" in line["message"]}
    assert sources == {"diffusers.pipelines.for_tests", "warnings"}
    assert any(line["message"].startswith("UserWarning: gpu-lane-note") for line in mine)


def test_a_log_keeps_its_first_and_last_lines(server: RunningServer, admin: ApiClient) -> None:
    task_id = start(admin, say_times=1000, say=["x" * 5000])
    wait_for_task(admin, task_id)
    lines = lines_of(admin, task_id)
    assert len(lines) == MAX_LINES
    messages = [line["message"] for line in lines]
    assert len(messages[1]) <= MAX_LINE_CHARS and "5,000 characters in all" in messages[1]
    assert messages[2] == "line 0"  # the head: the start line, the long one, then the first numbered lines
    left_out = messages[HEAD_LINES]
    assert left_out.startswith("… ") and "lines left out" in left_out
    assert messages[-1].startswith("Succeeded in ") and messages[-2] == "line 999"
    assert len(messages) - HEAD_LINES - 1 == TAIL_LINES
    download = admin.get(f"/api/v1/tasks/{task_id}/log/download")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/plain")
    assert f'filename="task-{task_id}.log"' in download.headers["content-disposition"]
    assert len(download.content) < (MAX_LINES + 1) * (MAX_LINE_CHARS + 100)


def test_only_its_owner_and_administrators_read_a_log(server: RunningServer, admin: ApiClient) -> None:
    with ApiClient(server.url) as owner, ApiClient(server.url) as other:
        owner.register("lena-logs")
        other.register("otto-other")
        task_id = start(owner, say=["owner's line"])
        wait_for_task(owner, task_id)
        assert any(line["message"] == "owner's line" for line in lines_of(owner, task_id))
        assert any(line["message"] == "owner's line" for line in lines_of(admin, task_id))
        for path in (f"/api/v1/tasks/{task_id}/log", f"/api/v1/tasks/{task_id}/log/download"):
            refused = other.get(path)
            assert refused.status_code == 404 and "owner's line" not in refused.text
            assert ApiClient(server.url).get(path).status_code == 401


def test_the_log_goes_with_its_task(server: RunningServer, admin: ApiClient) -> None:
    task_id = start(admin, say=["to be removed"])
    wait_for_task(admin, task_id)
    db = open_database(Settings(data_dir=server.data_dir, probe_gpu=False).database_path)
    try:
        from sqlmodel import select

        with db.session() as session:
            assert session.exec(select(TaskLogLine).where(TaskLogLine.task_id == task_id)).all()
        with db.transaction() as session:
            row = session.get(Task, task_id)
            assert row is not None
            session.delete(row)
        with db.session() as session:
            assert not session.exec(select(TaskLogLine).where(TaskLogLine.task_id == task_id)).all()
    finally:
        db.close()
    wait_until(lambda: admin.get(f"/api/v1/tasks/{task_id}/log").status_code, until=lambda code: code == 404)


def test_a_database_from_before_task_logs_gets_the_table_and_its_trigger(tmp_path: Path) -> None:
    db = open_database(tmp_path / "mediastudio.sqlite")
    db.close()
    db = open_database(tmp_path / "mediastudio.sqlite")  # the upgrade runs again: nothing breaks
    try:
        from sqlalchemy import text

        with db.session() as session:
            found = session.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
        assert "task_log_goes_with_its_task" in found
    finally:
        db.close()
