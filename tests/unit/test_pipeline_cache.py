"""The pipeline cache: LRU under a memory budget, one pipeline object per thread sharing the weights."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mediastudio.errors import TaskFailed
from mediastudio.models.pipelines import PipelineCache
from mediastudio.models.registry import ModelRegistry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    from tiny_models import build_tiny_sd

    root = tmp_path_factory.mktemp("cache")
    registry = ModelRegistry(root / "data")
    for name, seed in (("one", 1), ("two", 2)):
        registry.add(build_tiny_sd(root / f"src-{name}", seed=seed), name)
    return registry


def test_models_are_kept_by_lru_under_the_budget(registry: ModelRegistry) -> None:
    probe = PipelineCache(registry, device="cpu")
    from mediastudio.models.pipelines import _bytes_of

    size = _bytes_of(probe.base("one"))
    cache = PipelineCache(registry, budget_bytes=int(size * 1.5), device="cpu")
    first = cache.base("one")
    assert cache.base("one") is first and cache.loads == 1  # kept
    cache.base("two")  # both do not fit: the least recently used goes
    assert list(cache.bases) == ["two"] and cache.loads == 2
    assert cache.base("one") is not first and cache.loads == 3
    roomy = PipelineCache(registry, budget_bytes=size * 3, device="cpu")
    roomy.base("one"), roomy.base("two"), roomy.base("one")
    assert list(roomy.bases) == ["two", "one"] and roomy.loads == 2


def test_each_thread_gets_its_own_pipeline_sharing_the_weights(registry: ModelRegistry) -> None:
    cache = PipelineCache(registry, device="cpu")
    mine = cache.pipeline("one", "text-to-image")
    assert cache.pipeline("one", "text-to-image") is mine
    theirs: list[object] = []
    thread = threading.Thread(target=lambda: theirs.append(cache.pipeline("one", "text-to-image")))
    thread.start()
    thread.join()
    other = theirs[0]
    assert other is not mine and other.unet is mine.unet and other.scheduler is not mine.scheduler  # type: ignore[attr-defined]
    img2img = cache.pipeline("one", "image-to-image")
    assert type(img2img).__name__ == "StableDiffusionImg2ImgPipeline" and img2img.unet is mine.unet
    assert type(cache.pipeline("one", "inpaint")).__name__ == "StableDiffusionInpaintPipeline"


def test_names_resolve_with_messages_that_say_what_to_do(registry: ModelRegistry, tmp_path: Path) -> None:
    cache = PipelineCache(registry, device="cpu")
    assert cache.resolve_name(None) == "one"  # the default: first by name
    with pytest.raises(TaskFailed) as missing:
        cache.resolve_name("sdxl")
    assert "one, two" in missing.value.message and "models add" in (missing.value.hint or "")
    empty = PipelineCache(ModelRegistry(tmp_path), device="cpu")
    with pytest.raises(TaskFailed) as none:
        empty.resolve_name(None)
    assert none.value.code == "no_model" and "mediastudio models add PATH" in (none.value.hint or "")


def test_a_missing_torchvision_is_said_once_in_our_words(registry: ModelRegistry) -> None:
    """transformers warns, for each image processor, that torchvision is missing and it falls back to the
    Pillow version (which works): the log says it once, in a sentence about the studio, however many loads."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed here: transformers has nothing to warn about")
    script = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
        "from mediastudio.models.pipelines import PipelineCache\n"
        "from mediastudio.models.registry import ModelRegistry\n"
        f"registry = ModelRegistry(__import__('pathlib').Path({str(registry.root.parent)!r}))\n"
        "for _ in range(2):\n"
        "    cache = PipelineCache(registry, device='cpu')\n"
        "    cache.base('one'); cache.base('two')\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    assert "requires torchvision" not in loaded.stderr, loaded.stderr
    assert loaded.stderr.count("torchvision is not installed") == 1, loaded.stderr
