"""Where a webhook may be sent. One parser (httpx's, the one that sends) reads the URL; the host is read the
way the OS resolver reads it (2852039166, 0xa9fea9fe, 0251.0376.0251.0376 and 127.1 are all IPv4 addresses
to it); every address a name resolves to is checked; and a delivery connects to the checked address itself,
so a name cannot resolve to a public address for the check and to a private one for the connection."""

from __future__ import annotations

import concurrent.futures
import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from mediastudio.errors import Unprocessable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

MAX_URL = 2048
SIGNATURE_HEADER = "X-Mediastudio-Signature"
ALLOW_PRIVATE_SETTING = "MEDIASTUDIO_WEBHOOK_ALLOW_PRIVATE"
NEVER = "link-local, multicast and reserved addresses are never webhook targets"
PRIVATE = (f"this server does not send webhooks to private or loopback addresses; ask the administrator to set "
           f"{ALLOW_PRIVATE_SETTING}=true for LAN targets")
# What a delivery log says of a refused address: the same words whatever the address is, so the log tells
# nobody which private hosts or ports exist.
REFUSED = "Not sent: the receiver's address is not one this server sends webhooks to"
UNRESOLVED = "Not sent: the receiver's host name does not resolve"
# Registration looks the name up to explain a refusal early; a resolver that hangs does not hold the request.
REGISTRATION_LOOKUP_SECONDS = 3.0

# Always refused, besides what `ipaddress` calls link-local, multicast, unspecified or reserved:
# 0.0.0.0/8 ("this network"; Linux connects 0.0.0.0 to itself), Teredo (tunnels to an IPv4 address it hides),
# NAT64's local-use prefix (an operator's translator, where the IPv4 part can sit anywhere).
_NEVER_NETWORKS = [ipaddress.ip_network(n) for n in ("0.0.0.0/8", "2001::/32", "64:ff9b:1::/48")]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, yet routed inside sites; `ipaddress` calls it global
_LOCALHOST_NAMES = ("localhost", "localhost.")
_HOST_CHARACTERS = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]+")


