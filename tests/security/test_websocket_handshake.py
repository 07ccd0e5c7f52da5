"""WebSocket handshakes on a real server: a bad token closes with 4401 (after accept, so a browser's script
sees the code), and a socket opened by another site's page with the visitor's cookie closes with 4403."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import websockets

from support import ApiClient, RunningServer, run_async, set_up_admin, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("ws-handshake"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url)


@pytest.fixture(scope="module")
def paths(admin: ApiClient) -> list[str]:
    project = admin.post("/api/v1/projects", json={"name": "Sockets"}).json()
    scene = admin.get(f"/api/v1/projects/{project['id']}/scenes").json()["items"][0]
    return ["/api/v1/events", f"/api/v1/projects/{project['id']}/scenes/{scene['id']}/sync",
            f"/api/v1/projects/{project['id']}/presence"]


def _cookie(client: ApiClient) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}


def _open(server: RunningServer, path: str, headers: dict[str, str] | None = None,
          subprotocols: list[str] | None = None, origin: str | None = None) -> tuple[str, int | None, str]:
    """('open', None, subprotocol) when the socket works (it answered or stayed open), else
    ('closed', code, reason); a refused handshake answers ('refused', HTTP status, '')."""
    async def attempt() -> tuple[str, int | None, str]:
        url = server.url.replace("http://", "ws://") + path
        try:
            async with websockets.connect(url, additional_headers=headers or {}, origin=origin,  # type: ignore[arg-type]
                                          subprotocols=subprotocols) as socket:  # type: ignore[arg-type]
                try:
                    await asyncio.wait_for(socket.recv(decode=False), 5)  # every socket greets on joining
                    return "open", None, socket.subprotocol or ""
                except websockets.ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else None
                    return "closed", code, (closed.rcvd.reason if closed.rcvd else "") + f"|{socket.subprotocol}"
        except websockets.InvalidStatus as refused:
            return "refused", refused.response.status_code, ""

    return run_async(attempt())


def test_a_bad_token_closes_with_4401_and_a_reason(server: RunningServer, paths: list[str]) -> None:
    for path in paths:
        state, code, reason = _open(server, path, headers={"Authorization": "Bearer ms_not_a_real_token"})
        assert (state, code) == ("closed", 4401), (path, state, code)
        assert "token" in reason.lower()


def test_a_bad_token_in_the_subprotocol_closes_with_4401_and_echoes_it(server: RunningServer,
                                                                      paths: list[str]) -> None:
    # A browser that offered a subprotocol fails a socket accepted without one (no close code reaches it).
    for path in paths:
        state, code, reason = _open(server, path, subprotocols=["bearer.ms_not_a_real_token"])
        assert (state, code) == ("closed", 4401), (path, state, code)
        assert reason.endswith("|bearer.ms_not_a_real_token")


@pytest.mark.parametrize("origin", ["http://attacker.example", "null"])
def test_a_cookie_socket_from_another_site_closes_with_4403(server: RunningServer, admin: ApiClient,
                                                            paths: list[str], origin: str) -> None:
    for path in paths:
        state, code, _ = _open(server, path, headers=_cookie(admin), origin=origin)
        assert (state, code) == ("closed", 4403), (path, state, code)


def _admitted(result: tuple[str, int | None, str]) -> bool:
    """The edge let the socket through to its handler (what the handler does next is its own business)."""
    state, code, _ = result
    return state == "open" or (state == "closed" and code not in (4401, 4403, 4421))


def test_the_studios_own_pages_scripts_and_tokens_still_connect(server: RunningServer, admin: ApiClient,
                                                                paths: list[str]) -> None:
    token = admin.post("/api/v1/auth/tokens", json={"name": "ws"}).json()["token"]
    for path in paths:
        assert _admitted(_open(server, path, headers=_cookie(admin), origin=server.url)), path
        assert _admitted(_open(server, path, headers=_cookie(admin))), path  # no Origin: not a browser
        # A token is never sent by a browser on its own: another origin may use one.
        assert _admitted(_open(server, path, subprotocols=[f"bearer.{token}"], origin="http://tool.example")), path
