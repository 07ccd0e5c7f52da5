"""The messages of `WS /api/v1/events` as pydantic models: the bases every event type derives from.

Each feature defines its own event types beside its code (tasks/events.py, projects/events.py,
media/events.py); this package only knows these bases, never the features. A concrete type sets
`type` (a Literal with its value as default) and `version` (a Literal with its number as default);
`message_types()` lists those defined so far (nothing registers itself). The composition layer
(api_docs/events.py) gathers them into the `StudioEvent` union that the OpenAPI document publishes and the
UI's types are generated from.

A type's `version` goes up when a field of it is removed, renamed or changes meaning; adding a field
keeps the version (clients ignore fields they do not know). docs/events.md lists every type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from mediastudio.common import utcnow


def _open(schema: dict[str, Any], cls: type) -> None:
    """Published schemas allow more fields: a version may add some (the models refuse unknown ones)."""
    schema.pop("additionalProperties", None)


# Strict where made (unknown fields are an error), always complete on the wire (defaults are sent).
CONFIG = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True, json_schema_extra=_open)

# When an event happened: ISO 8601 with the UTC offset, as datetime.isoformat() writes it.
At = Annotated[datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json"),
               WithJsonSchema({"type": "string", "format": "date-time"})]


def _not_null(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    variants = [v for v in schema.pop("anyOf", []) if v != {"type": "null"}]
    if len(variants) == 1:
        schema.update(variants[0])
    elif variants:
        schema["anyOf"] = variants


def omitted_if_none(description: str) -> Any:
    """A field that is left out of the message, rather than null, when it has no value (optional in the schema)."""
    return Field(None, exclude_if=lambda value: value is None, json_schema_extra=_not_null, description=description)


class Part(BaseModel):
    """A piece of a message (a lane, a place in the queue): checked like the messages themselves."""

    model_config = CONFIG


class Message(BaseModel):
    """One JSON text message of `WS /api/v1/events`: its `type` and that type's `version`."""

    model_config = CONFIG
    internal: ClassVar[bool] = False  # True: travels on the bus only, never reaches a client or a webhook

    type: str
    version: int

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.model_fields["type"].default
        if not isinstance(name, str):
            return  # a base of several types
        version = cls.model_fields["version"].default
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise TypeError(f"{cls.__qualname__} ({name}) must set `version: Literal[n] = n`.")


class Event(Message):
    """A message of the event bus: published when something changed, fanned out to those who may hear it."""

    at: At = Field(default_factory=utcnow, description="When it happened")
    workspace_id: str | None = Field(description="Only members of this workspace hear it (null: not tied to one)")


class AddressedEvent(Event):
    """An event for one user: it reaches `audience` and administrators, whatever the workspace."""

    audience: str = Field(description="The user it is for (administrators hear it too)")


def message_types() -> dict[str, type[Message]]:
    """type → model of every concrete message type whose module has been imported; two models for one type
    are an error."""
    found: dict[str, type[Message]] = {}
    pending: list[type[Message]] = [Message]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        name = cls.model_fields["type"].default
        if not isinstance(name, str):
            continue  # a base of several types
        known = found.get(name)
        if known is not None and known is not cls:
            raise TypeError(f"Two models for the event type '{name}': {known.__qualname__} and {cls.__qualname__}.")
        found[name] = cls
    return found
