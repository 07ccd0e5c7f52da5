"""Pieces shared by the CLI's commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict, Unpack

import typer

if TYPE_CHECKING:
    from sqlmodel import Session

    from mediastudio.settings import Settings

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data folder (default: your user data folder; env MEDIASTUDIO_DATA_DIR).",
                 file_okay=False),
]


class SettingsFlags(TypedDict, total=False):
    """The settings a command takes as flags; None is a flag not given."""

    host: str | None
    port: int | None
    data_dir: Path | None
    queue_url: str | None
    gpu_workers: int | None
    cpu_workers: int | None
    allowed_hosts: list[str] | None


def build_settings(**flags: Unpack[SettingsFlags]) -> Settings:
    """Settings from flags (None = not given) over the environment, with readable errors."""
    from pydantic import ValidationError

    from mediastudio.settings import Settings

    given: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}  # Settings checks each value
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(problems) from exc


@contextmanager
def open_database(data_dir: Path | None) -> Iterator[tuple[Session, Settings]]:
    """The data folder's database in one transaction; our errors print as a message, exit 1."""
    from mediastudio.errors import MediastudioError
    from mediastudio.tables import open_database

    settings = build_settings(data_dir=data_dir)
    db = open_database(settings.database_path)
    try:
        with db.transaction() as session:
            yield session, settings
    except MediastudioError as exc:
        typer.echo(f"Error: {exc.detail}" + (f"\nHint: {exc.hint}" if exc.hint else ""), err=True)
        raise typer.Exit(1) from exc
    finally:
        db.close()
