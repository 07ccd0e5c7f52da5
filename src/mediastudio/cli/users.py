"""`mediastudio users …`: manage accounts from the shell (works while the server runs)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlmodel import Session

    from mediastudio.auth.tables import User

from mediastudio.cli.common import DataDir, Typer, open_database

app = Typer(help="Create and manage user accounts.", no_args_is_help=True)

PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _record(session: Session, action: str, user: User, details: dict[str, object] | None = None) -> None:
    """An audit log entry by the command line, in the command's transaction."""
    from mediastudio.audit.actions import Action
    from mediastudio.audit.record import COMMAND_LINE, Target, record

    record(session, COMMAND_LINE, Action(action), Target.user(user), details)


def _user(session: Session, name: str) -> User:
    from mediastudio.accounts.users import find_user

    user = find_user(session, name)
    if user is None or user.is_guest:
        typer.echo(f"Error: no user is named '{name}'. See: mediastudio users list", err=True)
        raise typer.Exit(1)
    return user


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="Username: 3–32 characters, a–z 0–9 . _ -")],
    admin: Annotated[bool, typer.Option("--admin", help="Make this user an administrator.")] = False,
    display_name: Annotated[str | None, typer.Option(help="Name shown to others.")] = None,
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None,
) -> None:
    """Create a user (the password is prompted for, never echoed)."""
    from mediastudio.accounts.users import create_user

    password = _password(password_stdin)
    with open_database(data_dir) as (session, settings):
        user = create_user(session, username=name, password=password, display_name=display_name,
                           is_admin=admin, min_length=settings.password_min_length)
        _record(session, "user.create", user, {"via": "command_line", "is_admin": admin})
    typer.echo(f"Created {'administrator' if admin else 'user'} '{user.username}'.")


@app.command("list")
def list_users(data_dir: DataDir = None) -> None:
    """List registered users (guests are not listed)."""
    from mediastudio.accounts.users import list_users as all_users

    with open_database(data_dir) as (session, _):
        rows = all_users(session)
    typer.echo(f"{'USERNAME':<24} {'DISPLAY NAME':<28} {'ROLE':<6} {'STATE':<9} LAST SEEN (UTC)")
    for user in rows:
        typer.echo(f"{user.username:<24} {user.display_name[:28]:<28} {'admin' if user.is_admin else 'user':<6} "
                   f"{'disabled' if user.disabled else 'active':<9} {user.last_seen_at:%Y-%m-%d %H:%M}")
    if not rows:
        typer.echo("(no users yet: mediastudio users create NAME --admin)")


@app.command("set-password")
def set_password(name: str, password_stdin: PasswordStdin = False, data_dir: DataDir = None) -> None:
    """Set a user's password; their browser sessions end."""
    from mediastudio.accounts.users import set_password as change

    password = _password(password_stdin)
    with open_database(data_dir) as (session, settings):
        user = _user(session, name)
        change(session, user, password, min_length=settings.password_min_length)
        _record(session, "user.password_reset", user)
    typer.echo(f"Password of '{name.lower()}' changed; their sessions were ended.")


@app.command()
def disable(
    name: str,
    enable: Annotated[bool, typer.Option("--enable", help="Enable the account again.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Disable an account (it cannot log in; its sessions end), or enable it again."""
    from mediastudio.accounts.users import set_disabled

    with open_database(data_dir) as (session, _):
        user = _user(session, name)
        set_disabled(session, user, not enable)
        _record(session, "user.enable" if enable else "user.disable", user)
    typer.echo(f"'{name.lower()}' is {'enabled' if enable else 'disabled'}.")


@app.command()
def delete(
    name: str,
    transfer_to: Annotated[str | None, typer.Option(
        "--transfer-to", help="Hand every project they own alone to this user (moved into their personal "
                              "workspace); without it those projects are deleted with the account.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Delete an account: its sessions and tokens end; the projects only they are in are handed on or deleted."""
    from mediastudio.audit.record import COMMAND_LINE
    from mediastudio.privacy.deletion import delete_account_whole

    if not yes:
        fate = f"hand the projects they own alone to '{transfer_to}'" if transfer_to else \
            "delete the projects only they are in"
        typer.confirm(f"Delete '{name}' and {fate}?", abort=True)
    with open_database(data_dir) as (session, settings):
        user = _user(session, name)
        heir = _user(session, transfer_to) if transfer_to else None
        done = delete_account_whole(session, settings, COMMAND_LINE, user, to=heir, via="command_line")
    typer.echo(f"Deleted '{name.lower()}' ({len(done.transferred)} project(s) handed on, "
               f"{len(done.deleted)} deleted).")
