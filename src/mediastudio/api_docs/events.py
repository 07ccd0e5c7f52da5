"""Every message of `WS /api/v1/events` in one union, `StudioEvent`, published in the OpenAPI document.

The features define their event types (tasks/events.py, projects/events.py, media/events.py); this
module, at the composition layer, gathers those a client can receive into a union discriminated by
`type` and adds it, with every model it names, to `components.schemas`, so the UI's types
(`npm run gen:api`) include them. Internal events (events/access.py) are left out. docs/events.md
describes each type.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from mediastudio.comments.events import (
    CommentCreated,
    CommentDeleted,
    CommentReopened,
    CommentResolved,
    CommentUpdated,
    NotificationCreated,
)
from mediastudio.media.events import AssetCreated, AssetUpdated
from mediastudio.projects.events import ProjectActivity, ProjectChanged
from mediastudio.review.events import ShotChanged
from mediastudio.tasks.events import (
    Hello,
    QueueChanged,
    QueuePaused,
    TaskCancelled,
    TaskFailed,
    TaskProgress,
    TaskQueued,
    TaskStarted,
    TaskSucceeded,
)

StudioEvent = Annotated[
    Hello | TaskQueued | TaskStarted | TaskProgress | TaskSucceeded | TaskFailed | TaskCancelled
    | QueueChanged | QueuePaused | ProjectChanged | ProjectActivity | AssetCreated | AssetUpdated
    | CommentCreated | CommentUpdated | CommentDeleted | CommentResolved | CommentReopened | NotificationCreated
    | ShotChanged,
    Field(discriminator="type"),
]
STUDIO_EVENT: TypeAdapter[Any] = TypeAdapter(StudioEvent)
UNION_DESCRIPTION = ("One JSON text message of `WS /api/v1/events`: `hello` first, then events as they happen. "
                     "Narrow on `type`; each type has its own `version`. Fields may be added within a version.")


class _Schema(GenerateJsonSchema):
    """Schemas as the rest of the document writes them: no per-field titles."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


@cache
def event_schemas() -> dict[str, dict[str, Any]]:
    """{name: schema}: `StudioEvent` and every model it refers to (as `#/components/schemas/<name>`)."""
    schema = STUDIO_EVENT.json_schema(mode="serialization", ref_template="#/components/schemas/{model}",
                                      schema_generator=_Schema)
    named = schema.pop("$defs", {})
    return {"StudioEvent": {"title": "StudioEvent", "description": UNION_DESCRIPTION, **schema}, **named}


def with_event_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Add the event schemas to the document. A model the API already describes (TaskOut) keeps the API's
    schema; one of the same name with other fields is a mistake, and stops the document being made."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in event_schemas().items():
        known = schemas.get(name)
        if known is None:
            schemas[name] = copy.deepcopy(schema)
        elif set(known.get("properties", {})) != set(schema.get("properties", {})):
            raise RuntimeError(f"Two different schemas are named {name!r}: an event model and an API one.")
    return document
