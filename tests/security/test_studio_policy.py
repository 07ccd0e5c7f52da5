"""Who the studio is for is the administrator's to decide: a mode the API does not know is refused before
anything is made, and nobody else may change the mode or the switches (a guest, a member, nobody at all)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from mediastudio.app import create_app
from mediastudio.settings import Settings
from support import TEST_CLIENT_HOST

PASSWORD = "copper lantern ninety"
HOSTILE_MODES: list[object] = ["everyone", "SOLO ", "", "solo\x00", "../class", 3, True, ["class"], {"mode": "class"},
                               "x" * 100_000]


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[TestClient]:
    """A studio on its own defaults: registration and guests closed."""
    settings = Settings(data_dir=tmp_path / "data", probe_gpu=False, allowed_hosts=[TEST_CLIENT_HOST],
                        registration_open=False, guests_enabled=False)
    with TestClient(create_app(settings)) as client:
        yield client


def _policy(client: TestClient) -> tuple[object, ...]:
    config = client.get("/api/v1/auth/config").json()
    return config["mode"], config["registration_open"], config["guests_enabled"]


@pytest.mark.parametrize("mode", HOSTILE_MODES, ids=lambda value: repr(value)[:20])
def test_a_mode_the_api_does_not_know_is_refused_at_setup_and_creates_no_administrator(
        studio: TestClient, mode: object) -> None:
    refused = studio.post("/api/v1/auth/setup", json={"username": "ana", "password": PASSWORD, "mode": mode})
    assert refused.status_code == 400, refused.text
    assert "mode" in refused.text
    assert studio.get("/api/v1/auth/config").json()["setup_required"] is True
    assert "ms_session" not in studio.cookies


def test_only_an_administrator_changes_who_the_studio_is_for(studio: TestClient) -> None:
    created = studio.post("/api/v1/auth/setup", json={"username": "ana", "password": PASSWORD, "mode": "class"})
    assert created.status_code == 201, created.text
    admin_csrf = {"X-CSRF-Token": studio.cookies["ms_csrf"]}
    for mode in HOSTILE_MODES:
        assert studio.patch("/api/v1/auth/config", json={"mode": mode}, headers=admin_csrf).status_code == 400
    assert _policy(studio) == ("class", True, True)
    studio.cookies.clear()

    assert studio.patch("/api/v1/auth/config", json={"mode": "solo"}).status_code == 401  # nobody
    for who in ("guest", "member"):
        if who == "guest":
            joined = studio.post("/api/v1/auth/guest")
        else:
            joined = studio.post("/api/v1/auth/register", json={"username": "bob", "password": PASSWORD})
        assert joined.status_code == 201, joined.text
        csrf = {"X-CSRF-Token": studio.cookies["ms_csrf"]}
        for change in ({"mode": "solo"}, {"registration_open": False}, {"guests_enabled": False},
                       {"mode": "team", "guests_enabled": True}):
            refused = studio.patch("/api/v1/auth/config", json=change, headers=csrf)
            assert refused.status_code == 403, (who, change, refused.text)
        studio.cookies.clear()
    assert _policy(studio) == ("class", True, True)
