"""Comments are text from people and from imported archives: bounded, checked, answered as plain text (the UI
shows them as text, never as HTML), and an archive's comment files are refused unless they are threads the
studio itself would write."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from archive_kit import Link, Studio, msproj_of, open_studio, project_tree, refused, snapshot
from litestar.testing import TestClient

from mediastudio.app import create_app
from mediastudio.comments.files import BODY_MAX, FILE_MAX
from mediastudio.comments.schemas import BODY_TEXT
from mediastudio.settings import Settings


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    data = tmp_path_factory.mktemp("comments") / "data"
    settings = Settings(data_dir=data, probe_gpu=False, allowed_hosts=["testserver.local"],
                        rate_limit_expensive_per_minute=10_000)
    with TestClient(create_app(settings)) as client:
        yield open_studio(client, settings.data_dir)


def _mine(studio: Studio) -> dict[str, Any]:
    return dict(studio.call("POST", "/api/v1/projects", json={"name": "Notes"}).json())


def _scene_target(studio: Studio, project: dict[str, Any]) -> dict[str, str]:
    scene = studio.call("GET", f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    return {"kind": "scene", "id": scene["id"]}


@pytest.mark.parametrize(("body", "words"), [
    ("x" * (BODY_MAX + 1), "body"),
    ("   \n\t ", "body"),
    ("ring \x07 the bell", "control characters"),
    ("", "body"),
])
def test_bodies_out_of_bounds_are_refused(studio: Studio, body: str, words: str) -> None:
    project = _mine(studio)
    answer = studio.call("POST", f"/api/v1/projects/{project['id']}/comments",
                         json={"target": _scene_target(studio, project), "body": body})
    assert answer.status_code == 400, answer.text
    assert words in answer.text


def test_markup_is_kept_as_text(studio: Studio) -> None:
    project = _mine(studio)
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script> @ana'
    made = studio.call("POST", f"/api/v1/projects/{project['id']}/comments",
                       json={"target": _scene_target(studio, project), "body": hostile})
    assert made.status_code == 201, made.text
    assert made.json()["comments"][0]["body"] == hostile  # stored and answered verbatim, as JSON text
    assert made.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("target", [
    {"kind": "asset", "id": "../../project"},
    {"kind": "scene", "id": "a/b"},
    {"kind": "node", "id": "n1"},  # a node names its scene
    {"kind": "node", "id": "n1", "scene_id": ".."},
    {"kind": "file", "id": "x"},
])
def test_targets_that_lead_nowhere_are_refused(studio: Studio, target: dict[str, str]) -> None:
    project = _mine(studio)
    answer = studio.call("POST", f"/api/v1/projects/{project['id']}/comments", json={"target": target, "body": "hi"})
    assert answer.status_code in (400, 404), answer.text


@pytest.mark.parametrize("pin", [{"x": 1.5, "y": 0.2}, {"x": -0.1}, {"time": -3}, {"x": "0.5; drop"}])
def test_pins_out_of_range_are_refused(studio: Studio, pin: dict[str, Any]) -> None:
    project = _mine(studio)
    answer = studio.call("POST", f"/api/v1/projects/{project['id']}/comments",
                         json={"target": _scene_target(studio, project), "body": "here", "pin": pin})
    assert answer.status_code == 400, answer.text


def test_thread_ids_never_reach_outside_the_folder(studio: Studio) -> None:
    project = _mine(studio)
    for thread_id in ("..%2F..%2Fproject", "%2E%2E", "a.json", "th_x%00"):  # ("..": the client resolves it)
        answer = studio.call("GET", f"/api/v1/projects/{project['id']}/comments/{thread_id}")
        assert answer.status_code in (400, 404), (thread_id, answer.text)


def _thread(thread_id: str = "th_ok", **changes: Any) -> dict[str, Any]:
    return {"id": thread_id, "target": {"kind": "scene", "id": "sc_a"}, "created_by": "u_eve",
            "created_at": "2026-01-01T00:00:00+00:00", "comments": [
                {"id": "cm_1", "author": "u_eve", "body": "<b>hi</b>", "created_at": "2026-01-01T00:00:00+00:00"}],
            **changes}


def test_an_archive_with_a_valid_thread_imports_it(studio: Studio, tmp_path: Path) -> None:
    data = msproj_of(tmp_path, project_tree(files={"comments/th_ok.json": json.dumps(_thread()).encode()}))
    answer = studio.import_(data)
    assert answer.status_code == 201, answer.text
    threads = studio.call("GET", f"/api/v1/projects/{answer.json()['id']}/comments").json()["items"]
    assert [t["comments"][0]["body"] for t in threads] == ["<b>hi</b>"]


@pytest.mark.parametrize(("name", "content", "words"), [
    ("comments/th_ok.json", b"not json", "comment file"),
    ("comments/th_ok.json", json.dumps(_thread(extra="field")).encode(), "comment file"),
    ("comments/th_ok.json", json.dumps(_thread("th_other")).encode(), "another thread"),
    ("comments/th_ok.json", json.dumps(_thread(comments=[])).encode(), "comment file"),
    ("comments/th_ok.json", json.dumps(_thread(target={"kind": "asset", "id": "../x"})).encode(), "comment file"),
    ("comments/th_ok.json", json.dumps(_thread(pin={"x": 9})).encode(), "comment file"),
    ("comments/th_ok.json", b" " * (FILE_MAX + 1), "larger than"),
    ("comments/th_ok.json", json.dumps(_thread(comments=[{**_thread()["comments"][0], "body": "x" * 5000}])).encode(),
     "comment file"),
    ("comments/run.sh", b"#!/bin/sh\n", "never has"),
])
def test_hostile_comment_files_in_an_archive_are_refused(studio: Studio, tmp_path: Path, name: str, content: bytes,
                                                         words: str) -> None:
    before = snapshot(studio)
    answer = studio.import_(msproj_of(tmp_path, project_tree(files={name: content})))
    refused(studio, answer, before, words)


def test_a_link_in_the_comments_folder_is_refused(studio: Studio, tmp_path: Path) -> None:
    before = snapshot(studio)
    answer = studio.import_(msproj_of(tmp_path, project_tree(files={"comments/th_ok.json": Link("/etc/passwd")})))
    refused(studio, answer, before, "symbolic link")


def test_the_body_rule_is_checked_in_linear_time() -> None:
    """A body of 4,000 characters built to make a backtracking engine try every split is answered at once."""
    rule = re.compile(BODY_TEXT)
    for hostile in ("a" * (BODY_MAX - 1) + "\x07", " " * (BODY_MAX - 1) + "\x07", "\u00a0 " * (BODY_MAX // 2)):
        started = time.perf_counter()
        rule.search(hostile)
        assert time.perf_counter() - started < 0.05, repr(hostile[:10])
