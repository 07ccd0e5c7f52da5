"""The task kinds one process offers, built from the features (part of the composition, beside app.py).

Each feature that has work to queue offers `register(kinds)`; the task system itself knows none of them.
`settings.extra_task_kinds` names more modules with a `register(kinds)` (plugins, the tests' sleep tasks).
"""

from __future__ import annotations

import importlib

from mediastudio.engine import run as engine_run
from mediastudio.engine.service import Engine
from mediastudio.handoff import task_kinds as handoff_kinds
from mediastudio.media import task_kinds as media_kinds
from mediastudio.models import pull as model_pull
from mediastudio.portability import task_kinds as portability_kinds
from mediastudio.privacy import export as privacy_export
from mediastudio.settings import Settings
from mediastudio.tasks.kinds import KindRegistry


def build_kinds(settings: Settings, engine: Engine) -> KindRegistry:
    kinds = KindRegistry()
    portability_kinds.register(kinds)
    privacy_export.register(kinds)
    handoff_kinds.register(kinds)
    media_kinds.register(kinds)
    model_pull.register(kinds)
    engine_run.register(kinds, engine)
    for name in settings.extra_task_kinds:
        module = importlib.import_module(name)
        module.register(kinds)
    return kinds
