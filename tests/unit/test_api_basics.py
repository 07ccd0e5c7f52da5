"""Health, the OpenAPI document, the interactive docs and problem details, in process."""

from litestar import Litestar, get
from litestar.testing import TestClient
from openapi_spec_validator import validate

from mediastudio import __version__
from mediastudio.errors import EXCEPTION_HANDLERS, PROBLEM_JSON, NotFound
from mediastudio.settings import Settings


def test_health_reports_versions_database_and_gpu(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"] == "ok"
    assert body["python"].startswith("3.")
    assert body["gpu"]["state"] == "pending"  # the probe is off in API tests
    assert set(body["gpu"]) >= {"available", "backend", "hint"}


def test_openapi_document_is_valid_and_lists_health(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    validate(document)
    assert document["info"]["version"] == __version__
    assert "/api/v1/health" in document["paths"]
    assert not any(path.startswith("/api/_openapi") or path == "/{path}" for path in document["paths"])


def test_the_document_states_the_bounds_of_numbers_that_may_be_null(client: TestClient) -> None:
    """A bound the server checks is in the document too, also on a field that may be null (a client keeping to the
    document is never refused for it: the schema fuzz test found a pin's y below 0 refused though allowed)."""
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]

    def bounds(schema: str, field: str) -> dict[str, float]:
        (number,) = [o for o in schemas[schema]["properties"][field]["oneOf"] if o.get("type") != "null"]
        return {k: v for k, v in number.items() if k in ("minimum", "maximum")}

    assert bounds("PinIn", "x") == bounds("PinIn", "y") == {"minimum": 0, "maximum": 1}
    assert bounds("PinIn", "time") == {"minimum": 0, "maximum": 86_400}
    assert bounds("ScenePatch", "order") == {"minimum": 0}


def test_interactive_docs_work_without_a_cdn(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "SwaggerUIBundle" in page.text
    assert "cdn." not in page.text and "https://" not in page.text
    bundle = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert len(bundle.content) > 100_000


def test_unknown_api_path_answers_a_problem_document(client: TestClient) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = client.request(method, "/api/v1/no-such-thing/here")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        body = response.json()
        assert body["status"] == 404
        assert "/api/v1/no-such-thing/here" in body["detail"]
        assert "/api/docs" in body["hint"]


def test_wrong_method_answers_405_with_a_message(client: TestClient) -> None:
    response = client.post("/api/v1/health")
    assert response.status_code == 405
    assert response.json()["detail"] == "POST is not allowed on /api/v1/health; it accepts GET, OPTIONS."
    assert response.headers["allow"] == "GET, OPTIONS"  # RFC 9110: a 405 names what the path accepts


def test_every_405_names_the_allowed_methods(client: TestClient) -> None:
    for method, path in (("TRACE", "/api/v1/projects"), ("PUT", "/api/v1/auth/me"), ("DELETE", "/api/v1/queue")):
        response = client.request(method, path)
        assert response.status_code == 405, (method, path, response.status_code)
        assert response.headers.get("allow"), (method, path)


def _app_raising(exc: Exception) -> Litestar:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise exc

    return Litestar([boom], exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]


def test_our_errors_map_to_problem_details_with_a_hint() -> None:
    error = NotFound("Project 'x' does not exist.", hint="List projects with GET /api/v1/projects.")
    with TestClient(_app_raising(error)) as test_client:
        response = test_client.get("/boom")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "title": "Not found", "detail": "Project 'x' does not exist.",
                               "hint": "List projects with GET /api/v1/projects."}


def test_unexpected_errors_answer_500_problem_without_internals() -> None:
    with TestClient(_app_raising(RuntimeError("secret stack detail"))) as test_client:
        response = test_client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["title"] == "Internal Server Error"
    assert "secret" not in response.text
    assert body["hint"]


def test_session_cookies_are_secure_over_https(settings) -> None:  # type: ignore[no-untyped-def]
    from mediastudio.app import create_app

    allowed = settings.model_copy(update={"allowed_hosts": ["studio.example"]})
    with TestClient(create_app(allowed), base_url="https://studio.example") as https:
        response = https.post("/api/v1/auth/setup", json={"username": "ana", "password": "violet tram sixteen"})
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 2 and all("Secure" in c for c in cookies)
    assert any("HttpOnly" in c and c.startswith("ms_session=") for c in cookies)


def test_options_names_every_method_of_the_path(client: TestClient) -> None:
    # GET and POST of /api/v1/tasks come from two handlers: Litestar's own OPTIONS answer named only one.
    for path, expected in (("/api/v1/tasks", {"GET", "POST", "OPTIONS"}),
                           ("/api/v1/projects", {"GET", "POST", "OPTIONS"}),
                           ("/api/v1/projects/p_1", {"GET", "PATCH", "DELETE", "OPTIONS"})):
        response = client.options(path)
        assert response.status_code == 204, (path, response.status_code)
        assert set(response.headers["allow"].split(", ")) == expected, (path, response.headers["allow"])


def test_a_rule_of_the_document_is_answered_in_words_beside_its_field(client: TestClient) -> None:
    # The OpenAPI document states the pattern; the person filling the form reads a sentence, not the regex.
    response = client.post("/api/v1/auth/setup", json={"username": "a b", "password": "copper lantern ninety"})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "username"
    assert body["detail"].startswith("A username has 3 to 32 characters") and "^[" not in body["detail"]


def test_health_under_load_asks_the_database_at_most_once_a_second(client: TestClient) -> None:
    from sqlalchemy import event

    engine = client.app.state.studio.db.engine
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "FROM" not in statement.upper().split():  # the sweepers' queries run beside; health reads no table
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(50):
            assert client.get("/api/v1/health").json()["database"] == "ok"
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 1, statements


def test_health_fails_once_the_database_is_unusable(client: TestClient, settings: Settings) -> None:
    import time

    assert client.get("/api/v1/health").status_code == 200
    client.app.state.studio.db.engine.dispose()
    # A folder where the database was: nothing can open it. The studio's own threads (the lanes, the sweepers)
    # go on meanwhile, and one opening a connection between the two steps makes SQLite create an empty file there
    # again (seen under load: mkdir failed with "File exists"); so until the folder stands.
    for _ in range(100):
        settings.database_path.unlink(missing_ok=True)
        try:
            settings.database_path.mkdir()
            break
        except FileExistsError:
            time.sleep(0.01)
    assert settings.database_path.is_dir()
    time.sleep(1.1)
    assert client.get("/api/v1/health").status_code == 500
