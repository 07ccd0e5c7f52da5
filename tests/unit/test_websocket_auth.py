"""The auth middleware resolves WebSocket callers too: a Bearer header, or the `bearer.<token>`
subprotocol (browsers cannot set headers on a WebSocket), or the session cookie."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar, WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from mediastudio.accounts import users
from mediastudio.app import build_studio
from mediastudio.auth import sessions
from mediastudio.auth.middleware import AuthMiddleware
from mediastudio.errors import EXCEPTION_HANDLERS
from mediastudio.settings import Settings


@websocket("/api/v1/test-socket")
async def whoami(socket: WebSocket) -> None:
    await socket.accept(subprotocols=socket.scope.get("subprotocols", [None])[0])
    user = socket.scope.get("user")
    await socket.send_text(user.username if user else "anonymous")
    await socket.close()


@pytest.fixture
def app_and_token(tmp_path: Path) -> Iterator[tuple[Litestar, str, str]]:
    studio = build_studio(Settings(data_dir=tmp_path, probe_gpu=False))
    with studio.db.transaction() as db:
        user = users.create_user(db, username="ana", password="violet tram sixteen")
        token, _ = sessions.create_token(db, user, name="ws", expires_in_days=None)
        cookie, _ = sessions.create_session(db, user, days=1)
    app = Litestar([whoami], middleware=[AuthMiddleware()], exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    app.state.studio = studio
    yield app, token, cookie
    studio.db.close()


def test_bearer_header_on_a_websocket(app_and_token: tuple[Litestar, str, str]) -> None:
    app, token, _ = app_and_token
    with (
        TestClient(app) as client,
        client.websocket_connect("/api/v1/test-socket", headers={"Authorization": f"Bearer {token}"}) as ws,
    ):
        assert ws.receive_text() == "ana"


def test_bearer_subprotocol_on_a_websocket(app_and_token: tuple[Litestar, str, str]) -> None:
    app, token, _ = app_and_token
    with (
        TestClient(app) as client,
        client.websocket_connect("/api/v1/test-socket", subprotocols=[f"bearer.{token}"]) as ws,
    ):
        assert ws.receive_text() == "ana"


def test_session_cookie_on_a_websocket(app_and_token: tuple[Litestar, str, str]) -> None:
    app, _, cookie = app_and_token
    with TestClient(app) as client:
        client.cookies.set("ms_session", cookie)
        with client.websocket_connect("/api/v1/test-socket") as ws:
            assert ws.receive_text() == "ana"


def test_anonymous_and_bad_tokens_on_a_websocket(app_and_token: tuple[Litestar, str, str]) -> None:
    app, _, _ = app_and_token
    with TestClient(app) as client:
        with client.websocket_connect("/api/v1/test-socket") as ws:
            assert ws.receive_text() == "anonymous"
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/api/v1/test-socket", headers={"Authorization": "Bearer ms_wrong"}) as ws,
        ):
            ws.receive_text()
        assert refused.value.code == 4401
