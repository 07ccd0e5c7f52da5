"""What a new guest's sandbox is given once it exists: the composition adds the steps (the samples feature
copies its projects in), so accounts knows none of them."""

from __future__ import annotations

import logging
from collections.abc import Callable

from litestar.di import NamedDependency

log = logging.getLogger("mediastudio")


class GuestWelcome:
    """Steps run with a new guest's id after their account and workspace are committed, before the answer.
    A failing step is logged and skipped: the guest is created either way."""

    def __init__(self) -> None:
        self.steps: list[Callable[[str], object]] = []

    def __call__(self, user_id: str) -> None:
        for step in self.steps:
            try:
                step(user_id)
            except Exception:
                log.exception("Welcoming a new guest failed (%s)", getattr(step, "__name__", step))


GuestWelcomeDep = NamedDependency[GuestWelcome]
