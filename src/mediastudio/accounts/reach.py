"""What `mediastudio serve` says at start when where it listens does not fit who the studio is for."""

from __future__ import annotations

import shlex
from pathlib import Path

from mediastudio.accounts.users import count_registered
from mediastudio.auth.modes import MODE_TITLES, StudioMode, is_loopback
from mediastudio.auth.policy import get_policy, policy_mode
from mediastudio.db import Database
from mediastudio.settings import Settings, default_data_dir

SETTINGS_PLACE = "Server settings → Who is this studio for"


def in_container() -> bool:
    """Whether this process runs in a Docker (or Podman) container, where it must listen on 0.0.0.0 to be reached
    through a published port at all: who reaches it is then decided by how the port is published."""
    return Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()


def reach_warnings(host: str, mode: StudioMode | None, *, setup_required: bool, data_dir_flag: str = "",
                   container: bool = False) -> list[str]:
    """The lines to print (none when all is well). `data_dir_flag` is added to the commands suggested
    (" --data-dir PATH" when the studio is not in the default data folder). In a `container` the way to keep a
    studio to this machine is to publish its port on 127.0.0.1, not to leave out --host."""
    beyond = not is_loopback(host)
    keep = ("To keep it on this machine, publish its port on 127.0.0.1 only (docker run -p 127.0.0.1:8750:8750 …)."
            if container else "To keep it on this machine, start it without --host.")
    if beyond and setup_required:
        return [f"WARNING: no administrator exists yet and the studio listens on {host}, beyond this machine: the "
                f"first person on your network to open it becomes its administrator. Open it now and create the "
                f"administrator, or first run: mediastudio users create NAME --admin{data_dir_flag}"]
    if beyond and mode is StudioMode.SOLO:
        return [f"WARNING: this studio is set up for \"{MODE_TITLES[StudioMode.SOLO]}\" but listens on {host}: others "
                f"on your network can reach its login page, yet nobody can register or try it as a guest.",
                f"To open it to others, pick \"{MODE_TITLES[StudioMode.TEAM]}\" or \"{MODE_TITLES[StudioMode.CLASS]}\" "
                f"in {SETTINGS_PLACE}, or run: mediastudio mode team{data_dir_flag} (or: mediastudio mode "
                f"class{data_dir_flag}). {keep}"]
    if not beyond and mode in (StudioMode.TEAM, StudioMode.CLASS):
        assert mode is not None
        return [f"Note: this studio is for \"{MODE_TITLES[mode]}\" but listens on {host} only: nobody else can reach "
                f"it. Start it with --host 0.0.0.0 to serve your network."]
    return []


def studio_reach_warnings(database: Database, settings: Settings) -> list[str]:
    """`reach_warnings` for the studio on `database`, as `settings` serve it."""
    with database.transaction() as db:
        mode = policy_mode(get_policy(db, settings))
        setup_required = count_registered(db) == 0
    default = settings.data_dir == default_data_dir().expanduser().resolve()
    flag = "" if default else f" --data-dir {shlex.quote(str(settings.data_dir))}"
    return reach_warnings(settings.host, mode, setup_required=setup_required, data_dir_flag=flag,
                          container=in_container())
