"""The OpenAPI document (/api/openapi.json) and interactive docs (/api/docs), served without a CDN.

Litestar's own OpenAPI router would also claim `/api/{path}` with an HTML 404 page, hiding our JSON
problem answers for unknown API paths, so it lives on an internal path and these two handlers
serve the public ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Tag
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from mediastudio import __version__
from mediastudio.edge.headers import content_policy, script_hashes

ASSETS = "/api/docs/assets"
SWAGGER_DIR = Path(__file__).parent / "swagger_ui"

DESCRIPTION = """The whole Mediastudio API: everything the studio UI does goes through it.

Errors answer `application/problem+json`: `{status, title, detail, hint?}`.

`WS /api/v1/events` sends the caller's events as JSON text messages: the `StudioEvent` schema
describes each of them (narrow on `type`).
"""

_SWAGGER = SwaggerRenderPlugin(
    path="/docs",
    js_url=f"{ASSETS}/swagger-ui-bundle.js",
    css_url=f"{ASSETS}/swagger-ui.css",
    standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
    # The studio's own icon, served beside Swagger UI's files (so the page has one even when the UI is not built).
    favicon=f'<link rel="icon" href="{ASSETS}/favicon.svg" type="image/svg+xml">',
)


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Mediastudio API",
        version=__version__,
        description=DESCRIPTION,
        path="/api/_openapi",
        tags=[Tag(name="system", description="Health, versions and hardware")],
        render_plugins=[JsonRenderPlugin(path="/openapi.json")],
    )


PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "description": "Every error: what went wrong and, where there is one, what to do about it.",
    "required": ["status", "title", "detail"],
    "properties": {
        "status": {"type": "integer", "description": "The HTTP status, repeated."},
        "title": {"type": "string", "description": "Short, e.g. 'Not found'."},
        "detail": {"type": "string", "description": "What happened, for a person."},
        "hint": {"type": "string", "description": "What to do about it."},
    },
    "additionalProperties": True,
}
# Operations anyone may call without logging in.
PUBLIC = {("/api/v1/health", "get"), ("/api/v1/auth/config", "get"), ("/api/v1/auth/setup", "post"),
          ("/api/v1/auth/register", "post"), ("/api/v1/auth/login", "post"), ("/api/v1/auth/guest", "post"),
          ("/api/v1/auth/logout", "post"), ("/api/v1/projects/templates", "get")}
COMMON_ERRORS = {
    "400": "The request is not valid; `detail` says which field and why.",
    "401": "Not logged in: log in, or send `Authorization: Bearer <token>`.",
    "403": "Logged in but not allowed (a role too low, or a missing X-CSRF-Token on a cookie write).",
    "404": "Not found, or not visible to you (the two are not told apart).",
    "429": "Too many requests; the Retry-After header says when to try again.",
}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


_BINARY = {"type": "string", "format": "binary"}
_PROJECT_FILE = {
    "required": True,
    "description": "A .msproj file: the raw body, or the multipart field 'file'. A file that is not a sound .msproj "
                   "(no schema can say what one is) answers 400 naming what is wrong with it.",
    "content": {"application/zip": {"schema": _BINARY},
                "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                                   "properties": {"file": _BINARY}}}},
}
# Handlers that stream their body (uploads, imports) take no typed `data`: their bodies are stated here.
STREAMED_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/projects/import", "post"): _PROJECT_FILE,
    ("/api/v1/projects/import/background", "post"): _PROJECT_FILE,
    ("/api/v1/projects/{project_id}/assets", "post"): {
        "required": True,
        "description": "Files in the repeatable field 'file'. What a file is comes from its bytes: media the studio "
                       "does not take answers 415, a damaged one 422, one over the size limits 413.",
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {
                "file": {"type": "array", "items": _BINARY, "minItems": 1},
                "category": {"type": "string", "enum": ["image", "video", "audio", "model", "reference", "generated"]},
                "tags": {"type": "string", "pattern": r"^[\s,]*([^\s,]{1,32}[\s,]+){0,19}([^\s,]{1,32})?[\s,]*$",
                         "description": "Up to 20 tags of up to 32 characters, separated by spaces or commas"},
            },
        }}},
    },
    ("/api/v1/projects/{project_id}/assets/{asset_id}/mask", "post"): {
        "required": True,
        "description": "The mask in the field 'file': a PNG of the picture's width and height, white = repaint "
                       "(stored as greyscale). Another type answers 415, another size 422.",
        "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                                       "properties": {"file": _BINARY}}}},
    },
}


# Request bodies that refuse fields they do not name (pydantic `extra="forbid"`), with the bounds Litestar's document
# drops (a minimum of 0): stated here so that a request the document allows is not refused.
CLOSED_BODIES: dict[str, dict[str, dict[str, Any]]] = {
    "PreferencesPatch": {"tour_step": {"minimum": 0}},
    "AccountDeletion": {}, "ProjectChoiceIn": {}, "RetentionPatch": {},
}


def with_closed_bodies(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.get("components", {}).get("schemas", {})
    for name, properties in CLOSED_BODIES.items():
        if name in schemas:
            schemas[name]["additionalProperties"] = False
            for key, rules in properties.items():
                schemas[name]["properties"][key].update(rules)
    return document


def with_streamed_bodies(document: dict[str, Any]) -> dict[str, Any]:
    for (path, method), body in STREAMED_BODIES.items():
        operation = document.get("paths", {}).get(path, {}).get(method)
        if operation is not None:
            operation["requestBody"] = body
    return document


def with_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Document the errors as they are answered: problem details, on every operation."""
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code in [c for c in responses if c.startswith(("4", "5"))]:
                responses[code] = _problem_response(COMMON_ERRORS.get(code) or responses[code].get("description", ""))
            codes = ["400", "429"] if (path, method) in PUBLIC else list(COMMON_ERRORS)
            for code in codes:
                responses.setdefault(code, _problem_response(COMMON_ERRORS[code]))
    return document


def openapi_document(request: Request) -> dict[str, Any]:
    return build_document(request.app)


def build_document(app: Any) -> dict[str, Any]:
    from mediastudio.api_docs.events import with_event_schemas

    return with_event_schemas(with_closed_bodies(with_streamed_bodies(with_problem_responses(
        app.openapi_schema.to_schema()))))


@get("/api/openapi.json", include_in_schema=False, sync_to_thread=False,
     media_type="application/vnd.oai.openapi+json")
def openapi_json(request: Request) -> dict[str, Any]:
    return openapi_document(request)


@get("/api/docs", include_in_schema=False, sync_to_thread=False)
def swagger_docs(request: Request) -> Response[bytes]:
    page = _SWAGGER.render(request, openapi_document(request))
    # The page starts Swagger UI from an inline script: allowed by its hash, like the studio's own page.
    policy = content_policy(script_hashes(page.decode()), request.headers.get("host"))
    return Response(page, media_type="text/html", headers={"Content-Security-Policy": policy})


def docs_routes() -> list[ControllerRouterHandler]:
    assets = create_static_files_router(
        path=ASSETS, directories=[SWAGGER_DIR], include_in_schema=False,
        cache_control=CacheControlHeader(public=True, max_age=86400), name="api-docs-assets",
    )
    return [openapi_json, swagger_docs, assets]
