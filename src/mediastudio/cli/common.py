"""Pieces shared by the CLI's commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict, Unpack

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from sqlmodel import Session
    from typer import _click

    from mediastudio.settings import Settings

def _without_flag_types(params: list[_click.Parameter]) -> list[_click.Parameter]:
    """A flag takes no value, so help shows no type after it (typer would print `<bool>`)."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        return _without_flag_types(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        return _without_flag_types(super().get_params(ctx))


class Typer(typer.Typer):
    """typer.Typer whose commands and groups print flags without a type in their help."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=Group, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)


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
    access_log: bool | None
    tls: bool | None
    tls_cert: Path | None
    tls_key: Path | None
    hsts: bool | None


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
