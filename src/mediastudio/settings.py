"""Settings: built once (from CLI flags and MEDIASTUDIO_* environment variables) and passed down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from litestar.di import NamedDependency
from platformdirs import user_data_dir
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PORT = 8750


def default_data_dir() -> Path:
    """The platform's per-user data folder, e.g. ~/.local/share/mediastudio on Linux."""
    return Path(user_data_dir("mediastudio", appauthor=False))


class Settings(BaseSettings):
    """Everything the app needs to know about where it runs. Immutable once built."""

    model_config = SettingsConfigDict(env_prefix="MEDIASTUDIO_", frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(DEFAULT_PORT, ge=1, le=65535)
    data_dir: Path = Field(default_factory=default_data_dir)
    web_dist: Path | None = Field(
        None, description="Folder of the built UI; found next to the package when not set."
    )
    probe_gpu: bool = Field(True, description="Probe torch for CUDA/MPS in a subprocess at start.")
    log_level: str = "info"
    access_log: bool = Field(False, description="Log one line per HTTP request (method, path without its query, "
                                                "status, duration, client) to the server's log.")
    ws_compression: bool = Field(False, description=(
        "Offer per-message compression (permessage-deflate) on WebSockets. Off by default: a task event (1–2 KB) "
        "shrinks 4× or more, but each message then costs both ends a few tenths of a millisecond of CPU, on the "
        "way of every event and edit; worth it only for clients on slow links (docs/deploy.md)."))
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names (and addresses) this studio answers to, besides loopback names and the --host "
                    "address; requests naming any other Host are refused (DNS rebinding). '*' allows any.")

    # HTTPS (edge/tls.py, docs/deploy.md).
    tls: bool = Field(False, description="Serve HTTPS (TLS 1.3 only) with a certificate the studio makes for this "
                                         "machine's names and addresses, kept in <data>/tls/.")
    tls_cert: Path | None = Field(None, description="Serve HTTPS with this PEM certificate (chain) instead; needs "
                                                    "tls_key.")
    tls_key: Path | None = Field(None, description="The PEM private key of tls_cert (unencrypted).")
    hsts: bool = Field(False, description="Over HTTPS, send Strict-Transport-Security (a year): browsers then refuse "
                                          "plain HTTP to this name. Off by default.")

    # Accounts. The two switches below are first-run defaults, closed unless set: the administrator's choice of who
    # the studio is for (at setup, in Server settings or `mediastudio mode`) replaces them.
    registration_open: bool = Field(False, description="Anyone may register (until an administrator decides).")
    guests_enabled: bool = Field(False, description="'Try without an account' is offered (until an administrator "
                                                    "decides).")
    password_min_length: int = Field(8, ge=6, le=128)
    session_days: int = Field(30, ge=1, description="A browser session lasts this long unused.")
    live_recheck_seconds: float = Field(30.0, gt=0, le=3600, description="Open WebSockets check their caller's "
                                        "rights again this often (changes made through this server apply at once).")
    commit_window_s: float = Field(0.5, ge=0, le=60, description="Everyday edits made within this many seconds "
                                   "of each other go into one git commit (each is on disk, fsynced, before it is "
                                   "answered); 0 commits each at once. Saved versions are always committed at once.")
    cookie_secure: bool = Field(False, description="Mark cookies Secure (set when serving HTTPS).")
    guest_expiry_days: int = Field(7, ge=1, description="Guests idle this long are removed with their data.")
    guest_task_quota: int = Field(5, ge=0, description="Tasks a guest may have queued at once.")
    guests_per_ip_per_hour: int = Field(10, ge=1, description="Guest sandboxes one address may create per hour.")
    guest_imports: bool = Field(False, description="Guests may import .msproj files (off: only registered users).")
    guest_samples: bool = Field(True, description="A new guest's sandbox starts with a copy of each sample project "
                                "(examples/samples/).")

    # Rate limits (requests per minute) and the brute-force lock on logins.
    rate_limit_user_per_minute: int = Field(600, ge=1)
    rate_limit_ip_per_minute: int = Field(1200, ge=1)
    rate_limit_expensive_per_minute: int = Field(30, ge=1)
    login_max_failures: int = Field(10, ge=1, description="Failed logins per account and IP before a lock.")
    login_lockout_seconds: int = Field(900, ge=1)
    audit_retention_days: int = Field(365, ge=1, le=36500, description="Audit log entries (who did what, when, "
                                      "from where) older than this are removed.")
    # Retention: the first values of the spans an administrator edits together (privacy/retention.py).
    trash_days: int = Field(30, ge=1, le=36500, description="A project in the trash is purged after this many days.")
    task_history_days: int = Field(90, ge=1, le=36500, description="Finished tasks (and their files) older than "
                                   "this leave the task history.")
    export_days: int = Field(7, ge=1, le=365, description="A personal data export's archive is deleted this "
                             "many days after it is made.")
    auth_cache_seconds: float = Field(5.0, ge=0, le=60, description=(
        "How long a resolved session or token is remembered (0: never). Every change to a user, session or token "
        "made on this data folder forgets it at once; the time bounds only what nothing announces."))

    # Media.
    upload_max_bytes: int = Field(20 * 1024**3, ge=1, description="Largest single file accepted for upload.")
    max_image_pixels: int = Field(100_000_000, ge=1_000_000, description="Largest picture (width × height) "
                                  "accepted; larger ones are refused before they are decoded.")
    storage_quota_bytes: int = Field(0, ge=0, description="Media one registered user may add (uploads, imports, "
                                     "generated), in bytes; 0 = no limit.")
    guest_storage_quota_bytes: int = Field(2 * 1024**3, ge=0, description="Media one guest may add, in bytes; "
                                           "0 = no limit.")

    # Projects.
    import_max_bytes: int = Field(20 * 1024**3, ge=1024, description="Largest project file accepted for import.")
    import_max_blobs: int = Field(10_000, ge=1, description="Most media files one imported project may hold.")

    # Tasks.
    queue_url: str | None = Field(None, description="redis://HOST:PORT/N to share the queue with `mediastudio "
                                                     "worker` processes; default: SQLite in the data folder.")
    gpu_workers: int = Field(1, ge=0, le=16, description="Tasks run at once on the GPU lane in this process "
                                                          "(one per GPU; 0 = only workers elsewhere).")
    cpu_workers: int = Field(2, ge=0, le=64, description="Threads of the CPU lane (previews, exports) in this "
                                                          "process (0 = only workers elsewhere).")
    task_quota: int = Field(100, ge=1, description="Tasks a user may have waiting or running at once.")
    # The quotas below (and task_quota, guest_task_quota, the storage quotas) seed the per-role limits at the first
    # start; administrators change them in Server settings → Quotas afterwards (quotas/service.py).
    gpu_minutes_per_day: float = Field(0, ge=0, le=1_000_000, description="GPU minutes a registered user's runs "
                                       "may use per UTC day; 0 = no limit.")
    guest_gpu_minutes_per_day: float = Field(10, ge=0, le=1_000_000, description="GPU minutes a guest's runs may "
                                             "use per UTC day; 0 = no limit.")
    extra_task_kinds: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Python modules whose `register(kinds)` adds task kinds (plugins; the tests' sleep tasks). "
                    "Only an administrator sets this: the modules run inside the studio.")
    webhook_retry_seconds: float = Field(10.0, gt=0, description="First retry delay of a failed webhook "
                                                                 "delivery; each next one waits 4× longer.")
    webhook_max_attempts: int = Field(6, ge=1, le=20)
    webhook_allow_private: bool = Field(False, description="Allow webhook URLs on loopback/private addresses "
                                                           "(LAN automation); link-local is always refused.")

    # Generation.
    vram_budget_mb: int | None = Field(None, ge=256, description="GPU memory loaded models may use (default: 80% "
                                                                 "of the GPU); larger models run with CPU offload.")
    preload_models: bool = Field(True, description="Load the default model when the queue starts (first job fast).")
    models_catalog: Path | None = Field(None, description="A catalog of recommended models (JSON, the shape of "
                                        "mediastudio/models/catalog.json) to offer instead of the built-in one.")
    models_disk_margin_bytes: int = Field(2 * 1024**3, ge=0, description="Free disk a model download must leave "
                                          "beyond the model's own size.")

    @field_validator("queue_url", mode="after")
    @classmethod
    def _queue_url(cls, value: str | None) -> str | None:
        if value in (None, "", "sqlite"):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("the queue is SQLite (default) or redis://HOST:PORT/N")
        return value

    @field_validator("allowed_hosts", "extra_task_kinds", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        # MEDIASTUDIO_ALLOWED_HOSTS=studio.lan,192.168.1.20 (commas or spaces), as people write it; JSON works too.
        if isinstance(value, str):
            return json.loads(value) if value.lstrip().startswith("[") else value.replace(",", " ").split()
        return value

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("tls_cert", "tls_key", mode="after")
    @classmethod
    def _absolute_file(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("--tls-cert and --tls-key go together: the certificate and its private key")
        return self

    @property
    def https(self) -> bool:
        """The server itself speaks TLS (its own certificate or an administrator's)."""
        return self.tls or self.tls_cert is not None

    @property
    def database_path(self) -> Path:
        return self.data_dir / "mediastudio.sqlite"

    @property
    def public_url(self) -> str:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        if ":" in shown:
            shown = f"[{shown}]"
        return f"{'https' if self.https else 'http'}://{shown}:{self.port}/"


SettingsDep = NamedDependency[Settings]
