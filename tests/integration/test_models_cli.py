"""`mediastudio models …` from the shell: add a local diffusers folder, list, remove, and pull's offline message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mediastudio", "models", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_models import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("src") / "my-sd")


def test_add_list_remove(model_folder: Path, tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    empty = cli("list", *data)
    assert empty.returncode == 0 and "mediastudio models add PATH" in empty.stdout
    added = cli("add", str(model_folder), *data)
    assert added.returncode == 0 and "Added my-sd (text-to-image, StableDiffusionPipeline)" in added.stdout
    listed = cli("list", *data)
    assert "my-sd" in listed.stdout and "StableDiffusionPipeline" in listed.stdout
    again = cli("add", str(model_folder), *data)
    assert again.returncode == 1 and "installed already" in again.stderr
    not_a_model = cli("add", str(tmp_path), "--name", "nope", *data)
    assert not_a_model.returncode == 1 and "model_index.json" in not_a_model.stderr
    removed = cli("remove", "my-sd", *data)
    assert removed.returncode == 0 and "left alone" in removed.stdout
    assert (model_folder / "model_index.json").is_file()  # the linked folder itself stays
    assert cli("remove", "my-sd", *data).returncode == 1


def test_pull_without_the_internet_says_what_to_do(tmp_path: Path) -> None:
    # An endpoint nothing listens on: the same as a machine without the internet, wherever this runs.
    pulled = cli("pull", "stabilityai/sd-turbo", "--data-dir", str(tmp_path / "data"),
                 env={"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_ETAG_TIMEOUT": "2"})
    assert pulled.returncode == 1
    assert "cannot reach huggingface.co" in pulled.stderr and "mediastudio models add sd-turbo" in pulled.stderr
    assert not any((tmp_path / "data" / "models").glob("*"))  # nothing half-downloaded is left
