"""`mediastudio` — serve the studio, check the machine, print the API document."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mediastudio import __version__
from mediastudio.cli import backup, blobs, mode, models, projects, users
from mediastudio.cli.common import DataDir, Typer, build_settings

Queue = Annotated[str | None, typer.Option(
    "--queue", help="redis://HOST:PORT/N to share the task queue with `mediastudio worker` processes "
                    "(default: SQLite in the data folder; env MEDIASTUDIO_QUEUE_URL).")]
Host = Annotated[str | None, typer.Option(
    help="Address to listen on (default 127.0.0.1; 0.0.0.0 for your LAN; env MEDIASTUDIO_HOST).")]
Port = Annotated[int | None, typer.Option(help="Port to listen on (default 8750; env MEDIASTUDIO_PORT).")]
GpuWorkers = Annotated[int | None, typer.Option(help="Tasks run at once on the GPU lane here (default 1).")]
CpuWorkers = Annotated[int | None, typer.Option(help="Threads of the CPU lane here (default 2).")]

app = Typer(
    name="mediastudio",
    help="Mediastudio: a self-hostable generative media studio for film and video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

def _version(value: bool) -> None:
    if value:
        typer.echo(f"mediastudio {__version__}")
        raise typer.Exit()


app.add_typer(users.app, name="users")
app.add_typer(projects.app, name="projects")
app.add_typer(blobs.app, name="blobs")
app.add_typer(models.app, name="models")
app.command("mode")(mode.mode)
# Backups: one block, cli/backup.py.
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Mediastudio: a self-hostable generative media studio for film and video."""


@app.command()
def serve(
    host: Host = None,
    port: Port = None,
    data_dir: DataDir = None,
    open_browser: Annotated[bool | None, typer.Option(
        "--open/--no-open", help="Open the studio in a browser (default: when a desktop is present).",
    )] = None,
    queue: Queue = None,
    gpu_workers: GpuWorkers = None,
    cpu_workers: CpuWorkers = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", metavar="NAME",
        help="A host name the studio answers to, besides localhost and the --host address (repeatable; "
             "'*' for any; env MEDIASTUDIO_ALLOWED_HOSTS, comma-separated). Other names are refused, "
             "against DNS rebinding.")] = None,
    access_log: Annotated[bool, typer.Option(
        "--access-log", help="Log one line per HTTP request: method, path (never its query), status, duration, "
                             "client (env MEDIASTUDIO_ACCESS_LOG).")] = False,
    tls: Annotated[bool, typer.Option(
        "--tls", help="Serve HTTPS (TLS 1.3 only) with a certificate the studio makes for this machine's names and "
                      "addresses, kept in <data>/tls/; its SHA-256 fingerprint is printed at start "
                      "(env MEDIASTUDIO_TLS).")] = False,
    tls_cert: Annotated[Path | None, typer.Option(
        "--tls-cert", metavar="PATH", dir_okay=False,
        help="Serve HTTPS with your own PEM certificate (chain) instead; needs --tls-key.")] = None,
    tls_key: Annotated[Path | None, typer.Option(
        "--tls-key", metavar="PATH", dir_okay=False, help="The unencrypted PEM private key of --tls-cert.")] = None,
    hsts: Annotated[bool, typer.Option(
        "--hsts", help="Over HTTPS, send Strict-Transport-Security (a year): browsers then refuse plain HTTP to "
                       "this name (env MEDIASTUDIO_HSTS).")] = False,
) -> None:
    """Start the studio: web UI, API and generation queue in one process."""
    from mediastudio.server import run_server

    run_server(build_settings(host=host, port=port, data_dir=data_dir, queue_url=queue, gpu_workers=gpu_workers,
                              cpu_workers=cpu_workers, allowed_hosts=allowed_host or None,
                              access_log=access_log or None, tls=tls or None, tls_cert=tls_cert,
                              tls_key=tls_key, hsts=hsts or None), open_browser)


@app.command()
def worker(
    queue: Queue = None,
    data_dir: DataDir = None,
    gpu_workers: GpuWorkers = None,
    cpu_workers: CpuWorkers = None,
) -> None:
    """Run task workers for a studio whose queue is on Redis (this machine must see its data folder)."""
    from mediastudio.worker import run_worker

    settings = build_settings(queue_url=queue, data_dir=data_dir, gpu_workers=gpu_workers, cpu_workers=cpu_workers)
    if not settings.queue_url:
        raise typer.BadParameter("A worker needs the studio's Redis queue: --queue redis://HOST:PORT/N "
                                 "(a SQLite queue is served by `mediastudio serve` itself).")
    raise typer.Exit(run_worker(settings))


@app.command()
def doctor(host: Host = None, port: Port = None, data_dir: DataDir = None) -> None:
    """Check this machine as `serve` would use it (the same flags and MEDIASTUDIO_* variables): Python, torch and
    the GPU, disk, data folder, installed models, UI build, port."""
    from mediastudio.cli.doctor import run_checks

    failed = run_checks(build_settings(host=host, port=port, data_dir=data_dir), typer.echo)
    raise typer.Exit(1 if failed else 0)


@app.command()
def openapi(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
) -> None:
    """Print the OpenAPI document of this version's API (what /api/openapi.json serves)."""
    from mediastudio.cli.openapi import export_openapi

    text = export_openapi()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@app.command("nodes-doc")
def nodes_doc(
    out: Annotated[Path | None, typer.Option(help="Write to this file (docs/nodes.md) instead of standard output.")]
    = None,
) -> None:
    """Print the reference of the built-in node types (docs/nodes.md): ports, parameters, defaults and ranges."""
    from mediastudio.engine.nodes_doc import nodes_markdown

    text = nodes_markdown()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


def run() -> None:
    """Console-script entry point."""
    app()
