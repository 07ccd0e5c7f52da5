"""`GET /metrics`: the studio's series in the Prometheus text format, for this machine or an administrator.

Who may read them: a client on this machine (a loopback peer, and no proxy's forwarding header: a request a
local reverse proxy passes on is loopback at the socket, and it says so with X-Forwarded-For, Forwarded and
the like) or an administrator (an API token, `Authorization: Bearer …`, or a signed-in session).
auth/middleware.py resolves the caller on this path as on the API's.
"""

from __future__ import annotations

import ipaddress

from litestar import Request, Response, get
from litestar.types import Scope

from mediastudio.auth.identity import Identity, OptionalIdentityDep
from mediastudio.auth.middleware import METRICS_PATH
from mediastudio.errors import Forbidden, Unauthorized
from mediastudio.metrics.registry import MetricsDep

TEXT_FORMAT = "text/plain; version=0.0.4"  # Litestar adds "; charset=utf-8"
# Any of them means a proxy passed the request on (some set only the scheme or the host).
FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip", b"x-forwarded-host",
                                b"x-forwarded-proto"})


def from_this_machine(scope: Scope) -> bool:
    """True for a loopback peer that no proxy speaks for (a forwarding header means another client's request)."""
    if any(key.lower() in FORWARDING_HEADERS for key, _ in scope.get("headers", [])):
        return False
    client = scope.get("client")
    try:
        address = ipaddress.ip_address(client[0]) if client else None
    except ValueError:  # a name, not an address (a test client's): not this machine
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address is not None and address.is_loopback


def check_scraper(scope: Scope, identity: Identity | None) -> None:
    """Raise unless the caller may read the metrics (see the module's docstring)."""
    if from_this_machine(scope) or (identity is not None and identity.user.is_admin):
        return
    if identity is not None:
        raise Forbidden("Only administrators can read the metrics.",
                        hint="Scrape with an administrator's API token, or from the server's own machine.")
    raise Unauthorized("The metrics are for this machine and administrators.",
                       hint="Send an administrator's API token as 'Authorization: Bearer <token>' (Account → API "
                            "tokens), or scrape from the server's machine without a proxy in between.")


@get(METRICS_PATH, include_in_schema=False, media_type=TEXT_FORMAT)
async def metrics_page(request: Request, maybe_identity: OptionalIdentityDep, metrics: MetricsDep) -> Response[str]:
    """Every series of this process (metrics/registry.py renders them)."""
    check_scraper(request.scope, maybe_identity)
    return Response(await metrics.scrape(), media_type=TEXT_FORMAT, headers={"Cache-Control": "no-store"})
