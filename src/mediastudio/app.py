"""The app factory: `create_app(settings)` builds a Litestar app with everything hung off it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from functools import partial

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig

from mediastudio.accounts.audit_controller import AuditController
from mediastudio.accounts.controller import AuthController
from mediastudio.accounts.people import AccountDeletion, InvitesController, PeopleController
from mediastudio.accounts.preferences import PreferencesController
from mediastudio.accounts.server_controller import ServerController
from mediastudio.accounts.welcome import GuestWelcome
from mediastudio.api_docs import docs_routes, openapi_config
from mediastudio.audit.record import provide_actor
from mediastudio.auth.cache import STAMP, IdentityCache, watch
from mediastudio.auth.identity import provide_identity, provide_optional_identity
from mediastudio.auth.middleware import AuthMiddleware
from mediastudio.auth.ratelimit import GuestLimit, LoginThrottle, RateLimiter
from mediastudio.auth.tokens_controller import TokensController
from mediastudio.collab.activity_controller import ActivityController
from mediastudio.collab.controller import project_presence, scene_sync
from mediastudio.collab.metrics import rooms_collector
from mediastudio.collab.rooms import Rooms
from mediastudio.comments.controller import CommentsController, InboxController
from mediastudio.comments.runs import RunNotices
from mediastudio.db import Database
from mediastudio.edge.access_log import AccessLog
from mediastudio.edge.guard import EdgeGuard
from mediastudio.edge.hosts import HostPolicy
from mediastudio.edge.tls import HSTS_VALUE
from mediastudio.engine.controller import EngineController
from mediastudio.engine.service import Engine
from mediastudio.errors import EXCEPTION_HANDLERS
from mediastudio.events.bus import EventBus
from mediastudio.events.redis_transport import RedisTransport
from mediastudio.feed.controller import events
from mediastudio.framework import resolve_dependencies_in_order
from mediastudio.handoff.controller import HandoffController
from mediastudio.kinds import build_kinds
from mediastudio.media.compare_controller import CompareController
from mediastudio.media.controller import AssetsController
from mediastudio.media.leftovers import leftover_sweeper, sweep_at_start
from mediastudio.media.masks_controller import MasksController
from mediastudio.media.usage_controller import my_quotas, my_usage
from mediastudio.metrics.http import RequestMetrics
from mediastudio.metrics.registry import Registry
from mediastudio.models.controller import ModelsController
from mediastudio.models.registry import ModelRegistry
from mediastudio.options import allowed_methods, answer_options
from mediastudio.portability.controller import PortabilityController
from mediastudio.privacy.controller import AccountPrivacyController, PeoplePrivacyController, RetentionController
from mediastudio.privacy.deletion import delete_account_whole
from mediastudio.privacy.retention import retention_sweeper
from mediastudio.projects.access import project_names, task_scope
from mediastudio.projects.controller import ProjectsController
from mediastudio.projects.history_controller import HistoryController
from mediastudio.projects.roles_controller import ProjectRolesController
from mediastudio.projects.scenes_controller import ScenesController
from mediastudio.projects.sweeper import commit_pending_changes, recover_projects
from mediastudio.quotas.controller import QuotasController
from mediastudio.quotas.service import seed as seed_quotas
from mediastudio.review.controller import BoardController
from mediastudio.samples.controller import SamplesController
from mediastudio.samples.service import copy_all_for_guest
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.studio import Studio
from mediastudio.system.controller import SystemController
from mediastudio.system.gpu import GpuProbe, GpuUsage
from mediastudio.system.heap import PAUSE_BUCKETS, Pauses, settle
from mediastudio.system.metrics import gpu_refresher, machine_collector
from mediastudio.system.metrics_controller import metrics_page
from mediastudio.tables import open_database
from mediastudio.tasks.controller import QueueController, TasksController
from mediastudio.tasks.metrics import TaskMetrics
from mediastudio.tasks.system import TaskSystem
from mediastudio.ui import WebUI, find_web_dist, serve_ui, unknown_api_path
from mediastudio.webhooks.controller import WebhooksController
from mediastudio.webhooks.service import WebhookDispatcher
from mediastudio.workflows.controller import WorkflowsController
from mediastudio.workspaces.controller import WorkspacesController

log = logging.getLogger("mediastudio")


def prepare_data_dir(settings: Settings) -> None:
    """Create the data folder and check it is writable, with an error a person can act on."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.data_dir / ".write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise SystemExit(
            f"The data folder {settings.data_dir} cannot be written ({exc.strerror}). "
            "Pick another with --data-dir or MEDIASTUDIO_DATA_DIR."
        ) from exc


