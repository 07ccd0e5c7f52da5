"""`mediastudio models …`: list, add (a local diffusers folder), pull (from the hub) and remove models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mediastudio.cli.common import DataDir, Typer, build_settings

if TYPE_CHECKING:
    from mediastudio.models.registry import ModelRegistry

app = Typer(help="Installed models (diffusers folders in the data folder).", no_args_is_help=True)


def _registry(data_dir: Path | None) -> ModelRegistry:
    from mediastudio.models.registry import ModelRegistry

    return ModelRegistry(build_settings(data_dir=data_dir).data_dir)


def _fail(exc: Exception) -> typer.Exit:
    detail = getattr(exc, "detail", None) or getattr(exc, "message", None) or str(exc)
    hint = getattr(exc, "hint", None)
    typer.echo(f"Error: {detail}" + (f"\nHint: {hint}" if hint else ""), err=True)
    return typer.Exit(1)


@app.command("list")
def list_models(data_dir: DataDir = None) -> None:
    """The installed models: name, kind, pipeline, size."""
    models = _registry(data_dir).list()
    if not models:
        typer.echo("No model installed. Add one: mediastudio models add PATH (or pull one when online: "
                   "mediastudio models pull REPO).")
        return
    for m in models:
        typer.echo(f"{m.name:<28} {m.kind:<15} {m.pipeline:<36} {m.size_bytes / 1e9:6.2f} GB"
                   f"{'  → ' + m.path if m.linked else ''}")


@app.command()
def add(
    path: Annotated[Path, typer.Argument(help="A diffusers folder (the one holding model_index.json)")],
    name: Annotated[str | None, typer.Option(help="Its name in the studio (default: the folder's)")] = None,
    data_dir: DataDir = None,
) -> None:
    """Register a local diffusers folder (linked, not copied)."""
    from mediastudio.errors import MediastudioError

    try:
        info = _registry(data_dir).add(path, name)
    except MediastudioError as exc:
        raise _fail(exc) from exc
    typer.echo(f"Added {info.name} ({info.kind}, {info.pipeline}) from {info.path}")


@app.command()
def pull(
    repo: Annotated[str, typer.Argument(help="A Hugging Face repo id, e.g. stabilityai/sd-turbo")],
    name: Annotated[str | None, typer.Option(help="Its name in the studio (default: the repo's)")] = None,
    revision: Annotated[str | None, typer.Option(help="A branch, tag or commit")] = None,
    data_dir: DataDir = None,
) -> None:
    """Download a diffusers model from the Hugging Face hub (needs the internet; run it again to go on with a
    download that stopped part way)."""
    from mediastudio.errors import MediastudioError, TaskFailed
    from mediastudio.models.pull import pull as download

    def show(step: int, total: int, message: str) -> None:
        typer.echo(f"\r{message}", nl=False)

    settings = build_settings(data_dir=data_dir)
    try:
        made = download(_registry(data_dir), repo, name, revision, show,
                        margin_bytes=settings.models_disk_margin_bytes)
    except (TaskFailed, MediastudioError) as exc:
        typer.echo("")
        raise _fail(exc) from exc
    typer.echo(f"\nInstalled {made}")


@app.command()
def remove(name: Annotated[str, typer.Argument(help="The model's name")], data_dir: DataDir = None) -> None:
    """Remove a model (a linked folder itself is left alone)."""
    from mediastudio.errors import MediastudioError

    try:
        info = _registry(data_dir).remove(name)
    except MediastudioError as exc:
        raise _fail(exc) from exc
    typer.echo(f"Removed {info.name}" + (" (its folder was left alone)" if info.linked else ""))
