"""A request field never shares its name with a service the app injects.

Litestar reads a validation error whose field is named like a dependency as a server fault: a webhook
body with `events` of the wrong type answered 500 while the event bus was injected as `events` (found by
the schema fuzzing). Every field of every request is checked against the dependency names, and the case
that broke answers 400.
"""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from mediastudio.app import create_app
from mediastudio.settings import Settings


def _request_names(document: dict[str, Any]) -> set[str]:
    schemas = document["components"]["schemas"]
    names = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            names |= {parameter["name"] for parameter in operation.get("parameters", [])}
            for content in operation.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref", "")
                if ref:
                    names |= set(schemas[ref.rsplit("/", 1)[-1]].get("properties", {}))
    return names


def test_no_request_field_is_named_like_an_injected_service(settings: Settings) -> None:
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            document = client.get("/api/openapi.json").json()
        assert "webhooks" in {p.split("/")[3] for p in document["paths"] if p.count("/") >= 3}  # a real document
        assert set(app.dependencies) & _request_names(document) == set()
    finally:
        app.state.studio.db.close()


def test_a_webhook_with_events_of_the_wrong_type_is_a_400(client: TestClient) -> None:
    client.post("/api/v1/auth/setup", json={"username": "ana", "password": "violet tram sixteen"})
    headers = {"X-CSRF-Token": client.cookies.get("ms_csrf") or ""}
    project = client.post("/api/v1/projects", json={"name": "Hooks"}, headers=headers).json()
    answer = client.post("/api/v1/webhooks", headers=headers, json={
        "url": "http://", "project_id": project["id"], "events": {}, "description": ""})
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "events"
