"""Who a studio is for: the three setup modes and the sign-in switches each one sets.

The first administrator picks one at setup (or later, in Server settings or with `mediastudio mode`); picking a
mode sets both switches to its defaults, and each switch stays editable on its own afterwards.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import NamedTuple


class StudioMode(StrEnum):
    """`solo`: just me on this machine; `team`: my team on our network; `class`: a class or an open studio."""

    SOLO = "solo"
    TEAM = "team"
    CLASS = "class"


class Switches(NamedTuple):
    registration_open: bool
    guests_enabled: bool


MODE_SWITCHES: dict[StudioMode, Switches] = {
    # Nobody else reaches a loopback-only studio: no registration, no guests.
    StudioMode.SOLO: Switches(registration_open=False, guests_enabled=False),
    # People join by an invitation link or an account an administrator makes; no guests.
    StudioMode.TEAM: Switches(registration_open=False, guests_enabled=False),
    # Anyone who reaches it registers or tries it as a guest (within the guest quotas).
    StudioMode.CLASS: Switches(registration_open=True, guests_enabled=True),
}

MODE_TITLES: dict[StudioMode, str] = {
    StudioMode.SOLO: "Just me on this machine",
    StudioMode.TEAM: "My team on our network",
    StudioMode.CLASS: "A class or open studio",
}


def matches(mode: StudioMode | None, switches: Switches) -> bool:
    """Whether `switches` are what `mode` sets (False without a mode: the switches were set one by one)."""
    return mode is not None and MODE_SWITCHES[mode] == switches


def is_loopback(host: str) -> bool:
    """Whether listening on `host` serves this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: whatever it resolves to, others may reach it
