"""Every table of the studio, and the one way to open its database ready for use.

The database layer (db.py) knows no feature; each feature keeps its tables in its own `tables.py`.
This module, part of the composition layer beside app.py, imports them all so that `migrate()` creates
every missing table, then runs the upgrades a new table does not cover (columns added later).
"""

from __future__ import annotations

from pathlib import Path

import mediastudio.accounts.tables
import mediastudio.audit.tables
import mediastudio.auth.tables
import mediastudio.collab.activity
import mediastudio.comments.tables
import mediastudio.engine.cache
import mediastudio.engine.takes
import mediastudio.media.tables
import mediastudio.privacy.tables
import mediastudio.projects.tables
import mediastudio.quotas.tables
import mediastudio.tasks.tables
import mediastudio.workflows.tables
import mediastudio.workspaces.tables  # noqa: F401  (tables register on import)
from mediastudio.auth.cache import STAMP, watch
from mediastudio.auth.tables import add_missing_columns as add_policy_columns
from mediastudio.comments.tables import add_missing_indexes as add_inbox_indexes
from mediastudio.db import Database
from mediastudio.engine.service import add_missing_indexes as add_run_indexes
from mediastudio.projects.tables import add_missing_indexes as add_project_indexes
from mediastudio.tasks.tables import add_missing_columns as add_task_columns
from mediastudio.tasks.tables import add_missing_indexes as add_task_indexes
from mediastudio.webhooks.tables import add_missing_columns as add_webhook_columns
from mediastudio.webhooks.tables import add_missing_indexes as add_webhook_indexes

UPGRADES = (add_webhook_columns, add_task_columns, add_task_indexes, add_run_indexes, add_project_indexes,
            add_policy_columns, add_inbox_indexes, add_webhook_indexes)


def open_database(path: Path) -> Database:
    """The database at `path` with every table present and up to date. A committed change to a user, a session or
    a token is noted beside it (auth/cache.py), for the identity caches of the server processes."""
    db = Database(path)
    db.migrate(UPGRADES)
    watch(db.engine, path.parent / STAMP)
    return db
