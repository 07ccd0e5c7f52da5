"""Role rules and rate limits, as pure logic."""

import pytest

from mediastudio.auth.ratelimit import LoginThrottle, RateLimiter, SlidingWindow
from mediastudio.errors import TooManyRequests
from mediastudio.workspaces.roles import can_assign, effective_project_role, project_allows


def test_workspace_owners_and_admins_own_every_project() -> None:
    assert effective_project_role("owner", "viewer") == "owner"
    assert effective_project_role("admin", "viewer", "viewer") == "owner"


def test_members_get_the_project_override_else_the_default() -> None:
    assert effective_project_role("member", "editor") == "editor"
    assert effective_project_role("member", "editor", "viewer") == "viewer"
    assert effective_project_role("member", "viewer", "owner") == "owner"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("owner", {"view", "edit", "run", "manage"}),
        ("editor", {"view", "edit", "run"}),
        ("viewer", {"view"}),
    ],
)
def test_what_each_project_role_may_do(role: str, allowed: set[str]) -> None:
    for action in ("view", "edit", "run", "manage"):
        assert project_allows(role, action) is (action in allowed)  # type: ignore[arg-type]


def test_only_owners_touch_owners() -> None:
    assert can_assign("owner", "member", "owner")
    assert can_assign("owner", "owner", None)
    assert can_assign("admin", "member", "admin")
    assert can_assign("admin", None, "member")
    assert not can_assign("admin", "owner", "member")
    assert not can_assign("admin", None, "owner")
    assert not can_assign("member", None, "member")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_allows_the_limit_then_says_when_to_retry() -> None:
    clock = Clock()
    window = SlidingWindow(60, clock)
    assert all(window.hit("k", 3) is None for _ in range(3))
    assert window.hit("k", 3) == 60
    clock.now += 45
    assert window.hit("k", 3) == 15
    clock.now += 15
    assert window.hit("k", 3) is None


def test_login_lock_after_ten_failures_for_that_account_and_ip() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=10, lockout=900, clock=clock)
    for _ in range(10):
        throttle.attempt("ana", "10.0.0.1")  # counted as failed until a success takes it back
    with pytest.raises(TooManyRequests) as locked:
        throttle.attempt("ANA", "10.0.0.1")
    assert locked.value.headers["Retry-After"] == "900"
    throttle.attempt("ana", "10.0.0.2")  # another IP is not locked out of that account
    throttle.attempt("bob", "10.0.0.1")  # nor is another account from that IP
    clock.now += 901
    throttle.attempt("ana", "10.0.0.1")


def test_a_right_password_takes_its_attempt_back() -> None:
    throttle = LoginThrottle(max_failures=2, lockout=900, clock=Clock())
    for _ in range(12):  # an IP may log in often: successes never count towards its lock
        throttle.succeeded("ana", "10.0.0.1", throttle.attempt("ana", "10.0.0.1"))
    throttle.attempt("ana", "10.0.0.1")


def test_rate_limiter_counts_per_user_and_expensive_separately() -> None:
    limiter = RateLimiter(per_user=5, per_ip=100, expensive=2)
    for _ in range(2):
        limiter.check(user_id="u1", ip="1.1.1.1", expensive=True)
    with pytest.raises(TooManyRequests):
        limiter.check(user_id="u1", ip="1.1.1.1", expensive=True)
    limiter.check(user_id="u2", ip="1.1.1.1", expensive=True)
    for _ in range(2):
        limiter.check(user_id="u1", ip="1.1.1.1", expensive=False)
    with pytest.raises(TooManyRequests):
        limiter.check(user_id="u1", ip="1.1.1.1", expensive=False)
