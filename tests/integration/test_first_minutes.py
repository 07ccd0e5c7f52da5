"""The first minutes from a terminal: what `--help`, `doctor`, a failed pull and the first pages say is true."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support import ApiClient, RunningServer, set_up_admin


def mediastudio(*args: str, env: dict[str, str] | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mediastudio", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200", **(env or {})})


# --- answers of a running studio --------------------------------------------------------------------------------


def test_html_pages_name_their_charset_once(shared_server: RunningServer) -> None:
    for path in ("/", "/projects", "/api/docs"):
        answer = httpx.get(f"{shared_server.url}{path}")
        content_type = answer.headers["content-type"]
        assert content_type.startswith("text/html"), (path, content_type)
        assert content_type.lower().count("charset") == 1, (path, content_type)


def test_text_files_of_the_ui_name_their_charset_once(shared_server: RunningServer) -> None:
    answer = httpx.get(f"{shared_server.url}/robots.txt")
    assert answer.status_code == 200
    assert answer.headers["content-type"].lower().count("charset") == 1, answer.headers["content-type"]


def test_the_api_docs_page_names_an_icon_that_exists(shared_server: RunningServer) -> None:
    page = httpx.get(f"{shared_server.url}/api/docs").text
    icons = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert icons, page[:500]
    for href in icons:
        icon = httpx.get(f"{shared_server.url}{href}")
        assert icon.status_code == 200, href
        assert icon.headers["content-type"].startswith("image/"), icon.headers["content-type"]


def test_how_to_add_a_model_is_worded_for_the_callers_role(
        server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory()
    admin = set_up_admin(server.url)
    member = ApiClient(server.url)
    member.register("mira")
    guest = ApiClient(server.url)
    assert guest.post("/api/v1/auth/guest").status_code == 201
    for person in (guest, member):
        told = person.get("/api/v1/models").json()["how_to_add"]
        assert "ask an admin" in told.lower(), told
        assert "mediastudio models" not in told and "can do both" not in told, told
    told_admin = admin.get("/api/v1/models").json()["how_to_add"]
    assert "mediastudio models add" in told_admin and "ask an admin" not in told_admin.lower(), told_admin


# --- the command line ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["serve"], ["doctor"], ["models", "list"], []], ids=str)
def test_help_shows_no_type_after_flags(command: list[str]) -> None:
    shown = mediastudio(*command, "--help")
    assert shown.returncode == 0, shown.stderr
    assert "<bool>" not in shown.stdout, shown.stdout
    assert "--help" in shown.stdout


def test_help_still_shows_the_type_of_options_that_take_a_value() -> None:
    shown = mediastudio("serve", "--help").stdout
    assert re.search(r"--port\s+<int>", shown), shown


def test_a_failed_pull_suggests_a_command_that_exists(tmp_path: Path) -> None:
    pulled = mediastudio("models", "pull", "stabilityai/sd-turbo", "--data-dir", str(tmp_path / "data"),
                         env={"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_ETAG_TIMEOUT": "2"})
    assert pulled.returncode == 1
    assert "huggingface-cli" not in pulled.stderr
    suggested = re.search(r"`(hf download [^`]+)`", pulled.stderr)
    assert suggested, pulled.stderr
    assert suggested.group(1) == "hf download stabilityai/sd-turbo --local-dir sd-turbo"
    # The command it names is the one the installed hub library ships.
    hf = Path(sys.executable).parent / "hf"
    assert hf.exists() or shutil.which("hf"), "the hub library ships no `hf` command"


def test_doctor_checks_the_folder_and_port_serve_would_use(tmp_path: Path) -> None:
    data = tmp_path / "from-env"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        report = mediastudio("doctor", env={"MEDIASTUDIO_DATA_DIR": str(data), "MEDIASTUDIO_PORT": str(busy)})
        flagged = mediastudio("doctor", "--port", str(busy), "--data-dir", str(tmp_path / "from-flag"))
    assert f"Data folder {data} is writable" in report.stdout, report.stdout
    assert f"{busy}" in report.stdout and "warn" in _line_with(report.stdout, str(busy)), report.stdout
    assert f"Data folder {tmp_path / 'from-flag'} is writable" in flagged.stdout, flagged.stdout
    assert "warn" in _line_with(flagged.stdout, str(busy)), flagged.stdout


def test_doctor_reports_the_installed_models(tmp_path: Path) -> None:
    from tiny_models import build_tiny_sd

    data = tmp_path / "data"
    none = mediastudio("doctor", "--data-dir", str(data))
    assert "Models: none installed" in none.stdout, none.stdout
    assert "mediastudio models add" in none.stdout
    folder = build_tiny_sd(tmp_path / "src" / "tiny-sd")
    assert mediastudio("models", "add", str(folder), "--data-dir", str(data)).returncode == 0
    one = mediastudio("doctor", "--data-dir", str(data))
    assert "Models: 1 installed (tiny-sd)" in one.stdout, one.stdout


def _line_with(text: str, needle: str) -> str:
    return next((line for line in text.splitlines() if needle in line and "Port" in line), "")
