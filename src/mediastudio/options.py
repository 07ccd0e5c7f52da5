"""OPTIONS answers with every method of the path.

Litestar makes one OPTIONS answer per route when the route is first built and keeps it when more handlers
join the same path later (a controller's GET and POST on one path): its `Allow` then names only some of
the methods. The full set is known once the app is built; this answers OPTIONS from it.
"""

from __future__ import annotations

from litestar import Litestar, Request, Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT


def allowed_methods(app: Litestar) -> dict[str, str]:
    """The `Allow` value of every HTTP path of the app (its path template → "GET, OPTIONS, POST")."""
    return {route.path: ", ".join(sorted(route.methods)) for route in app.routes if isinstance(route, HTTPRoute)}


async def answer_options(request: Request) -> Response | None:
    """A before-request hook: OPTIONS gets 204 with the path's whole `Allow`; other methods go on."""
    if request.method != "OPTIONS":
        return None
    allow: dict[str, str] = request.app.state.allowed_methods
    for path in request.scope["route_handler"].paths:
        if path in allow:
            return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow[path]})
    return None
