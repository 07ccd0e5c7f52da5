"""`mediastudio projects …`: list, export, import and reindex projects from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mediastudio.cli.common import DataDir, Typer, open_database

app = Typer(help="List, export, import and reindex projects.", no_args_is_help=True)


@app.command("list")
def list_projects(data_dir: DataDir = None) -> None:
    """Every project of every workspace (trashed ones marked)."""
    from sqlmodel import col, select

    from mediastudio.projects.tables import Project

    with open_database(data_dir) as (session, _):
        rows = session.exec(select(Project).order_by(col(Project.updated_at).desc())).all()
        typer.echo(f"{'ID':<20} {'WORKSPACE':<20} {'STATE':<9} {'UPDATED (UTC)':<17} NAME")
        for p in rows:
            state = "trashed" if p.trashed_at else "archived" if p.archived else "active"
            typer.echo(f"{p.id:<20} {p.workspace_id:<20} {state:<9} {p.updated_at:%Y-%m-%d %H:%M} {p.name}")


@app.command()
def export(
    project_id: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the .msproj into.")] = Path("."),
    data_dir: DataDir = None,
) -> None:
    """Write a project, with its whole history and media, to one .msproj file."""
    from mediastudio.portability.service import export_to_file
    from mediastudio.storage.blobs import BlobStore

    with open_database(data_dir) as (session, settings):
        path = export_to_file(session, settings, BlobStore(settings.data_dir / "blobs"), None, project_id,
                              output.resolve())
    final = path.with_name(path.name.split("-", 2)[-1])
    path.replace(final)
    typer.echo(f"Exported to {final}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A .msproj file.")],
    workspace: Annotated[str, typer.Option(help="Workspace id to import into (see the UI or the API).")],
    data_dir: DataDir = None,
) -> None:
    """Recreate a project from a .msproj file, with identical history and media."""
    from mediastudio.portability.service import import_from
    from mediastudio.storage.blobs import BlobStore

    with open_database(data_dir) as (session, settings):
        project = import_from(session, settings, BlobStore(settings.data_dir / "blobs"), None, file,
                              workspace)
        typer.echo(f"Imported '{project.name}' as {project.id}")


@app.command()
def reindex(data_dir: DataDir = None) -> None:
    """Rebuild the project index from the project folders (the folders are the truth)."""
    from mediastudio.portability.service import reindex as rebuild

    with open_database(data_dir) as (session, settings):
        indexed, removed = rebuild(session, settings)
    typer.echo(f"Indexed {indexed} project(s); removed {removed} stale entr{'y' if removed == 1 else 'ies'}.")
