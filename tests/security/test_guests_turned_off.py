"""Turning guests off stops guest access at once, and a guest keeps their sandbox as a real account only where
anyone could register.

Before, a guest who joined while guests were on kept working (API and open sockets) after the administrator
turned guests off or switched the studio to "my team", and could then make themselves a full account through
the claim path even though registration was closed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import websockets

from support import ApiClient, RunningServer, run_async, set_up_admin, start_server

PASSWORD = "copper lantern ninety"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("guests-off"))  # registration and guests open (the harness)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> ApiClient:
    return set_up_admin(server.url, "ana")


def _guest(server: RunningServer) -> ApiClient:
    guest = ApiClient(server.url)
    joined = guest.post("/api/v1/auth/guest")
    assert joined.status_code == 201, joined.text
    return guest


def _config(admin: ApiClient, **change: object) -> dict:
    changed = admin.patch("/api/v1/auth/config", json=change)
    assert changed.status_code == 200, changed.text
    return changed.json()


def test_turning_guests_off_signs_every_guest_out_and_closes_their_sockets(
        server: RunningServer, admin: ApiClient) -> None:
    _config(admin, mode="class")
    guests = [_guest(server) for _ in range(2)]
    for guest in guests:
        assert guest.get("/api/v1/auth/me").json()["user"]["is_guest"] is True
    url = server.url.replace("http://", "ws://") + "/api/v1/events"
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in guests[0].cookies.items())}

    async def scenario() -> int | None:
        async with websockets.connect(url, additional_headers=cookie, origin=server.url) as socket:
            await asyncio.sleep(0.2)  # connected and subscribed
            await asyncio.to_thread(_config, admin, mode="team")  # guests off
            try:
                async with asyncio.timeout(5):
                    while True:
                        await socket.recv()
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    assert run_async(scenario()) == 4401
    for guest in guests:
        gone = guest.get("/api/v1/auth/me")
        assert gone.status_code == 401, gone.text
        assert guest.get("/api/v1/projects").status_code == 401
    assert admin.get("/api/v1/auth/me").status_code == 200  # accounts are not touched
    # Nor may one come back as a guest, or keep the sandbox by registering while registration is closed.
    assert ApiClient(server.url).post("/api/v1/auth/guest").status_code == 403


def test_a_guest_keeps_their_sandbox_only_where_registration_is_open_or_with_an_invitation(
        server: RunningServer, admin: ApiClient) -> None:
    _config(admin, mode="class")
    guest = _guest(server)
    _config(admin, registration_open=False)  # guests stay on: a custom studio
    refused = guest.post("/api/v1/auth/register", json={"username": "gus", "password": PASSWORD})
    assert refused.status_code == 403, refused.text
    assert "invitation" in refused.json()["hint"]
    assert guest.get("/api/v1/auth/me").json()["user"]["is_guest"] is True  # still the guest it was

    secret = admin.post("/api/v1/admin/invites", json={"uses": 1, "days": 1}).json()["secret"]
    kept = guest.post("/api/v1/auth/register", json={"username": "gus", "password": PASSWORD, "invite": secret})
    assert kept.status_code == 201, kept.text
    assert kept.json()["user"]["is_guest"] is False and kept.json()["user"]["username"] == "gus"

    _config(admin, registration_open=True)
    other = _guest(server)
    assert other.post("/api/v1/auth/register", json={"username": "gia", "password": PASSWORD}).status_code == 201
