"""The OpenAPI document as stable text, for the UI's generated types and their drift check (`mediastudio openapi`)."""

from __future__ import annotations

import json
import tempfile

from mediastudio.api_docs import build_document
from mediastudio.app import create_app
from mediastudio.settings import Settings


def export_openapi() -> str:
    with tempfile.TemporaryDirectory(prefix="mediastudio-openapi-") as data_dir:
        app = create_app(Settings(data_dir=data_dir, probe_gpu=False))
        document = build_document(app)
        app.state.studio.db.close()
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
