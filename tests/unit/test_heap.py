"""The studio's heap settled (system/heap.py): what is alive is frozen out of the cycle collector's walks, a cycle
frozen and dropped since is collected by the next settle, the oldest generation's pauses are timed, a model's
load and unload settle it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mediastudio.system import heap
from mediastudio.system.heap import Pauses, settle


class Node:
    def __init__(self) -> None:
        self.other: Any = None


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test process as it was


def test_what_is_alive_is_frozen_and_a_full_collection_walks_only_what_came_since() -> None:
    settle("test")
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # the modules, classes and functions of this process
    walked_before = len(gc.get_objects())
    made = [Node() for _ in range(1000)]
    assert len(gc.get_objects()) - walked_before >= 1000  # only the new ones are walked
    assert len(gc.get_objects()) < frozen
    del made


def test_a_frozen_cycle_dropped_since_is_collected_by_the_next_settle() -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the collector frees it
    alive = weakref.ref(a)
    settle("the cycle is alive")
    del a, b
    gc.collect()
    assert alive() is not None  # frozen: a collection does not walk it
    settle("something else loaded")
    assert alive() is not None  # nor a settle that does not thaw
    settle("a model was unloaded", thaw=True)
    assert alive() is None


def test_the_oldest_generations_pauses_are_timed_and_drained() -> None:
    pauses = Pauses().install()
    try:
        gc.collect(0)  # a young generation's collection is not a pause worth timing
        assert pauses.drain() == []
        gc.collect()
        gc.collect()
        taken = pauses.drain()
        assert len(taken) == 2 and all(0 <= seconds < 10 for seconds in taken)
        assert pauses.drain() == []
    finally:
        pauses.remove()
    gc.collect()
    assert pauses.drain() == []


def test_an_unloaded_model_is_freed_even_where_only_cycles_held_it(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A model's load settles the heap (its modules are frozen), and unloading one to make room settles it again:
    the unloaded pipeline is gone at once, also with a cycle through it that only the collector could break."""
    from mediastudio.models import pipelines
    from mediastudio.models.pipelines import PipelineCache, _bytes_of
    from mediastudio.models.registry import ModelRegistry
    from tiny_models import build_tiny_sd

    registry = ModelRegistry(tmp_path / "data")
    for name, seed in (("one", 1), ("two", 2)):
        registry.add(build_tiny_sd(tmp_path / f"src-{name}", seed=seed), name)
    said: list[str] = []
    def noted(why: str, thaw: bool = False) -> float:
        said.append(f"{why}{' (thawed)' if thaw else ''}")
        return settle(why, thaw=thaw)

    monkeypatch.setattr(pipelines, "settle", noted)
    monkeypatch.setattr(heap, "settle", noted)  # the one `paused` ends with
    size = _bytes_of(PipelineCache(registry, device="cpu").base("one"))
    cache = PipelineCache(registry, budget_bytes=int(size * 1.5), device="cpu")
    said.clear()
    first = cache.base("one")
    first.unet.back_to_the_pipeline = first  # a cycle: the pipeline holds its UNet, which now holds it
    gone = weakref.ref(first)
    del first
    assert gc.get_freeze_count() > 0 and said == ["loaded a model"]
    cache.base("two")  # both do not fit: "one" is unloaded
    assert said == ["loaded a model", "unloaded a model (thawed)", "loaded a model"]
    assert gone() is None
