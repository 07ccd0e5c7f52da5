"""The typed bundle of one app's services, built by `app.build_studio(settings)` (the composition root).

Controllers never see it whole: app.py hands each handler the services it names (`settings`, `database`,
`tasks`, …; docs/architecture.md lists them), so no feature imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mediastudio.accounts.welcome import GuestWelcome
from mediastudio.auth.cache import IdentityCache
from mediastudio.auth.ratelimit import GuestLimit, LoginThrottle, RateLimiter
from mediastudio.collab.rooms import Rooms
from mediastudio.db import Database
from mediastudio.engine.service import Engine
from mediastudio.events.bus import EventBus
from mediastudio.metrics.registry import Registry
from mediastudio.models.registry import ModelRegistry
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.system.gpu import GpuProbe
from mediastudio.system.heap import Pauses
from mediastudio.tasks.system import TaskSystem
from mediastudio.ui import WebUI
from mediastudio.webhooks.service import WebhookDispatcher


@dataclass
class Studio:
    settings: Settings
    db: Database
    ui: WebUI
    blobs: BlobStore
    events: EventBus
    models: ModelRegistry  # the ML models on disk
    engine: Engine
    tasks: TaskSystem  # lanes, runner, queue watcher
    rooms: Rooms  # the live scene documents
    webhooks: WebhookDispatcher
    limiter: RateLimiter
    login_throttle: LoginThrottle
    guest_limit: GuestLimit
    identities: IdentityCache  # who a cookie or token is, for a few seconds (auth/cache.py)
    gpu: GpuProbe = field(default_factory=GpuProbe)
    guest_welcome: GuestWelcome = field(default_factory=GuestWelcome)  # steps for a new guest's sandbox
    metrics: Registry = field(default_factory=Registry)  # the series of GET /metrics
    collector_pauses: Pauses | None = None  # timed while the app runs (system/heap.py)
