"""What a task's thread logs and warns reaches that task's log only: two threads logging at once keep their lines
apart, a thread that runs no task adds nothing anywhere, and a line is kept once though two loggers carry it."""

from __future__ import annotations

import io
import logging
import threading
import warnings

import pytest

from mediastudio.engine.executor import out_of_memory
from mediastudio.tasks.logs import TaskLog, attach, detach, note


def _run_as_task(log: TaskLog, word: str, ready: threading.Barrier) -> None:
    attach(log)
    try:
        ready.wait()
        for number in range(50):
            logging.getLogger("diffusers.models").warning("%s %d", word, number)
            logging.getLogger("somelibrary").error("%s error %d", word, number)
            logging.getLogger("somelibrary").info("%s quiet %d", word, number)  # below WARNING: not kept
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.warn(f"{word} warned {number}", UserWarning, stacklevel=1)
            note("info", f"{word} noted", once=True)
    finally:
        detach(log)


def test_two_tasks_on_two_threads_keep_their_own_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    # The capture shows each warning on as well, through the `showwarning` it found: here a quiet one, so the
    # hundred warnings the threads make do not fill the test run's summary.
    monkeypatch.setattr(warnings, "showwarning", lambda *args, **kwargs: None)
    logs = {word: TaskLog(f"t_{word}") for word in ("alpha", "beta")}
    ready = threading.Barrier(2)
    threads = [threading.Thread(target=_run_as_task, args=(log, word, ready)) for word, log in logs.items()]
    for thread in threads:
        thread.start()
    logging.getLogger("diffusers").warning("from a thread that runs no task")
    for thread in threads:
        thread.join(10)
    for word, log in logs.items():
        other = "beta" if word == "alpha" else "alpha"
        lines = log.unsaved()
        messages = [line.message for line in lines]
        assert not any(other in m for m in messages) and not any("runs no task" in m for m in messages)
        assert sum(m.startswith(f"{word} ") and "error" not in m and "warned" not in m and "noted" not in m
                   for m in messages) == 50
        assert sum("error" in m for m in messages) == 50 and sum("warned" in m for m in messages) == 50
        assert messages.count(f"{word} noted") == 1 and not any("quiet" in m for m in messages)
        assert {line.source for line in lines} == {"diffusers.models", "somelibrary", "warnings", "mediastudio"}
        assert {line.level for line in lines if line.source == "somelibrary"} == {"error"}


def test_a_thread_after_its_task_adds_nothing() -> None:
    log = TaskLog("t_done")
    attach(log)
    logging.getLogger("diffusers").warning("while it runs")
    detach(log)
    logging.getLogger("diffusers").warning("after it ended")
    note("info", "after it ended too")
    assert [line.message for line in log.unsaved()] == ["while it runs"]


def test_a_record_two_loggers_carry_is_kept_once() -> None:
    log = TaskLog("t_once")
    library = logging.getLogger("diffusers")
    was = library.propagate
    library.propagate = True  # the library's root logger reaches the root logger too: the capture sits on both
    attach(log)
    try:
        logging.getLogger("diffusers.utils").warning("said once")
    finally:
        detach(log)
        library.propagate = was
    assert [line.message for line in log.unsaved()] == ["said once"]


def test_a_logging_setup_made_after_the_capture_does_not_turn_it_off() -> None:
    """A logging setup between two tasks (the app's own LoggingConfig when a server starts: dictConfig replaces
    the root logger's handlers; a library's basicConfig(force=True)) or a library that sets its own
    `warnings.showwarning`: the next task's lines still reach its log."""
    first = TaskLog("t_first")
    attach(first)  # the capture is in place from the first task on
    detach(first)
    root = logging.getLogger()
    handlers, level, shown = root.handlers[:], root.level, warnings.showwarning
    seen: list[str] = []
    try:
        logging.basicConfig(force=True, level=logging.WARNING, stream=io.StringIO())
        warnings.showwarning = lambda message, *rest, **kw: seen.append(str(message))  # type: ignore[assignment]
        log = TaskLog("t_next")
        attach(log)
        try:
            logging.getLogger("somelibrary").error("after the setup")
            logging.getLogger("diffusers.models").warning("from the library")
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.warn("warned after the setup", UserWarning, stacklevel=1)
        finally:
            detach(log)
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        warnings.showwarning = shown
    assert [(line.source, line.message) for line in log.unsaved()] == [
        ("somelibrary", "after the setup"), ("diffusers.models", "from the library"),
        ("warnings", "UserWarning: warned after the setup")]
    assert seen == ["warned after the setup"]  # the library's own showwarning still shows it


def test_out_of_memory_is_told_apart() -> None:
    import torch

    assert out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 8.00 GB)"))
    assert out_of_memory(RuntimeError("[enforce fail at alloc_cpu.cpp:114] DefaultCPUAllocator: can't allocate "
                                      "memory: you tried to allocate 1 bytes. Error code 12 (Cannot allocate memory)"))
    assert not out_of_memory(ValueError("height must be divisible by 8"))
