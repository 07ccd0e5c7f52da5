"""The built UI is served as an SPA with cache headers that fit each kind of file."""

import gzip
from collections.abc import Iterator
from pathlib import Path

import brotli
import httpx
import pytest
from litestar.testing import TestClient

from mediastudio.app import create_app
from mediastudio.settings import Settings
from mediastudio.ui import IMMUTABLE, NO_CACHE, PRECOMPRESSED, WebUI, accepted_encodings, find_web_dist

INDEX = "<!doctype html><title>studio</title>"
SCRIPT = "export const studio = 'mediastudio';\n" * 200


@pytest.fixture
def web_dist(tmp_path: Path) -> Path:
    root = tmp_path / "web_dist"
    (root / "_app" / "immutable" / "entry").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (root / "manifest.webmanifest").write_text('{"name": "Mediastudio"}')
    (root / "icon-192.png").write_bytes(b"\x89PNG")
    (root / "_app" / "immutable" / "entry" / "app.abc123.js").write_text("console.log(1)")
    big = root / "_app" / "immutable" / "entry" / "big.def456.js"  # as web/scripts/precompress.mjs leaves it
    big.write_text(SCRIPT)
    big.with_name(big.name + ".br").write_bytes(brotli.compress(SCRIPT.encode()))
    big.with_name(big.name + ".gz").write_bytes(gzip.compress(SCRIPT.encode(), mtime=0))
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


BIG = "/_app/immutable/entry/big.def456.js"


def raw(client: TestClient, path: str, accept: str | None) -> tuple[httpx.Response, bytes]:
    """The answer and its body as it crossed the wire (httpx would decode it), asking with `accept` (None: no
    header)."""
    headers = {"Accept-Encoding": accept if accept is not None else ""}
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


@pytest.mark.parametrize(("accept", "coding"), [
    ("gzip, deflate, br, zstd", "br"),  # what Chromium sends
    ("gzip, deflate", "gzip"),
    ("br;q=0, gzip", "gzip"),
    ("*", "br"),
    ("*, br;q=0", "gzip"),
    ("identity", None),
    ("gzip;q=0, br;q=0.0", None),
    (None, None),
])
def test_a_built_script_goes_compressed_as_the_browser_accepts(ui_client: TestClient, accept: str | None,
                                                               coding: str | None) -> None:
    response, body = raw(ui_client, BIG, accept)
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert response.headers["vary"] == "Accept-Encoding"  # a shared cache keeps one answer per coding
    assert "javascript" in response.headers["content-type"]  # the type of what it is, not of the copy
    assert response.headers["cache-control"] == IMMUTABLE
    assert int(response.headers["content-length"]) == len(body)
    plain = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](body)
    assert plain.decode() == SCRIPT
    if coding is not None:
        assert len(body) < len(SCRIPT) / 10


def test_a_file_without_copies_goes_as_it_is_and_does_not_vary(ui_client: TestClient) -> None:
    response = ui_client.get("/_app/immutable/entry/app.abc123.js", headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200 and response.text == "console.log(1)"
    assert "content-encoding" not in response.headers and "vary" not in response.headers


def test_the_two_codings_have_different_validators(ui_client: TestClient) -> None:
    tags = {ui_client.get(BIG, headers={"Accept-Encoding": accept}).headers["etag"] for accept in ("br", "gzip", "")}
    assert len(tags) == 3  # a conditional request never matches the copy of another coding


def test_accept_encoding_is_read_as_the_standard_says() -> None:
    assert accepted_encodings("gzip, deflate, br") == {"gzip", "deflate", "br"}
    assert accepted_encodings("BR;Q=0.5 , GZIP;q=bad") == {"br"}
    assert accepted_encodings("*;q=0.1, gzip;q=0") == {"br"}
    assert accepted_encodings("") == set()
    assert accepted_encodings("br" + ",x" * 10_000) >= {"br"}  # a long header is read only so far


def test_every_precompressed_copy_of_the_committed_build_is_its_file() -> None:
    """A copy left from an older build would send a browser old code: each must unpack to its file exactly."""
    root = find_web_dist(None)
    unpack = {".br": brotli.decompress, ".gz": gzip.decompress}
    assert set(unpack) == set(PRECOMPRESSED)
    copies = [p for p in root.rglob("*") if p.suffix in unpack and p.is_file()]
    assert any(p.name.endswith(".js.br") for p in copies), "the build has no precompressed scripts"
    for copy in copies:
        original = copy.with_suffix("")
        assert original.is_file(), f"{copy} has no original"
        assert unpack[copy.suffix](copy.read_bytes()) == original.read_bytes(), f"{copy} is stale"
