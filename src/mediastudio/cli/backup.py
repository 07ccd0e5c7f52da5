"""`mediastudio backup DEST` and `mediastudio restore SRC [TARGET]` (docs/backups.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mediastudio.cli.common import DataDir, build_settings

if TYPE_CHECKING:
    from mediastudio.backups.manifest import Manifest


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(1)


def _record(database: Path, action: str, manifest: Manifest, details: dict[str, object]) -> None:
    """An audit entry by the command line, in a transaction of its own (the backup writes no other row)."""
    from mediastudio.audit.actions import Action
    from mediastudio.audit.record import COMMAND_LINE, Target, record
    from mediastudio.tables import open_database

    db = open_database(database)
    try:
        with db.transaction() as session:
            record(session, COMMAND_LINE, Action(action), Target("backup", manifest.name, manifest.name),
                   {"projects": len(manifest.projects), "blobs": len(manifest.blobs), "models": manifest.models,
                    **details})
    finally:
        db.close()


def backup(
    dest: Annotated[Path, typer.Argument(help="Backup folder (made if missing; best on another disk). Each run adds "
                                              "a snapshot and copies only what the folder lacks.", file_okay=False)],
    models: Annotated[bool, typer.Option("--models", help="Also copy installed models (big; they can be "
                                                          "downloaded again).")] = False,
    data_dir: DataDir = None,
) -> None:
    """Write a consistent snapshot of the data folder into DEST; the studio may keep running."""
    import time

    from mediastudio.backups.manifest import BadBackup
    from mediastudio.backups.take import take_backup

    settings = build_settings(data_dir=data_dir)
    started = time.monotonic()
    try:
        taken = take_backup(settings.data_dir, dest.expanduser().resolve(), models=models)
    except BadBackup as exc:
        raise _fail(str(exc)) from exc
    manifest = taken.manifest
    _record(settings.database_path, "backup.create", manifest, {"copied_bytes": taken.copied_bytes})
    typer.echo(f"Snapshot {manifest.name}: {len(manifest.projects)} project(s) ({taken.bundles_made} bundled, "
               f"{taken.bundles_kept} unchanged), {len(manifest.blobs)} media file(s), {len(manifest.files)} "
               f"other file(s). Copied {taken.copied_files} new file(s), {taken.copied_bytes / 1e6:.1f} MB, "
               f"in {time.monotonic() - started:.1f} s.")
    for sha in taken.damaged_blobs:
        typer.echo(f"damaged (left out): {sha}; see `mediastudio blobs verify`", err=True)


def restore(
    source: Annotated[Path, typer.Argument(help="A backup folder written by `mediastudio backup`.",
                                           file_okay=False, exists=True)],
    target: Annotated[Path | None, typer.Argument(help="The data folder to rebuild (default: --data-dir).",
                                                  file_okay=False)] = None,
    snapshot: Annotated[str | None, typer.Option("--snapshot", help="The snapshot's name (default: the latest; "
                                                                    "--list shows them).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Restore over a folder that is not empty: it is moved "
                                                        "aside, never deleted. Stop the studio first.")] = False,
    list_only: Annotated[bool, typer.Option("--list", help="List the snapshots and exit.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Rebuild a data folder from a snapshot: checksums verified, histories checked, index rebuilt."""
    from mediastudio.backups.manifest import BadBackup, read_manifest, snapshot_names
    from mediastudio.backups.restore import build, check_target, put_in_place, staging_for

    source = source.resolve()
    if list_only:
        for name in snapshot_names(source):
            typer.echo(name)
        return
    folder = (target or build_settings(data_dir=data_dir).data_dir).expanduser().absolute()
    try:
        manifest = read_manifest(source, snapshot)
        check_target(folder, manifest, force=force)
        staging = staging_for(folder)
        try:
            build(source, manifest, staging)
            _reindex(staging, manifest)
        except BaseException:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
            raise
    except BadBackup as exc:
        raise _fail(str(exc)) from exc
    aside = put_in_place(staging, folder)
    typer.echo(f"Restored snapshot {manifest.name} (taken {manifest.created_at:%Y-%m-%d %H:%M} UTC by version "
               f"{manifest.version}) into {folder}: {len(manifest.projects)} project(s), {len(manifest.blobs)} "
               "media file(s)." + (f" What was there is now in {aside}." if aside else ""))


def _reindex(folder: Path, manifest: Manifest) -> None:
    """The project index made to agree with the restored folders (the database is a little older than they
    are), and the restore recorded in the restored studio's audit log."""
    from mediastudio.portability.service import reindex
    from mediastudio.settings import Settings
    from mediastudio.tables import open_database

    settings = Settings(data_dir=folder)
    db = open_database(settings.database_path)
    try:
        with db.transaction() as session:
            reindex(session, settings)
    finally:
        db.close()
    _record(settings.database_path, "backup.restore", manifest,
            {"snapshot_taken_at": manifest.created_at.isoformat(), "version": manifest.version})
