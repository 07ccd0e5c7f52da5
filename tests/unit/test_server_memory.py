"""What the server does with the objects that live as long as it (server.py)."""

from __future__ import annotations

import gc

from mediastudio.app import create_app
from mediastudio.server import keep_out_of_collections
from mediastudio.settings import Settings


def test_the_built_app_is_kept_out_of_full_collections(settings: Settings) -> None:
    app = create_app(settings)
    try:
        keep_out_of_collections()
        assert gc.get_freeze_count() > 10_000  # the app, its routes and schemas, the modules behind them
        assert not any(o is app for o in gc.get_objects())  # a full collection no longer walks it
    finally:
        gc.unfreeze()
