"""A task's own log: what a person reads to learn what their task did (the model it loaded, from where and how
long that took, warnings, an error with what to do about it, its start and end).

Lines come from three places, all in the thread that runs the task:
- `TaskContext.log(level, message)`, and `note(level, message)` for code that has no context (model loading);
- Python `logging` records of level WARNING and above (diffusers' and transformers' warnings included: their
  loggers do not propagate to the root, so the capture sits on them too);
- `warnings.warn`.
Each is routed by the thread it was emitted in (`attach`), so a line never lands in another task's log: lanes run
tasks on threads of their own, and a line from a thread that runs no task goes nowhere.

Bounds: a message is cut at `MAX_LINE_CHARS`; a task keeps its first `HEAD_LINES` lines and its last
`TAIL_LINES` (the end, where an error is), with one line saying how many were left out between them. Control
characters (ANSI colours, carriage returns, bidi overrides) never reach storage: they are shown as `\\x1b`-style
escapes. The runner writes the lines into `task_log` now and then while the task runs, and the rest when it ends.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mediastudio.common import utcnow

Level = Literal["info", "warning", "error"]
LEVELS: tuple[Level, ...] = ("info", "warning", "error")
MAX_LINE_CHARS = 1000
HEAD_LINES = 300
TAIL_LINES = 100
MAX_LINES = HEAD_LINES + 1 + TAIL_LINES  # the head, the line that says how many were left out, the tail
SAVE_INTERVAL = 1.0  # lines reach the database at most this often while the task runs

_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
# C0 and C1 controls but tab and newline, DEL, and the bidirectional overrides and isolates
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(message: str) -> str:
    """A message as stored: escape sequences dropped, other control characters escaped, at most MAX_LINE_CHARS."""
    text = _ANSI.sub("", message.replace("\r\n", "\n"))
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text).rstrip()
    if len(text) > MAX_LINE_CHARS:
        text = f"{text[:MAX_LINE_CHARS - 40]} … (cut: {len(text):,} characters in all)"
    return text


@dataclass(frozen=True)
class LogLine:
    seq: int
    at: datetime
    level: Level
    source: str  # "task", a logger's name, or "warnings"
    message: str


@dataclass
class TaskLog:
    """The lines of one run of a task (bounded), and which of them are not written yet."""

    task_id: str
    attempt: int = 1
    on_line: Callable[[], None] | None = None  # called after a line is kept (the runner schedules a save)
    lock: threading.Lock = field(default_factory=threading.Lock)
    head: list[LogLine] = field(default_factory=list)
    tail: deque[LogLine] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    left_out: int = 0
    saved: int = 0  # lines of `head` already written
    said: set[str] = field(default_factory=set)  # what `note(once=True)` said
    _seq: int = 0

    def add(self, level: str, message: str, source: str = "task") -> None:
        kept = level if level in LEVELS else ("error" if level in ("critical", "exception") else "info")
        with self.lock:
            self._seq += 1
            line = LogLine(self._seq, utcnow(), kept, source[:64], clean(message))
            if len(self.head) < HEAD_LINES:
                self.head.append(line)
            else:
                if len(self.tail) == TAIL_LINES:
                    self.left_out += 1
                self.tail.append(line)
        if self.on_line is not None:
            self.on_line()

    def unsaved(self) -> list[LogLine]:
        """The head's lines not written yet (marked written: the caller writes them)."""
        with self.lock:
            lines, self.saved = self.head[self.saved:], len(self.head)
        return lines

    def rest(self) -> list[LogLine]:
        """At the end: the unsaved head, the line about those left out, and the tail."""
        with self.lock:
            lines, self.saved = self.head[self.saved:], len(self.head)
            if self.left_out:
                first = self.tail[0].seq if self.tail else self._seq
                lines.append(LogLine(first - 1, self.tail[0].at if self.tail else utcnow(), "warning", "mediastudio",
                                     f"… {self.left_out:,} lines left out (a task keeps its first {HEAD_LINES} "
                                     f"and its last {TAIL_LINES}) …"))
            lines.extend(self.tail)
            self.tail.clear()
            self.left_out = 0
        return lines


# -- routing by thread ------------------------------------------------------------------------------------------
# Logging and warnings are process-wide, so the routing is too: one table of the threads that run a task now.
_threads: dict[int, TaskLog] = {}
_threads_lock = threading.Lock()
_inside = threading.local()  # a line being routed: what it logs meanwhile is not routed again
CAPTURED_LOGGERS = ("", "diffusers", "transformers", "huggingface_hub", "accelerate")


def attach(log: TaskLog) -> None:
    """Route what this thread logs and warns to `log` until `detach`."""
    _install()
    with _threads_lock:
        _threads[threading.get_ident()] = log


def detach(log: TaskLog) -> None:
    with _threads_lock:
        if _threads.get(threading.get_ident()) is log:
            del _threads[threading.get_ident()]


def current() -> TaskLog | None:
    """The log of the task this thread runs (None outside a task)."""
    return _threads.get(threading.get_ident())


def note(level: Level, message: str, source: str = "mediastudio", *, once: bool = False) -> None:
    """A line in the log of the task this thread runs; nothing outside a task. `once`: not when this task's log
    already has it."""
    log = current()
    if log is None:
        return
    if once:
        with log.lock:
            if message in log.said:
                return
            log.said.add(message)
    log.add(level, message, source)


def since(started: float) -> str:
    """Seconds since `started` (time.monotonic), as a log line says them."""
    return f"{time.monotonic() - started:.1f} s"


class _Capture(logging.Handler):
    """Logging records of the threads that run tasks, into their task's log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        log = _threads.get(record.thread) if record.thread is not None else None
        if log is None or getattr(record, "_mediastudio_task_log", False) or getattr(_inside, "busy", False):
            return
        record._mediastudio_task_log = True  # a logger that propagates reaches the capture twice: once is kept
        _inside.busy = True
        try:
            log.add(record.levelname.lower(), record.getMessage(), record.name)  # never a traceback: the server
        except Exception:  # log has those; a task's log is read by its owner
            self.handleError(record)
        finally:
            _inside.busy = False


_capture: _Capture | None = None


def _install() -> None:
    """Put the capture in place, again where it went: a logging setup made after the first task (the app's own
    LoggingConfig when a server starts, dictConfig or basicConfig(force=True) in a library) replaces the root
    logger's handlers, and a library may set `warnings.showwarning` of its own. Checked at every `attach`."""
    global _capture
    with _threads_lock:
        if _capture is None:
            _capture = _Capture()
        for name in CAPTURED_LOGGERS:
            logger = logging.getLogger(name)
            if _capture not in logger.handlers:
                logger.addHandler(_capture)
        if not getattr(warnings.showwarning, "_mediastudio_task_log", False):
            warnings.showwarning = _routed(warnings.showwarning)


def _routed(shown: Callable[..., None]) -> Callable[..., None]:
    """`warnings.showwarning` that also keeps the warning in the task's log; `shown` still shows it."""

    def showwarning(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None,
                    line: str | None = None) -> None:
        log = current()
        if log is None or getattr(_inside, "busy", False):
            shown(message, category, filename, lineno, file, line)
            return
        _inside.busy = True  # also while it is shown: logging.captureWarnings would log it again
        try:
            log.add("warning", f"{category.__name__}: {message}", "warnings")
            shown(message, category, filename, lineno, file, line)
        finally:
            _inside.busy = False

    showwarning._mediastudio_task_log = True  # type: ignore[attr-defined]
    return showwarning
