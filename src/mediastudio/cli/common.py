"""Pieces shared by the CLI's commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data folder (default: your user data folder; env MEDIASTUDIO_DATA_DIR).",
                 file_okay=False),
]


def build_settings(**overrides: object):  # type: ignore[no-untyped-def]
    """Settings from flags (None = not given) over the environment, with readable errors."""
    from pydantic import ValidationError

    from mediastudio.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(problems) from exc