def build_studio(settings: Settings) -> Studio:
    """Every service of one app, wired together: the only place that knows them all."""
    prepare_data_dir(settings)
    db = open_database(settings.database_path)
    with db.transaction() as session:
        seed_quotas(session, settings)  # the per-role limits, from the settings, the first time
    events = EventBus(RedisTransport(settings.queue_url) if settings.queue_url else None)
    db.events = events
    blobs = BlobStore(settings.data_dir / "blobs")
    models = ModelRegistry(settings.data_dir, settings.models_catalog)
    engine = Engine(settings, db, blobs, models)
    tasks = TaskSystem(settings, db, blobs, events, build_kinds(settings, engine), task_scope, project_names)
    identities = IdentityCache(settings.data_dir / STAMP, ttl=settings.auth_cache_seconds)
    watch(db.engine, settings.data_dir / STAMP, identities)  # a committed change to a user, session or token
    events.listeners.append(identities.on_event)  # an access signal from another process does too
    events.listeners.append(RunNotices(db).on_event)  # a finished run: a line in its owner's inbox
    studio = Studio(
        settings=settings, db=db, ui=WebUI(find_web_dist(settings.web_dist)), blobs=blobs, events=events,
        models=models, engine=engine, tasks=tasks, rooms=Rooms(settings, db), webhooks=WebhookDispatcher(db, settings),
        limiter=RateLimiter(settings.rate_limit_user_per_minute, settings.rate_limit_ip_per_minute,
                            settings.rate_limit_expensive_per_minute),
        login_throttle=LoginThrottle(settings.login_max_failures, settings.login_lockout_seconds),
        guest_limit=GuestLimit(settings.guests_per_ip_per_hour), identities=identities)
    studio.guest_welcome.steps.append(partial(copy_all_for_guest, db, settings, blobs))
    watch_metrics(studio)
    return studio


def watch_metrics(studio: Studio) -> None:
    """The series of GET /metrics: each feature's numbers, counted from events or read at a scrape."""
    registry = studio.metrics
    studio.events.listeners.append(TaskMetrics(registry).on_event)
    registry.collectors += [rooms_collector(studio.rooms, registry),
                            machine_collector(registry, studio.settings.data_dir)]
    registry.refreshers.append(gpu_refresher(registry, GpuUsage(studio.gpu)))
    pauses = registry.histogram("mediastudio_gc_pause_seconds", "Pauses of Python's cycle collector walking its "
                                "oldest generation (no thread runs meanwhile)", buckets=PAUSE_BUCKETS)
    frozen = registry.gauge("mediastudio_gc_frozen_objects", "Objects the cycle collector no longer walks "
                            "(frozen once the studio started and after a model loads: system/heap.py)")
    studio.collector_pauses = collector = Pauses()

    def collect() -> None:
        frozen.set(gc.get_freeze_count())
        for seconds in collector.drain():
            pauses.observe(seconds)

    registry.collectors.append(collect)


