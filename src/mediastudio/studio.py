"""The typed bundle of services an app owns; controllers receive it by dependency injection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.datastructures import State
from litestar.di import NamedDependency

from mediastudio.auth.ratelimit import GuestLimit, LoginThrottle, RateLimiter
from mediastudio.db import Database
from mediastudio.events.bus import EventBus
from mediastudio.media.blobs import BlobStore
from mediastudio.settings import Settings
from mediastudio.system.gpu import GpuProbe
from mediastudio.ui import WebUI


@dataclass
class Studio:
    settings: Settings
    db: Database
    ui: WebUI
    gpu: GpuProbe = field(default_factory=GpuProbe)
    blobs: BlobStore = field(init=False)
    limiter: RateLimiter = field(init=False)
    rooms: Any = None  # collab.rooms.Rooms, started with the app
    events: EventBus = field(default_factory=EventBus)
    presence: dict[str, Any] = field(default_factory=dict)  # project id → awareness-only Room
    login_throttle: LoginThrottle = field(init=False)
    guest_limit: GuestLimit = field(init=False)
    webhooks: Any = None  # tasks.webhooks.WebhookDispatcher, started with the app
    tasks: Any = field(init=False)  # tasks.system.TaskSystem: lanes, runner, queue watcher

    def __post_init__(self) -> None:
        s = self.settings
        self.blobs = BlobStore(s.data_dir / "blobs")
        if s.queue_url and self.events.transport is None:
            from mediastudio.events.redis_transport import RedisTransport

            self.events.transport = RedisTransport(s.queue_url)
        self.db.events = self.events
        from mediastudio.tasks.system import TaskSystem

        self.tasks = TaskSystem(s, self.db, self.blobs, self.events)
        self.limiter = RateLimiter(s.rate_limit_user_per_minute, s.rate_limit_ip_per_minute,
                                   s.rate_limit_expensive_per_minute)
        self.login_throttle = LoginThrottle(s.login_max_failures, s.login_lockout_seconds)
        self.guest_limit = GuestLimit(s.guests_per_ip_per_hour)


def provide_studio(state: State) -> Studio:
    """Litestar dependency: the Studio of the app handling this request."""
    studio: Studio = state.studio
    return studio


# Annotation for handlers: `studio: StudioDep`.
StudioDep = NamedDependency[Studio]
