"""Fixtures shared by every tier: settings on a temporary data folder, in-process clients, real servers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from mediastudio.app import create_app
from mediastudio.settings import Settings
from support import TEST_CLIENT_HOST, TEST_HTTPS, RunningServer, shared_test_tls, start_server


def pytest_configure(config: pytest.Config) -> None:
    if TEST_HTTPS:  # the test clients trust the one certificate of this process's HTTPS servers (support.py)
        certificate = str(shared_test_tls() / "cert.pem")
        os.environ["SSL_CERT_FILE"] = certificate  # httpx, Python's ssl
        os.environ["NODE_EXTRA_CA_CERTS"] = certificate  # Playwright's request client (its driver is Node)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh data folder; no GPU probe (API tests must not wait on torch). Registration and guests
    are open (a studio's own defaults close them), as most tests register people or try the studio as guests."""
    return Settings(data_dir=tmp_path / "data", probe_gpu=False, allowed_hosts=[TEST_CLIENT_HOST],
                    registration_open=True, guests_enabled=True)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An in-process client of a freshly built app."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """Start servers on demand; every one is stopped at the end of the test."""
    started: list[RunningServer] = []

    def factory(**kwargs: object) -> RunningServer:
        sub = tmp_path / f"server{len(started)}"
        sub.mkdir()
        server = start_server(sub, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real server for the read-only tests of a session."""
    server = start_server(tmp_path_factory.mktemp("shared-server"))
    yield server
    server.stop()
