"""What the UI is built from agrees with the Python package: version and API document."""

import json

from mediastudio import __version__
from mediastudio.cli.openapi import export_openapi
from support import REPO

REGENERATE = ("mediastudio openapi --out web/src/lib/api/openapi.json && (cd web && npm run gen:api), "
              "then commit both files (scripts/test does this)")


def test_the_ui_is_versioned_like_the_package() -> None:
    package = json.loads((REPO / "web" / "package.json").read_text())
    assert package["version"] == __version__, "bump web/package.json with src/mediastudio/__init__.py"


def test_the_committed_openapi_document_matches_the_api() -> None:
    committed = (REPO / "web" / "src" / "lib" / "api" / "openapi.json").read_text()
    assert committed == export_openapi(), f"The UI's API types are stale: {REGENERATE}"


def test_the_generated_types_cover_every_api_path() -> None:
    document = json.loads(export_openapi())
    types = (REPO / "web" / "src" / "lib" / "api" / "schema.d.ts").read_text()
    for path in document["paths"]:
        assert f'"{path}"' in types, f"{path} is missing from schema.d.ts: {REGENERATE}"
