"""Who the studio is for: the setup modes and the switches they set, the safe defaults of a new studio, and what
`mediastudio serve` prints when where it listens does not fit the mode (accounts/reach.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from mediastudio.accounts.reach import reach_warnings
from mediastudio.app import create_app
from mediastudio.auth.modes import StudioMode, is_loopback
from mediastudio.settings import Settings
from mediastudio.tables import open_database
from support import TEST_CLIENT_HOST

PASSWORD = "copper lantern ninety"
SWITCHES = ("MEDIASTUDIO_REGISTRATION_OPEN", "MEDIASTUDIO_GUESTS_ENABLED")


@pytest.fixture
def defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A studio on its own defaults (whatever the environment running the tests says)."""
    for name in SWITCHES:
        monkeypatch.delenv(name, raising=False)
    return Settings(data_dir=tmp_path / "data", probe_gpu=False, allowed_hosts=[TEST_CLIENT_HOST])


def _studio(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def fresh(defaults: Settings) -> Iterator[TestClient]:
    yield from _studio(defaults)


def _set_up(client: TestClient, **extra: object) -> dict[str, str]:
    response = client.post("/api/v1/auth/setup", json={"username": "ana", "password": PASSWORD, **extra})
    assert response.status_code == 201, response.text
    return {"X-CSRF-Token": client.cookies["ms_csrf"]}


def _config(client: TestClient) -> dict[str, object]:
    response = client.get("/api/v1/auth/config")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _switches(config: dict[str, object]) -> tuple[object, ...]:
    return config["mode"], config["registration_open"], config["guests_enabled"], config["custom"]


def test_a_new_studio_on_its_defaults_refuses_registration_and_guests(fresh: TestClient) -> None:
    config = _config(fresh)
    assert (config["registration_open"], config["guests_enabled"], config["mode"]) == (False, False, None)
    _set_up(fresh)  # an API script: no mode, so the settings' closed switches stand
    fresh.cookies.clear()
    refused = fresh.post("/api/v1/auth/register", json={"username": "bob", "password": PASSWORD})
    assert refused.status_code == 403
    assert "closed" in refused.json()["detail"] and "administrator" in refused.json()["hint"]
    guest = fresh.post("/api/v1/auth/guest")
    assert guest.status_code == 403
    assert "turned off" in guest.json()["detail"] and "administrator" in guest.json()["hint"]
    assert _switches(_config(fresh)) == (None, False, False, True)  # no mode picked: "custom"


@pytest.mark.parametrize(("mode", "registration", "guests"), [
    ("solo", False, False), ("team", False, False), ("class", True, True)])
def test_setup_with_a_mode_sets_its_switches_whatever_the_settings_say(
        tmp_path: Path, mode: str, registration: bool, guests: bool) -> None:
    for opened in (True, False):
        settings = Settings(data_dir=tmp_path / f"data-{opened}", probe_gpu=False, allowed_hosts=[TEST_CLIENT_HOST],
                            registration_open=opened, guests_enabled=opened)
        for client in _studio(settings):
            _set_up(client, mode=mode)
            assert _switches(_config(client)) == (mode, registration, guests, False)


def test_setup_without_a_mode_keeps_what_the_settings_say(client: TestClient) -> None:
    _set_up(client)  # the tests' settings open both
    assert _switches(_config(client)) == (None, True, True, True)


def test_an_administrator_changes_the_mode_and_then_each_switch(fresh: TestClient) -> None:
    csrf = _set_up(fresh, mode="solo")
    changed = fresh.patch("/api/v1/auth/config", json={"mode": "class"}, headers=csrf)
    assert changed.status_code == 200, changed.text
    assert _switches(changed.json()) == ("class", True, True, False)
    custom = fresh.patch("/api/v1/auth/config", json={"guests_enabled": False}, headers=csrf).json()
    assert _switches(custom) == ("class", True, False, True)  # the mode stays; the UI says "custom"
    back = fresh.patch("/api/v1/auth/config", json={"mode": "team"}, headers=csrf).json()
    assert _switches(back) == ("team", False, False, False)  # a mode re-applies its defaults
    both = fresh.patch("/api/v1/auth/config", json={"mode": "team", "registration_open": True}, headers=csrf).json()
    assert _switches(both) == ("team", True, False, True)  # switches sent beside a mode go over its defaults
    assert fresh.patch("/api/v1/auth/config", json={"mode": "open"}, headers=csrf).status_code == 400


def test_only_administrators_change_the_mode(fresh: TestClient) -> None:
    csrf = _set_up(fresh, mode="class")
    fresh.cookies.clear()
    assert fresh.patch("/api/v1/auth/config", json={"mode": "solo"}).status_code == 401
    user = fresh.post("/api/v1/auth/register", json={"username": "bob", "password": PASSWORD})
    assert user.status_code == 201, user.text
    refused = fresh.patch("/api/v1/auth/config", json={"mode": "solo"},
                          headers={"X-CSRF-Token": fresh.cookies["ms_csrf"]})
    assert refused.status_code == 403 and "administrators" in refused.json()["detail"]
    assert _switches(_config(fresh)) == ("class", True, True, False)
    assert csrf  # the administrator's session was another one


def test_an_invitation_link_registers_while_registration_is_closed(fresh: TestClient) -> None:
    csrf = _set_up(fresh, mode="team")
    invite = fresh.post("/api/v1/admin/invites", json={"uses": 1, "days": 1}, headers=csrf)
    assert invite.status_code == 201, invite.text
    fresh.cookies.clear()
    body = {"username": "bob", "password": PASSWORD}
    assert fresh.post("/api/v1/auth/register", json=body).status_code == 403
    joined = fresh.post("/api/v1/auth/register", json={**body, "invite": invite.json()["secret"]})
    assert joined.status_code == 201, joined.text


def test_the_config_says_whether_the_server_listens_beyond_this_machine(defaults: Settings) -> None:
    for client in _studio(defaults):
        assert _config(client)["listens_beyond_loopback"] is False
    # Built in process only: nothing listens on 0.0.0.0 here.
    for client in _studio(defaults.model_copy(update={"host": "0.0.0.0"})):
        assert _config(client)["listens_beyond_loopback"] is True


def test_a_database_made_before_modes_gets_the_column_and_keeps_its_switches(tmp_path: Path) -> None:
    path = tmp_path / "mediastudio.sqlite"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE auth_policy (id INTEGER PRIMARY KEY, registration_open BOOLEAN NOT NULL, "
                    "guests_enabled BOOLEAN NOT NULL)")
        old.execute("INSERT INTO auth_policy VALUES (1, 1, 1)")
    open_database(path).close()
    with sqlite3.connect(path) as upgraded:
        assert upgraded.execute("SELECT registration_open, guests_enabled, mode FROM auth_policy").fetchall() == [
            (1, 1, None)]


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("studio.lan", False)])
def test_which_hosts_serve_this_machine_only(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_warns_plainly_when_a_solo_studio_listens_beyond_this_machine() -> None:
    lines = reach_warnings("0.0.0.0", StudioMode.SOLO, setup_required=False, data_dir_flag=" --data-dir /srv/ms")
    text = "\n".join(lines)
    assert lines[0].startswith("WARNING:") and "Just me on this machine" in text and "0.0.0.0" in text
    assert "Server settings → Who is this studio for" in text  # the admin page's control
    assert "mediastudio mode team --data-dir /srv/ms" in text  # the command
    assert reach_warnings("192.168.1.20", StudioMode.SOLO, setup_required=False)  # any address beyond loopback


def test_in_a_container_the_warning_says_to_publish_the_port_on_loopback() -> None:
    """A container listens on 0.0.0.0 to be reached at all (the image's command does): the way to keep a solo
    studio to this machine there is how its port is published, not leaving out --host."""
    text = "\n".join(reach_warnings("0.0.0.0", StudioMode.SOLO, setup_required=False, container=True))
    assert "-p 127.0.0.1:8750:8750" in text and "without --host" not in text
    assert "without --host" in "\n".join(reach_warnings("0.0.0.0", StudioMode.SOLO, setup_required=False))


def test_serve_warns_when_nobody_has_set_up_a_studio_others_can_reach() -> None:
    [line] = reach_warnings("0.0.0.0", None, setup_required=True)
    assert "first person" in line and "mediastudio users create NAME --admin" in line


def test_serve_notes_that_a_team_studio_on_loopback_is_out_of_others_reach() -> None:
    [line] = reach_warnings("127.0.0.1", StudioMode.TEAM, setup_required=False)
    assert "My team on our network" in line and "--host 0.0.0.0" in line


@pytest.mark.parametrize(("host", "mode"), [
    ("127.0.0.1", StudioMode.SOLO), ("127.0.0.1", None), ("0.0.0.0", StudioMode.TEAM), ("0.0.0.0", StudioMode.CLASS),
    ("0.0.0.0", None)])
def test_serve_says_nothing_when_where_it_listens_fits(host: str, mode: StudioMode | None) -> None:
    assert reach_warnings(host, mode, setup_required=False) == []
