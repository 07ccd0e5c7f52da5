"""An IP-Adapter's name comes from a client (an IP-Adapter node's parameter): it is resolved and refused unless it
stays inside the data folder's ipadapters/, links followed; the refusal is a sentence on the node that names no
server path, and the list the inspector shows names nothing outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediastudio.errors import TaskFailed
from mediastudio.models.ipadapters import IpAdapterFiles

HOSTILE = ["../secret.safetensors", "../../etc/passwd", "/etc/passwd", "/tmp/x.safetensors", "a/../../x.safetensors",
           "..\\x.safetensors", "C:/x.safetensors", "x.safetensors\0.txt", "notes.txt", "", ".", "..",
           "x" * 300 + ".safetensors", "outside.safetensors", "folder-link/inside-out.safetensors"]


def _adapter(path: Path) -> Path:
    import torch
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"image_proj.proj.weight": torch.zeros(4, 2), "ip_adapter.1.to_k_ip.weight": torch.zeros(2, 2)},
              str(path))
    (path.parent / "image_encoder").mkdir(exist_ok=True)
    (path.parent / "image_encoder" / "config.json").write_text("{}")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    _adapter(data / "ipadapters" / "models" / "good.safetensors")
    secret = _adapter(tmp_path / "secret.safetensors")
    (data / "ipadapters" / "outside.safetensors").symlink_to(secret)  # a link inside that leads out
    _adapter(tmp_path / "elsewhere" / "inside-out.safetensors")
    (data / "ipadapters" / "folder-link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    return data


@pytest.mark.parametrize("bad", HOSTILE)
def test_an_ip_adapter_name_that_leaves_ipadapters_is_refused(data: Path, bad: str) -> None:
    with pytest.raises(TaskFailed) as refused:
        IpAdapterFiles(data).find(bad)
    assert refused.value.code in ("bad_ip_adapter", "no_ip_adapter") and "ipadapters/" in refused.value.message
    assert str(data.parent) not in refused.value.message  # nothing about where the data folder is


def test_only_adapters_inside_are_listed_and_found(data: Path) -> None:
    files = IpAdapterFiles(data)
    assert [info.name for info in files.list()] == ["models/good.safetensors"]
    assert files.find("models/good.safetensors").path == str((data / "ipadapters" / "models" /
                                                               "good.safetensors").resolve())
