"""What one live connection may ask of the server per second, and what one document update may do.

Every connection gets the same budget, viewers included: a viewer cannot write, but its sync step 1
makes the server send the whole document, so those requests and the bytes they pull are counted too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from mediastudio.errors import TooManyRequests

MAX_MESSAGE_BYTES = 2 << 20  # one WebSocket message (an update of a pasted graph fits easily)
MAX_AWARENESS_BYTES = 64 << 10  # one presence message: a cursor, a selection, a name
MAX_UPDATES_PER_SECOND = 60
MAX_AWARENESS_PER_SECOND = 30
MAX_STEP1_PER_SECOND = 10  # a client asks once when it connects (and on a rare resync)
MAX_SYNC_BYTES_PER_SECOND = 8 << 20  # step-2 replies to one connection; the first of a second always goes
MAX_DOCUMENT_BYTES = 64 << 20  # a scene's document with its history since the last compaction
MAX_EDGES_PER_NODE = 4

SLOW_DOWN = "Wait a moment, then reload the page."
PRESENCE_DROPPED = (f"Presence messages (cursor, selection) over {MAX_AWARENESS_PER_SECOND} a second are dropped: "
                    "send them less often; the latest one within the limit is what others see.")


@dataclass
class Budget:
    """Counts of one connection's requests in the current one-second window."""

    window_start: float = 0.0
    updates: int = 0
    awareness: int = 0
    step1: int = 0
    sent: int = 0

    def _roll(self) -> None:
        now = time.monotonic()
        if now - self.window_start >= 1.0:
            self.window_start, self.updates, self.awareness, self.step1, self.sent = now, 0, 0, 0, 0

    def allow_awareness(self) -> bool:
        """Presence over the limit is dropped, not fatal: a fast cursor is no attack."""
        self._roll()
        self.awareness += 1
        return self.awareness <= MAX_AWARENESS_PER_SECOND

    @property
    def first_awareness_dropped(self) -> bool:
        """The presence message just refused is the first refused in this window (its sender is told once)."""
        return self.awareness == MAX_AWARENESS_PER_SECOND + 1

    def take_update(self) -> None:
        self._roll()
        self.updates += 1
        if self.updates > MAX_UPDATES_PER_SECOND:
            raise TooManyRequests("Too many updates per second", retry_after=1, hint=SLOW_DOWN)

    def take_step1(self) -> None:
        self._roll()
        self.step1 += 1
        if self.step1 > MAX_STEP1_PER_SECOND:
            raise TooManyRequests("Too many sync requests per second", retry_after=1, hint=SLOW_DOWN)

    def take_reply(self, size: int) -> None:
        """Bytes of document this connection pulled this second; a document larger than the budget
        still reaches a client that asks once."""
        self._roll()
        if self.sent and self.sent + size > MAX_SYNC_BYTES_PER_SECOND:
            raise TooManyRequests("Too much of the document asked for per second", retry_after=1, hint=SLOW_DOWN)
        self.sent += size
