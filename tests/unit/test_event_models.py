"""Every event the code publishes is a model with a version, and every one a client can receive is in the
published `StudioEvent` schema (and so in the UI's generated types)."""

from __future__ import annotations

import ast
import importlib
import json
import typing
from pathlib import Path

import pytest

from mediastudio.api_docs.events import STUDIO_EVENT, event_schemas
from mediastudio.events.bus import EventBus, Subscriber, view_for
from mediastudio.events.schema import Message, message_types

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "mediastudio"


def _modules() -> dict[str, ast.Module]:
    return {".".join(("mediastudio", *p.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__"):
            ast.parse(p.read_text(), str(p)) for p in SRC.rglob("*.py")}


def _message_classes() -> dict[str, str]:
    """{class name: module} of every class in the source that derives from Message (read from the source)."""
    bases: dict[str, tuple[str, list[str]]] = {}
    for module, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names = [b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                         if isinstance(b, ast.Name | ast.Attribute)]
                bases[node.name] = (module, names)
    found: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for name, (module, parents) in bases.items():
            if name not in found and any(p == "Message" or p in found for p in parents):
                found[name] = module
                changed = True
    return found


def _registry() -> dict[str, type[Message]]:
    """Every concrete message type, after importing every module that defines one."""
    for module in set(_message_classes().values()):
        importlib.import_module(module)
    return message_types()


def test_every_message_model_is_registered_with_its_type_and_version() -> None:
    registry = _registry()
    for name, module in _message_classes().items():
        cls = getattr(importlib.import_module(module), name)
        if isinstance(cls.model_fields["type"].default, str):  # a concrete type, not a base (Event, TaskEvent…)
            assert registry[cls.model_fields["type"].default] is cls
    for cls in registry.values():
        type_field, version_field = cls.model_fields["type"], cls.model_fields["version"]
        assert typing.get_origin(type_field.annotation) is typing.Literal, cls
        assert typing.get_args(type_field.annotation) == (type_field.default,), cls
        assert typing.get_origin(version_field.annotation) is typing.Literal, cls
        assert typing.get_args(version_field.annotation) == (version_field.default,), cls
        assert isinstance(version_field.default, int) and version_field.default >= 1, cls
        assert cls.__doc__, f"{cls.__name__} says in a docstring what it announces (docs/events.md lists it too)"
    docs = (REPO / "docs" / "events.md").read_text()
    assert all(f"`{name}`" in docs for name in registry), "docs/events.md describes every event type"


def test_every_client_event_is_in_the_published_schema_and_no_internal_one_is() -> None:
    registry = _registry()
    public = {name for name, cls in registry.items() if not cls.internal}
    assert {name for name, cls in registry.items() if cls.internal} == {"access.changed"}
    union = event_schemas()["StudioEvent"]
    assert set(union["discriminator"]["mapping"]) == public
    document = json.loads((REPO / "web" / "src" / "lib" / "api" / "openapi.json").read_text())
    schemas = document["components"]["schemas"]
    assert schemas["StudioEvent"]["discriminator"]["mapping"] == union["discriminator"]["mapping"]
    for name in public:
        model = registry[name]
        published = schemas[model.__name__]
        assert published["properties"]["type"]["const"] == name
        assert published["properties"]["version"]["const"] == model.model_fields["version"].default
        assert "type" in published["required"] and "version" in published["required"]
    generated = (REPO / "web" / "src" / "lib" / "api" / "schema.d.ts").read_text()
    assert all(f'type: "{name}";' in generated for name in public), "schema.d.ts is stale: npm run gen:api"


def test_webhooks_forward_only_task_and_comment_events_that_exist() -> None:
    from mediastudio.webhooks.service import EVENTS

    registry = _registry()
    assert set(EVENTS) <= set(registry) and all(e.startswith(("task.", "comment.")) for e in EVENTS)


def test_events_are_published_as_models_never_as_strings() -> None:
    """`emit(db, model)` and `bus.publish(model)`: no call names its type as a string or passes loose fields."""
    offenders = []
    for module, tree in _modules().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else (
                node.func.attr if isinstance(node.func, ast.Attribute) else None)
            if name not in ("emit", "publish") or module == "mediastudio.events.redis_transport":
                continue
            loose = [a for a in node.args if isinstance(a, ast.Constant | ast.JoinedStr)]
            if loose or node.keywords:
                offenders.append(f"{module}:{node.lineno}")
    assert offenders == [], f"events published without a model: {offenders}"


def test_the_wire_form_is_the_models_json_and_reads_back() -> None:
    from mediastudio.projects.events import ProjectChanged
    from mediastudio.tasks.events import QueueChanged

    class Recorder:  # a transport that keeps what it is given (Redis would carry it to the other processes)
        def send(self, event: dict) -> None:
            seen.append(event)

    seen: list[dict] = []
    bus = EventBus(Recorder())  # type: ignore[arg-type]
    changed = ProjectChanged(workspace_id="ws_1", project_id="p_1", by="u_1", summary="Renamed")
    bus.publish(changed)
    bus.publish(ProjectChanged(workspace_id="ws_1", project_id="p_1", by=None, summary="Saved", commit="abc123"))
    queue = QueueChanged(lanes=[], tasks=[
        {"id": "t_1", "owner_id": "u_1", "lane": "gpu", "status": "queued", "position": 1,
         "starts_in_seconds": 4.0, "eta_seconds": 9.5, "progress": 0.0},
        {"id": "t_2", "owner_id": "u_2", "lane": "gpu", "status": "queued", "position": 2,
         "starts_in_seconds": 9.5, "eta_seconds": 15.0, "progress": 0.0}])
    bus.publish(queue)
    first, second, third = seen
    assert list(first) == ["type", "version", "at", "workspace_id", "project_id", "by", "summary"]  # no commit: none
    assert first["at"] == changed.at.isoformat() and first["version"] == 1
    assert second["commit"] == "abc123"
    assert third["workspace_id"] is None
    mine = view_for(Subscriber("u_1", set()), third)
    assert mine is not None and [t["id"] for t in mine["tasks"]] == ["t_1"]
    for event in (first, second, third, mine):
        assert STUDIO_EVENT.dump_python(STUDIO_EVENT.validate_python(event), mode="json") == event


def test_a_payload_is_checked_where_it_is_made() -> None:
    from pydantic import ValidationError

    from mediastudio.media.events import AssetCreated

    with pytest.raises(ValidationError):
        AssetCreated(workspace_id="ws_1", project_id="p_1", asset="a_1", by="u_1")  # type: ignore[call-arg]