def _lifespan(studio: Studio) -> Callable[[Litestar], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        studio.events.bind(asyncio.get_running_loop())
        await recover_projects(studio.settings)
        if await studio.rooms.recover():
            log.warning("Saved live scene edits that a crash had kept out of the scene files")
        studio.rooms.start()
        await studio.tasks.start()
        if studio.settings.preload_models and studio.tasks.workers.get("gpu", 0) > 0:
            studio.engine.preload()
        await sweep_at_start(studio.settings, studio.db, studio.blobs)  # after interrupted tasks are settled
        studio.webhooks.start(studio.events)
        background = [asyncio.create_task(retention_sweeper(studio.db, studio.settings)),
                      asyncio.create_task(leftover_sweeper(studio.settings, studio.db, studio.blobs))]
        if studio.settings.probe_gpu:
            background.append(asyncio.create_task(studio.gpu.run()))
        if studio.collector_pauses is not None:
            studio.collector_pauses.install()
        settle("started")  # what the start made lives as long as the process: the collector stops walking it
        gc.enable()  # `mediastudio serve` turned it off while it started
        try:
            yield
        finally:
            if studio.collector_pauses is not None:
                studio.collector_pauses.remove()
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await studio.webhooks.stop()
            await studio.tasks.stop()  # running tasks stop at their next step and run again on start
            await studio.rooms.stop()  # writes and commits what the live scenes hold
            await commit_pending_changes()  # everyday edits still in their commit window
            studio.events.close()
            studio.db.close()

    return lifespan


def _studio(state: State) -> Studio:
    studio: Studio = state.studio
    return studio


# Litestar dependencies: a handler names the services it uses (`database: DatabaseDep`, `tasks: TasksDep`, …)
# and is handed that field of the app's Studio; no handler sees the Studio whole.
def provide_settings(state: State) -> Settings:
    return _studio(state).settings


def provide_database(state: State) -> Database:
    return _studio(state).db


def provide_events(state: State) -> EventBus:
    return _studio(state).events


def provide_blobs(state: State) -> BlobStore:
    return _studio(state).blobs


def provide_tasks(state: State) -> TaskSystem:
    return _studio(state).tasks


def provide_engine(state: State) -> Engine:
    return _studio(state).engine


def provide_models(state: State) -> ModelRegistry:
    return _studio(state).models


def provide_rooms(state: State) -> Rooms:
    return _studio(state).rooms


def provide_webhooks(state: State) -> WebhookDispatcher:
    return _studio(state).webhooks


def provide_login_throttle(state: State) -> LoginThrottle:
    return _studio(state).login_throttle


def provide_guest_limit(state: State) -> GuestLimit:
    return _studio(state).guest_limit


def provide_guest_welcome(state: State) -> GuestWelcome:
    return _studio(state).guest_welcome


def provide_account_deletion() -> AccountDeletion:
    return delete_account_whole


def provide_gpu(state: State) -> GpuProbe:
    return _studio(state).gpu


def provide_ui(state: State) -> WebUI:
    return _studio(state).ui


def provide_metrics(state: State) -> Registry:
    return _studio(state).metrics


def create_app(settings: Settings) -> Litestar:
    """Build the whole application from one Settings object; no globals, no import-time effects."""
    resolve_dependencies_in_order()
    studio = build_studio(settings)
    app = Litestar(
        route_handlers=[SystemController, AuthController, PeopleController, InvitesController, TokensController,
                        PreferencesController, WorkspacesController,
                        ProjectsController, PortabilityController, SamplesController, ScenesController,
                        HistoryController,
                        ProjectRolesController, AssetsController,
                        ActivityController, TasksController, QueueController, WebhooksController,
                        EngineController, ModelsController, QuotasController, AuditController, ServerController,
                        WorkflowsController, AccountPrivacyController, PeoplePrivacyController, RetentionController,
                        CommentsController, InboxController,
                        BoardController,
                        MasksController,
                        CompareController,
                        HandoffController,
                        scene_sync, project_presence, events, my_usage, my_quotas, metrics_page,
                        *docs_routes(), unknown_api_path, serve_ui],
        dependencies={
            "settings": Provide(provide_settings, sync_to_thread=False),
            "database": Provide(provide_database, sync_to_thread=False),
            "bus": Provide(provide_events, sync_to_thread=False),  # not "events": a body field of that name
            "blobs": Provide(provide_blobs, sync_to_thread=False),
            "tasks": Provide(provide_tasks, sync_to_thread=False),
            "engine": Provide(provide_engine, sync_to_thread=False),
            "models": Provide(provide_models, sync_to_thread=False),
            "rooms": Provide(provide_rooms, sync_to_thread=False),
            "webhooks": Provide(provide_webhooks, sync_to_thread=False),
            "login_throttle": Provide(provide_login_throttle, sync_to_thread=False),
            "guest_limit": Provide(provide_guest_limit, sync_to_thread=False),
            "guest_welcome": Provide(provide_guest_welcome, sync_to_thread=False),
            "account_deletion": Provide(provide_account_deletion, sync_to_thread=False),
            "gpu": Provide(provide_gpu, sync_to_thread=False),
            "ui": Provide(provide_ui, sync_to_thread=False),
            "metrics": Provide(provide_metrics, sync_to_thread=False),
            "identity": Provide(provide_identity, sync_to_thread=False),
            "maybe_identity": Provide(provide_optional_identity, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),  # who acts, for the audit log
        },
        middleware=[AuthMiddleware()],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=answer_options,
        openapi_config=openapi_config(),
        lifespan=[_lifespan(studio)],
        logging_config=LoggingConfig(
            root={"level": settings.log_level.upper(), "handlers": ["queue_listener"]},
            # The same look as uvicorn's own lines: "WARNING:  message".
            formatters={"standard": {"()": "uvicorn.logging.DefaultFormatter",
                                     "fmt": "%(levelprefix)s %(message)s"}},
            log_exceptions="debug",
        ),
        debug=False,
    )
    app.state.studio = studio
    app.state.allowed_methods = allowed_methods(app)
    # Outermost: the Host check and the security headers cover every answer, routed or not.
    app.asgi_handler = EdgeGuard(app.asgi_handler, HostPolicy(settings.allowed_hosts, settings.host),
                                 studio.ui.root / "index.html", HSTS_VALUE if settings.hsts else None)
    app.asgi_handler = RequestMetrics(app.asgi_handler, studio.metrics)  # outside the guard: its answers count
    if settings.access_log:  # outside the guard: refused requests are logged too
        app.asgi_handler = AccessLog(app.asgi_handler)
    return app
