"""The built UI is served as an SPA with cache headers that fit each kind of file."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from mediastudio.app import create_app
from mediastudio.settings import Settings
from mediastudio.ui import IMMUTABLE, NO_CACHE, WebUI

INDEX = "<!doctype html><title>studio</title>"


@pytest.fixture
def web_dist(tmp_path: Path) -> Path:
    root = tmp_path / "web_dist"
    (root / "_app" / "immutable" / "entry").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (root / "manifest.webmanifest").write_text('{"name": "Mediastudio"}')
    (root / "icon-192.png").write_bytes(b"\x89PNG")
    (root / "_app" / "immutable" / "entry" / "app.abc123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("do not serve")
    return root


@pytest.fixture
def ui_client(tmp_path: Path, web_dist: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", web_dist=web_dist, probe_gpu=False,
                        allowed_hosts=["testserver.local"])
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_index_is_served_and_always_revalidated(ui_client: TestClient) -> None:
    response = ui_client.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == NO_CACHE


def test_hashed_assets_are_cached_for_a_year(ui_client: TestClient) -> None:
    response = ui_client.get("/_app/immutable/entry/app.abc123.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE
    assert "javascript" in response.headers["content-type"]


def test_service_worker_and_manifest_are_never_cached_stale(ui_client: TestClient) -> None:
    assert ui_client.get("/sw.js").headers["cache-control"] == NO_CACHE
    assert ui_client.get("/manifest.webmanifest").headers["cache-control"] == NO_CACHE
    assert ui_client.get("/icon-192.png").headers["cache-control"].startswith("public, max-age=")


@pytest.mark.parametrize("path", ["/projects/abc/scenes/1", "/settings", "/some.page"])
def test_any_other_page_falls_back_to_index(ui_client: TestClient, path: str) -> None:
    response = ui_client.get(path)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == NO_CACHE


def test_a_missing_build_asset_is_a_404_not_the_index(ui_client: TestClient) -> None:
    # Answering index.html for a missing script would surface as a cryptic syntax error.
    assert ui_client.get("/_app/immutable/entry/gone.js").status_code == 404


def test_files_outside_the_build_are_never_served(web_dist: Path, ui_client: TestClient) -> None:
    assert WebUI(web_dist).resolve("../secret.txt") is None
    assert WebUI(web_dist).resolve("/../../secret.txt") is None
    response = ui_client.get("/%2e%2e/secret.txt")
    assert "do not serve" not in response.text


def test_api_paths_never_fall_back_to_the_ui(ui_client: TestClient) -> None:
    response = ui_client.get("/api/v1/unknown")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_a_missing_build_shows_how_to_build_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", web_dist=tmp_path / "nowhere", probe_gpu=False,
                        allowed_hosts=["testserver.local"])
    with TestClient(create_app(settings)) as test_client:
        page = test_client.get("/projects/1")
        health = test_client.get("/api/v1/health").json()
    assert page.status_code == 503
    assert "npm install &amp;&amp; npm run build" in page.text
    assert str(tmp_path / "nowhere") in page.text
    assert health["ui"] is False


@pytest.mark.parametrize("path", ["/", "/_app/immutable/entry/app.abc123.js", "/icon-192.png", "/projects/p_1/edit",
                                  "/_app/missing.js"])
def test_head_answers_like_get_without_a_body(ui_client: TestClient, path: str) -> None:
    got = ui_client.get(path)
    head = ui_client.head(path)
    assert head.status_code == got.status_code
    assert head.content == b""
    for name in ("content-type", "cache-control", "content-length", "etag", "last-modified"):
        assert head.headers.get(name) == got.headers.get(name), name
