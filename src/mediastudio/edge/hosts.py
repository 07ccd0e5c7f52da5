"""Which Host names this studio answers to (DNS rebinding defence).

A page on an attacker's name can make its name resolve to 127.0.0.1 (or a LAN address) after loading, and then
talk to the studio as "same origin". The browser still sends the attacker's name in `Host`, so answering only
known names closes that door. An IP literal in `Host` cannot be rebound (no DNS is involved), so the studio's
own addresses are fine; names must be listed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
# One DNS label or more, dots between; what a Host header may carry besides an IP literal.
NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_name(header: str | None) -> str | None:
    """The name in a Host header (lower case, no port, no brackets, no trailing dot); None when malformed."""
    value = (header or "").strip().lower()
    if value.startswith("["):
        name, bracket, port = value[1:].partition("]")
        if not bracket or not _is_ip(name) or (port and not re.fullmatch(r":\d{1,5}", port)):
            return None
        return name
    name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    name = name.rstrip(".")
    return name if NAME.match(name) else None


def machine_names() -> set[str]:
    """This machine's own names (`hostname`, `hostname.local` for mDNS); no DNS lookups, which can hang."""
    names: set[str] = set()
    try:
        hostname = socket.gethostname().lower().rstrip(".")
    except OSError:
        return names
    if hostname:
        names.add(hostname)
        names.add(f"{hostname.split('.')[0]}.local")
    return names


class HostPolicy:
    """Decides whether a request's Host names this studio."""

    def __init__(self, configured: Iterable[str], listen: str) -> None:
        listed = {n.strip().lower().rstrip(".").strip("[]") for n in configured if n.strip()}
        self.any = "*" in listed
        self.wildcard = listen.strip("[]") in WILDCARD_ADDRESSES
        self.names = listed | set(LOOPBACK_NAMES)
        if self.wildcard:
            self.names |= machine_names()
        else:
            self.names.add(listen.strip("[]").lower())

    def allows(self, name: str | None) -> bool:
        if name is None:
            return False
        if self.any or name in self.names:
            return True
        # Listening on every address: any of the machine's addresses (LAN, Docker's mapped ports) may be used.
        return self.wildcard and _is_ip(name)


def refusal(header: str | None, name: str | None) -> tuple[int, str, str]:
    """(status, detail, hint) of the answer to a request whose Host is not allowed."""
    if name is None:
        shown = (header or "")[:80]
        return (400, f"The Host header '{shown}' is missing or not a valid host name.",
                "Reach the studio by its address or a name its administrator allowed.")
    return (421, f"This studio does not answer to the name '{name}' (the request's Host header).",
            f"If '{name}' is how you reach this studio, allow it: start it with "
            f"`mediastudio serve --allowed-host {name}` (repeatable), or set MEDIASTUDIO_ALLOWED_HOSTS={name} "
            "(several names separated by commas).")
