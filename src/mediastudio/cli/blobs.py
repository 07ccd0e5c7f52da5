"""`mediastudio blobs …`: check and tidy the media store."""

from __future__ import annotations

from typing import Annotated

import typer

from mediastudio.cli.common import DataDir, Typer, build_settings

app = Typer(help="Verify the media store and collect unreferenced media.", no_args_is_help=True)


@app.command()
def verify(data_dir: DataDir = None) -> None:
    """Re-hash every stored media file; exit 1 if any no longer matches its name."""
    from mediastudio.media.maintenance import verify_all
    from mediastudio.storage.blobs import BlobStore

    settings = build_settings(data_dir=data_dir)
    checked, damaged = verify_all(BlobStore(settings.data_dir / "blobs"))
    for sha in damaged:
        typer.echo(f"damaged: {sha}", err=True)
    typer.echo(f"Checked {checked} media file(s); {len(damaged)} damaged.")
    raise typer.Exit(1 if damaged else 0)


@app.command()
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be removed.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Remove media that no version of any project (the trash included) references."""
    from mediastudio.media.maintenance import collect_garbage
    from mediastudio.storage.blobs import BlobStore

    settings = build_settings(data_dir=data_dir)
    result = collect_garbage(settings.data_dir, BlobStore(settings.data_dir / "blobs"), dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    typer.echo(f"{verb} {len(result.removed)} unreferenced media file(s); {result.referenced} referenced; "
               f"{result.kept_young} kept because they are less than an hour old.")
