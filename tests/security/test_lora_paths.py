"""A LoRA file's name comes from a client (a LoRA node's parameter) and a VAE's too: each is resolved and refused
unless it stays inside its folder of the data folder (loras/, models/), links followed; the refusal is a sentence
on the node, and the list the inspector shows names nothing outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediastudio.errors import TaskFailed
from mediastudio.models.loras import LoraFiles
from mediastudio.models.vaes import find_vae

HOSTILE = ["../secret.safetensors", "../../etc/passwd", "/etc/passwd", "/tmp/x.safetensors", "a/../../x.safetensors",
           "..\\x.safetensors", "C:/x.safetensors", "x.safetensors\0.txt", "notes.txt", "", ".", "..",
           "x" * 300 + ".safetensors", "outside.safetensors", "folder-link/inside-out.safetensors"]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "loras").mkdir(parents=True)
    (data / "loras" / "good.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    secret = tmp_path / "secret.safetensors"
    secret.write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    (data / "loras" / "outside.safetensors").symlink_to(secret)  # a link inside that leads out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "inside-out.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    (data / "loras" / "folder-link").symlink_to(elsewhere, target_is_directory=True)
    return data


@pytest.mark.parametrize("bad", HOSTILE)
def test_a_lora_name_that_leaves_loras_is_refused(data: Path, bad: str) -> None:
    with pytest.raises(TaskFailed) as refused:
        LoraFiles(data).resolve(bad)
    assert refused.value.code == "bad_lora" and "loras/" in refused.value.message
    assert str(data.parent) not in refused.value.message  # nothing about where the data folder is


def test_only_files_inside_are_listed_and_resolved(data: Path) -> None:
    files = LoraFiles(data)
    assert [info.name for info in files.list()] == ["good.safetensors"]
    assert files.resolve("good.safetensors") == (data / "loras" / "good.safetensors").resolve()


@pytest.mark.parametrize("bad", ["../data", "/etc", "..", ".", "a/b", "", "x" * 101])
def test_a_vae_name_names_only_a_folder_of_models(data: Path, bad: str) -> None:
    with pytest.raises(TaskFailed) as refused:
        find_vae(data / "models", bad)
    assert refused.value.code == "bad_vae"
