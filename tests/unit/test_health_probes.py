"""Anonymous health probes (monitors, load balancers) are given the last good health answer while it is under a
second old (edge/guard.py), with this request's security headers; anything else about health goes to the app."""

from __future__ import annotations

import time
from pathlib import Path

from litestar.testing import TestClient
from litestar.types import Message, Receive, Scope, Send

from mediastudio.app import create_app
from mediastudio.edge.guard import HEALTH_KEPT_S, EdgeGuard
from mediastudio.edge.hosts import HostPolicy
from mediastudio.settings import Settings
from support import run_async


class Answers:
    """The app behind the edge: answers with the next status of `statuses`, counting the requests it got."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.asked = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = self.statuses[min(self.asked, len(self.statuses) - 1)]
        self.asked += 1
        body = f'{{"status": "{"ok" if status == 200 else "failing"}", "n": {self.asked}}}'.encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def probe(edge: EdgeGuard, headers: list[tuple[bytes, bytes]] | None = None, query: bytes = b"") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/api/v1/health", "query_string": query,
             "headers": [(b"host", b"127.0.0.1"), *(headers or [])]}
    run_async(edge(scope, receive, send))  # type: ignore[arg-type]
    return sent


def _edge(app: Answers, tmp_path: Path) -> EdgeGuard:
    return EdgeGuard(app, HostPolicy([], "127.0.0.1"), tmp_path / "index.html")  # type: ignore[arg-type]


def test_probes_within_a_second_are_answered_once_by_the_app(tmp_path: Path) -> None:
    app = Answers(200)
    edge = _edge(app, tmp_path)
    answers = [probe(edge) for _ in range(50)]
    assert app.asked == 1
    assert {a[1]["body"] for a in answers} == {b'{"status": "ok", "n": 1}'}
    for sent in answers:  # every answer carries its own security headers
        names = {key for key, _ in sent[0]["headers"]}
        assert b"content-security-policy" in names and b"x-content-type-options" in names
    time.sleep(HEALTH_KEPT_S + 0.05)
    assert probe(edge)[1]["body"] == b'{"status": "ok", "n": 2}' and app.asked == 2


def test_a_failing_answer_is_never_given_again(tmp_path: Path) -> None:
    app = Answers(500, 500, 200)
    edge = _edge(app, tmp_path)
    assert [probe(edge)[0]["status"] for _ in range(4)] == [500, 500, 200, 200]
    assert app.asked == 3


def test_probes_with_credentials_or_a_query_go_to_the_app(tmp_path: Path) -> None:
    app = Answers(200)
    edge = _edge(app, tmp_path)
    probe(edge)
    probe(edge, [(b"cookie", b"ms_session=abc")])
    probe(edge, [(b"authorization", b"Bearer x")])
    probe(edge, query=b"verbose=1")
    assert app.asked == 4


def test_the_studio_answers_a_kept_probe_as_it_answers_a_fresh_one(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        fresh, kept = client.get("/api/v1/health"), client.get("/api/v1/health")
        assert fresh.status_code == kept.status_code == 200
        assert fresh.json() == kept.json() and fresh.json()["status"] == "ok"
        assert fresh.headers == kept.headers
