"""The OpenAPI document as stable text, for the UI's generated types and their drift check."""

from __future__ import annotations

import json
import tempfile


def export_openapi() -> str:
    from mediastudio.app import create_app
    from mediastudio.settings import Settings

    with tempfile.TemporaryDirectory(prefix="mediastudio-openapi-") as data_dir:
        app = create_app(Settings(data_dir=data_dir, probe_gpu=False))
        from mediastudio.api_docs import build_document

        document = build_document(app)
        app.state.studio.db.close()
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
