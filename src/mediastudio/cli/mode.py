"""`mediastudio mode [solo|team|class]`: who the studio is for, from the shell (works while the server runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mediastudio.cli.common import DataDir, open_database

if TYPE_CHECKING:
    from mediastudio.auth.modes import StudioMode

MODE_HELP = ("solo, team or class. solo: just me on this machine (no registration, no guests); team: my team "
             "on our network (people join by invitation link or an account an administrator makes; no guests); "
             "class: a class or open studio (open registration, guests). Leave out to show the current choice.")


def mode(
    choice: Annotated[str | None, typer.Argument(metavar="MODE", help=MODE_HELP)] = None,
    data_dir: DataDir = None,
) -> None:
    """Show or choose who the studio is for; choosing sets registration and guests to that mode's defaults."""
    from mediastudio.audit.actions import Action
    from mediastudio.audit.record import COMMAND_LINE, Target, record
    from mediastudio.auth.modes import MODE_TITLES, StudioMode
    from mediastudio.auth.policy import get_policy, is_custom, policy_mode, update_policy

    picked: StudioMode | None = None
    if choice is not None:
        try:
            picked = StudioMode(choice.strip().lower())
        except ValueError:
            raise typer.BadParameter("pick one of: solo, team, class", param_hint="MODE") from None
    with open_database(data_dir) as (session, settings):
        policy = (update_policy(session, settings, registration_open=None, guests_enabled=None, mode=picked)
                  if picked else get_policy(session, settings))
        if picked:
            record(session, COMMAND_LINE, Action.SETTINGS_ACCESS,
                   Target("settings", "access", "Who is this studio for"),
                   {"after": {"mode": picked.value, "registration_open": policy.registration_open,
                              "guests_enabled": policy.guests_enabled}})
        current = policy_mode(policy)
        custom = is_custom(policy)
        registration, guests = policy.registration_open, policy.guests_enabled
    title = f"{current.value} ({MODE_TITLES[current]})" if current else "not chosen yet"
    changed = " — registration or guests changed since (custom)" if custom and current else ""
    typer.echo(f"{'Now for' if picked else 'For'}: {title}{changed}")
    typer.echo(f"Registration: {'open' if registration else 'closed (invitation links and admins add people)'}")
    typer.echo(f"Guests: {'on' if guests else 'off'}")
    if picked in (StudioMode.TEAM, StudioMode.CLASS):
        typer.echo("Others reach it when it is started with --host 0.0.0.0 (see: mediastudio serve --help).")