class Refused(Exception):
    """A delivery that must not be sent: the message is what its log says."""


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form reaches: IPv4-mapped (::ffff:a.b.c.d), 6to4 (2002::/16), NAT64 (64:ff9b::/96)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: Address, allow_private: bool) -> str | None:
    """Why `address` is no webhook target (None: it is one). Forms that carry an IPv4 address are judged by it."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return address_problem(inner, allow_private)
    never = (address.is_link_local or address.is_multicast or address.is_unspecified or address.is_reserved
             or any(address in net for net in _NEVER_NETWORKS if net.version == address.version))
    if never and not address.is_loopback:  # `ipaddress` files ::1 under reserved (::/8); it is loopback
        return NEVER
    public = address.is_global and not (address.version == 6 and address in _SITE_LOCAL)
    if not public and not allow_private:
        return PRIVATE
    return None


def numeric_host(host: str) -> Address | None:
    """The address `host` names without a DNS query, read as the OS resolver reads it (inet_aton's odd IPv4
    forms, IPv6 literals), one trailing dot ignored; None for a name."""
    bare = host[:-1] if host.endswith(".") else host
    try:
        infos = socket.getaddrinfo(bare, None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(infos[0][4][0])


def resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host:port (TCP)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def parse(url: str) -> httpx.URL:
    """The URL as httpx will send it, if it is a well-formed http(s) webhook URL; a 400 naming the problem."""
    if len(url) > MAX_URL:
        raise Unprocessable(f"The URL is longer than {MAX_URL} characters.", field="url")
    try:
        split = urlsplit(url)
        split_port = split.port
    except ValueError as exc:
        raise Unprocessable("The URL's port is not a number between 1 and 65535.", field="url") from exc
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise Unprocessable("This is not a valid URL.", hint="For example https://hooks.example.com/mediastudio",
                         field="url") from exc
    if parsed.scheme not in ("http", "https"):
        raise Unprocessable("A webhook URL starts with http:// or https://.", field="url")
    if not parsed.host:
        raise Unprocessable("The webhook URL has no host name.", field="url")
    if parsed.userinfo:
        raise Unprocessable("Put no user name or password in the URL; check the signature header instead.",
                         hint=f"Each delivery is signed with your secret in {SIGNATURE_HEADER}.", field="url")
    if parsed.fragment:
        raise Unprocessable("A webhook URL has no #fragment.", field="url")
    default = 443 if parsed.scheme == "https" else 80
    port = default if parsed.port is None else parsed.port
    if not 1 <= port <= 65535 or (default if split_port is None else split_port) != port:
        raise Unprocessable("The URL's port is not a number between 1 and 65535.", field="url")
    # The host as it goes on the wire (IDNA-encoded): letters, digits, dots, dashes, underscores, or an IPv6
    # literal; no %-escapes (IPv6 zones), spaces or other characters that resolvers might read differently.
    if not _HOST_CHARACTERS.fullmatch(parsed.raw_host.decode("ascii", "replace").lower()):
        raise Unprocessable("The URL's host name is not valid.", field="url")
    return parsed


def _lookup_problem(host: str, port: int, allow_private: bool) -> str | None:
    """At registration: a name that resolves now to a refused address is refused; one that does not
    resolve (yet) is accepted, since every delivery checks again."""
    if host in _LOCALHOST_NAMES or host.rstrip(".").endswith(".localhost"):
        return address_problem(ipaddress.ip_address("127.0.0.1"), allow_private)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        addresses = pool.submit(resolve, host, port).result(timeout=REGISTRATION_LOOKUP_SECONDS)
    except (OSError, UnicodeError, ValueError, concurrent.futures.TimeoutError):
        return None
    finally:
        pool.shutdown(wait=False)
    problems = (address_problem(ipaddress.ip_address(a), allow_private) for a in addresses)
    return next((p for p in problems if p), None)


def check_url(url: str, allow_private: bool) -> str:
    """The URL, if it is an acceptable webhook target; a 400 naming what is wrong otherwise."""
    url = url.strip()
    parsed = parse(url)
    host = parsed.raw_host.decode("ascii")
    address = numeric_host(host)
    if address is not None:
        problem = address_problem(address, allow_private)
    else:
        problem = _lookup_problem(host, parsed.port or (443 if parsed.scheme == "https" else 80), allow_private)
    if problem:
        raise Unprocessable(f"Refused: {problem}.", field="url",
                         hint=f"An administrator can allow LAN targets with {ALLOW_PRIVATE_SETTING}=true; "
                              "link-local and metadata addresses stay refused." if problem == PRIVATE else None)
    return url


@dataclass(frozen=True)
class Pinned:
    """A request to the checked address that still names the original host (Host header, TLS SNI and
    certificate check), so that nothing resolves the name a second time."""

    url: httpx.URL
    host_header: str
    extensions: dict[str, Any] = field(default_factory=dict)


def pin(url: str, allow_private: bool, resolver: Resolver = resolve) -> Pinned:
    """Resolve the URL's host once, check every address it resolves to, and aim the request at the first."""
    try:
        parsed = parse(url)
    except Unprocessable as exc:
        raise Refused(f"Not sent: {exc.detail}") from exc
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    numeric = numeric_host(host)
    try:
        addresses = [numeric] if numeric is not None else [ipaddress.ip_address(a) for a in resolver(host, port)]
    except (OSError, UnicodeError, ValueError) as exc:
        raise Refused(UNRESOLVED) from exc
    if not addresses:
        raise Refused(UNRESOLVED)
    if any(address_problem(a, allow_private) for a in addresses):
        raise Refused(REFUSED)
    extensions = {"sni_hostname": host.rstrip(".")} if parsed.scheme == "https" else {}
    return Pinned(parsed.copy_with(host=str(addresses[0])), parsed.netloc.decode("ascii"), extensions)
