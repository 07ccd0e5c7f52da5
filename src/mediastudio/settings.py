"""Settings: built once (from CLI flags and MEDIASTUDIO_* environment variables) and passed down."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def database_path(self) -> Path:
        return self.data_dir / "mediastudio.sqlite"

    @property
    def public_url(self) -> str:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{self.port}/"
