"""In-process rate limits: requests per minute per user and per IP, and the brute-force lock on logins.

Sliding windows kept in memory: right for one process; scale-out moves them to Redis.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from litestar.di import NamedDependency

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

    def _forget_idle(self, now: float) -> None:
        if len(self._events) > 100_000:  # forget idle keys now and then (the lock is held)
            for idle in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                del self._events[idle]

    def hit(self, key: str, limit: int) -> int | None:
        """Count one event; None if within `limit`, else the seconds until one is allowed again."""
        with self._lock:
            now = self.clock()
            events = self._trim(key, now)
            if len(events) >= limit:
                return max(1, math.ceil(events[0] + self.window - now))
            events.append(now)
            self._forget_idle(now)
            return None

    def take(self, limits: list[tuple[str, int]]) -> float | int:
        """Count one event on every key at once if all are within their limits: the event's stamp (a float).
        Else count nothing and answer the whole seconds until the fullest key allows one again (an int)."""
        with self._lock:
            now = self.clock()
            waits = [math.ceil(events[0] + self.window - now)
                     for key, limit in limits if len(events := self._trim(key, now)) >= limit]
            if waits:
                return max(1, *waits)
            for key, _ in limits:
                self._events[key].append(now)
            self._forget_idle(now)
            return float(now)

    def forget(self, key: str, stamp: float) -> None:
        """Take back one event counted by `take`."""
        with self._lock:
            events = self._events.get(key)
            if events is not None and stamp in events:
                events.remove(stamp)

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
    An IP alone gets five times as many tries, spread over any accounts.

    `attempt` counts a try as failed before the password is checked, in one step with the check of the limit:
    parallel tries cannot all pass the check before any failure is counted. A right password takes it back.
    """

    def __init__(self, max_failures: int, lockout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.failures = SlidingWindow(lockout, clock)

    @staticmethod
    def _keys(username: str, ip: str) -> tuple[str, str]:
        return f"acct:{username.strip().lower()}|{ip}", f"ip:{ip}"

    def attempt(self, username: str, ip: str) -> float:
        """Count one try (as failed until `succeeded`); raise TooManyRequests when locked. Answers its stamp."""
        account, address = self._keys(username, ip)
        taken = self.failures.take([(account, self.max_failures), (address, self.max_failures * 5)])
        if isinstance(taken, int):
            raise TooManyRequests(
                f"Too many failed logins. Try again in {taken} seconds.", retry_after=taken,
                hint="Check the username and password; an administrator can reset a password "
                     "with: mediastudio users set-password NAME")
        return taken

    def succeeded(self, username: str, ip: str, stamp: float) -> None:
        account, address = self._keys(username, ip)
        self.failures.clear(account)
        self.failures.forget(address, stamp)


class GuestLimit:
    """Guest sandboxes created per IP per hour (each one is a workspace and a quota of work)."""

    def __init__(self, per_hour: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_hour = per_hour
        self.window = SlidingWindow(3600.0, clock)

    def check(self, ip: str) -> None:
        retry = self.window.hit(f"guest:{ip}", self.per_hour)
        if retry is not None:
            raise TooManyRequests(
                f"Too many guest sessions from your address. Try again in {retry} seconds.", retry_after=retry,
                hint="Register an account to keep working, or ask the administrator to raise "
                     "MEDIASTUDIO_GUESTS_PER_IP_PER_HOUR.")


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


LoginThrottleDep = NamedDependency[LoginThrottle]
GuestLimitDep = NamedDependency[GuestLimit]
