"""Planning a run lists the installed models (twice on every run's path: when it is asked for and when it starts).
The listing is kept while the models folder is unchanged, for at most a second: it looked at every model folder
each time (0.7 ms with 30 installed). A model added or removed shows at once; one changed in place within the
second."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import mediastudio.models.registry as registry_module
from mediastudio.errors import NotFound
from mediastudio.models.registry import ModelRegistry


def _model(root: Path, name: str, pipeline: str = "StableDiffusionPipeline") -> Path:
    staged = root.parent / f".staging-{name}"  # made beside models/ and moved in whole, as a pull or an add does
    (staged / "unet").mkdir(parents=True)
    (staged / "model_index.json").write_text(json.dumps({"_class_name": pipeline}))
    (staged / "unet" / "config.json").write_text(json.dumps({"cross_attention_dim": 768}))
    staged.rename(root / name)
    return root / name


def test_the_listing_is_kept_until_a_model_comes_or_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "models"
    root.mkdir()
    for number in range(30):
        _model(root, f"model-{number:02d}")
    registry = ModelRegistry(tmp_path)
    looked: list[Path] = []
    real = registry_module._known
    monkeypatch.setattr(registry_module, "_known", lambda entry: (looked.append(entry), real(entry))[1])

    first = registry.list(sized=False)
    assert len(first) == 30 and len(looked) == 30
    looked.clear()
    assert [m.name for m in registry.list(sized=False)] == [m.name for m in first]
    assert registry.kinds() == {m.name: "text-to-image" for m in first}
    assert looked == []  # kept: no model folder looked at again

    _model(root, "added")  # a model comes: shown at once
    assert "added" in registry.names()
    shutil.rmtree(root / "model-07")  # one goes: gone at once
    assert "model-07" not in registry.names()

    # A model folder changed in place (the folder of models unchanged) shows once the kept listing is old.
    (root / "model-00" / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionInpaintPipeline"}))
    monkeypatch.setattr(registry_module, "LISTING_KEPT_S", 0.0)
    assert registry.kinds()["model-00"] == "inpaint"
    # Sizes are always summed anew (the Models page asks for them).
    assert all(m.size_bytes > 0 for m in registry.list(sized=True))


def test_a_listing_is_a_copy(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    _model(tmp_path / "models", "one")
    registry = ModelRegistry(tmp_path)
    registry.list(sized=False).clear()
    assert registry.names() == {"one"}


def test_a_model_asked_for_by_name_comes_from_the_kept_listing(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A run asks for its model by name three times on its way to the GPU (`get(name, sized=False)`): answered
    from the kept listing, without looking at the model's folder; a model that comes or goes is seen at once,
    and a name no listing holds still gets the refusal that says what is installed."""
    root = tmp_path / "models"
    root.mkdir()
    for number in range(3):
        _model(root, f"model-{number}")
    registry = ModelRegistry(tmp_path)
    registry.list(sized=False)
    looked: list[Path] = []
    real = registry_module._known
    monkeypatch.setattr(registry_module, "_known", lambda entry: (looked.append(entry), real(entry))[1])
    for _ in range(3):
        assert registry.get("model-1", sized=False).path == str((root / "model-1").resolve())
    assert looked == []
    assert registry.get("model-1").size_bytes > 0  # with its size: read from its folder, as before
    _model(root, "added")
    assert registry.get("added", sized=False).kind == "text-to-image"
    shutil.rmtree(root / "model-2")
    with pytest.raises(NotFound, match="installed: added, model-0, model-1"):
        registry.get("model-2", sized=False)
    with pytest.raises(NotFound):
        registry.get("../models/model-1", sized=False)
