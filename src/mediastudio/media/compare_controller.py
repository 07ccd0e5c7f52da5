"""GET /api/v1/projects/{id}/assets/compare: two to six takes side by side, and what sets them apart."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from mediastudio.auth.identity import IdentityDep
from mediastudio.db import DatabaseDep
from mediastudio.media.compare import IDS_PATTERN, MAX_TAKES, MIN_TAKES, Comparison, compare
from mediastudio.media.controller import _names
from mediastudio.settings import SettingsDep


class CompareController(Controller):
    path = "/api/v1/projects/{project_id:str}/assets/compare"
    tags = ("assets",)

    @get(summary=f"Compare {MIN_TAKES} to {MAX_TAKES} assets: each one's summary and the parameters that differ",
         sync_to_thread=True)
    def compare_assets(self, project_id: FromPath[str], identity: IdentityDep, database: DatabaseDep,
                       settings: SettingsDep,
                       ids: Annotated[str | None, QueryParameter(
                           # the document states the form; `compare` checks it, after the project's access, in words
                           # a person can act on (the framework's own refusal quotes the regex)
                           schema_extra={"pattern": IDS_PATTERN},
                           description=f"Asset ids, comma-separated ({MIN_TAKES} to {MAX_TAKES}, different)")]
                       = None) -> Comparison:
        with database.session() as db:  # the project's access is checked before the ids are
            return compare(db, settings, identity.user, project_id, ids, _names)
