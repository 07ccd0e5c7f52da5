"""One HTTP POST of a delivery: to the pinned, checked address; no redirects, no proxies from the environment,
no connection reuse, the answer's body never read, one deadline for the whole exchange. Its outcome is said
in a few fixed words, never the network error itself (no port-scanner oracle)."""

from __future__ import annotations

import asyncio
import ssl

import httpx

from mediastudio.webhooks.targets import Refused, Resolver, pin, resolve

TIMEOUT_SECONDS = 10.0  # each of connect, write and read
DEADLINE_SECONDS = 15.0  # the whole exchange, however slowly a receiver drips its answer
COULD_NOT_CONNECT = "Could not connect to the receiver"
TIMED_OUT = "The receiver did not answer in time"
TLS_FAILED = "Could not set up TLS with the receiver (check its certificate)"
BROKEN_ANSWER = "The receiver's answer was not valid HTTP"


def new_client() -> httpx.AsyncClient:
    # No keep-alive: a pooled connection is keyed by the address, and two hooks on one address with
    # different host names must not share one (its TLS was checked for the other name).
    return httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False,
                             limits=httpx.Limits(max_keepalive_connections=0))


async def post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], *,
               allow_private: bool, resolver: Resolver = resolve) -> tuple[int | None, str | None]:
    """(status, error): error is None when the receiver answered 2xx."""
    try:
        target = await asyncio.to_thread(pin, url, allow_private, resolver)
    except Refused as exc:
        return None, str(exc)
    try:
        status = await asyncio.wait_for(_exchange(client, target.url, body, {**headers, "Host": target.host_header},
                                                  target.extensions), DEADLINE_SECONDS)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # refused, unreachable or silent: one answer
        return None, TLS_FAILED if _tls_trouble(exc) else COULD_NOT_CONNECT
    except (TimeoutError, httpx.TimeoutException):
        return None, TIMED_OUT
    except httpx.HTTPError:
        return None, BROKEN_ANSWER
    return status, None if 200 <= status < 300 else f"The receiver answered {status}"


def _tls_trouble(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


async def _exchange(client: httpx.AsyncClient, url: httpx.URL, body: bytes, headers: dict[str, str],
                    extensions: dict[str, object]) -> int:
    async with client.stream("POST", url, content=body, headers=headers, extensions=extensions) as response:
        return response.status_code  # leaving the block closes the connection, body unread
