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

ASSETS = "/api/docs/assets"
SWAGGER_DIR = Path(__file__).parent / "swagger_ui"

DESCRIPTION = """The whole Mediastudio API: everything the studio UI does goes through it.

Errors answer `application/problem+json`: `{status, title, detail, hint?}`.
"""

_SWAGGER = SwaggerRenderPlugin(
    path="/docs",
    js_url=f"{ASSETS}/swagger-ui-bundle.js",
    css_url=f"{ASSETS}/swagger-ui.css",
    standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
    favicon='<link rel="icon" href="/favicon.png">',
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


def openapi_document(request: Request) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi_schema.to_schema()
    return schema


@get("/api/openapi.json", include_in_schema=False, sync_to_thread=False,
     media_type="application/vnd.oai.openapi+json")
def openapi_json(request: Request) -> dict[str, Any]:
    return openapi_document(request)


@get("/api/docs", include_in_schema=False, sync_to_thread=False)
def swagger_docs(request: Request) -> Response[bytes]:
    return Response(_SWAGGER.render(request, openapi_document(request)), media_type="text/html")


def docs_routes() -> list[ControllerRouterHandler]:
    assets = create_static_files_router(
        path=ASSETS, directories=[SWAGGER_DIR], include_in_schema=False,
        cache_control=CacheControlHeader(public=True, max_age=86400), name="api-docs-assets",
    )
    return [openapi_json, swagger_docs, assets]
