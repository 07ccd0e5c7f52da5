"""In-process rate limits: requests per minute per user and per IP, and the brute-force lock on logins.

Sliding windows kept in memory: right for one process; scale-out moves them to Redis.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from mediastudio.errors import TooManyRequests

WINDOW_S = 60.0


class SlidingWindow:
    """Counts events per key within the last `window` seconds."""

    def __init__(self, window: float = WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        events = self._events[key]
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def hit(self, key: str, limit: int) -> int | None:
        """Count one event; None if within `limit`, else the seconds until one is allowed again."""
        with self._lock:
            now = self.clock()
            events = self._trim(key, now)
            if len(events) >= limit:
                return max(1, math.ceil(events[0] + self.window - now))
            events.append(now)
            if len(self._events) > 100_000:  # forget idle keys now and then
                for idle in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                    del self._events[idle]
            return None

    def count(self, key: str) -> int:
        with self._lock:
            return len(self._trim(key, self.clock()))

    def retry_after(self, key: str) -> int:
        with self._lock:
            events = self._trim(key, self.clock())
            return max(1, math.ceil(events[0] + self.window - self.clock())) if events else 0

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


class LoginThrottle:
    """After `max_failures` failed logins for one account from one IP, refuse for `lockout` seconds.
    An IP alone gets five times as many tries, spread over any accounts."""

    def __init__(self, max_failures: int, lockout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.failures = SlidingWindow(lockout, clock)

    @staticmethod
    def _keys(username: str, ip: str) -> tuple[str, str]:
        return f"acct:{username.strip().lower()}|{ip}", f"ip:{ip}"

    def check(self, username: str, ip: str) -> None:
        account, address = self._keys(username, ip)
        for key, limit in ((account, self.max_failures), (address, self.max_failures * 5)):
            if self.failures.count(key) >= limit:
                retry = self.failures.retry_after(key)
                raise TooManyRequests(
                    f"Too many failed logins. Try again in {retry} seconds.", retry_after=retry,
                    hint="Check the username and password; an administrator can reset a password "
                         "with: mediastudio users set-password NAME")

    def failed(self, username: str, ip: str) -> None:
        for key in self._keys(username, ip):
            self.failures.hit(key, limit=1 << 30)

    def succeeded(self, username: str, ip: str) -> None:
        self.failures.clear(self._keys(username, ip)[0])


class RateLimiter:
    """Requests per minute per user (or per IP when anonymous), plus a stricter budget for
    handlers marked `opt={"expensive": True}`."""

    def __init__(self, per_user: int, per_ip: int, expensive: int) -> None:
        self.per_user, self.per_ip, self.expensive = per_user, per_ip, expensive
        self.window = SlidingWindow()

    def check(self, *, user_id: str | None, ip: str, expensive: bool) -> None:
        buckets = [(f"ip:{ip}", self.per_ip)]
        if user_id:
            buckets.append((f"user:{user_id}", self.per_user))
        if expensive:
            buckets.append((f"expensive:{user_id or ip}", self.expensive))
        for key, limit in buckets:
            retry = self.window.hit(key, limit)
            if retry is not None:
                raise TooManyRequests(f"Too many requests. Try again in {retry} seconds.", retry_after=retry,
                                      hint="Slow down, or ask the administrator to raise the limits.")
