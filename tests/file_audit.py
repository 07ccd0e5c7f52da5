"""What Python opens or lists inside a block (`opened()`): an audit hook, added once per process (hooks cannot be
removed), that records only while a block watches. Entries read "open <path>", "os.scandir <path>", …"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

_watching: list[list[str]] = []
EVENTS = ("open", "os.scandir", "os.listdir", "glob.glob")


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _watching and event in EVENTS:
        _watching[-1].append(f"{event} {args[0]}")


sys.addaudithook(_audit)


@contextmanager
def opened() -> Iterator[list[str]]:
    """The files and folders Python opens (or lists) inside the block."""
    seen: list[str] = []
    _watching.append(seen)
    try:
        yield seen
    finally:
        _watching.pop()
