"""/api/v1/samples: the sample projects this studio ships, and a copy of one as a new project of yours."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import File
from litestar.status_codes import HTTP_201_CREATED

from mediastudio.auth.identity import IdentityDep
from mediastudio.db import DatabaseDep
from mediastudio.projects.schemas import ProjectOut, project_out_for
from mediastudio.samples.catalog import all_samples, get_sample
from mediastudio.samples.schemas import SampleCopy, SampleOut
from mediastudio.samples.service import copy_sample
from mediastudio.settings import SettingsDep
from mediastudio.storage.blobs import BlobsDep


class SamplesController(Controller):
    path = "/api/v1/samples"
    tags = ("projects",)

    @get(summary="The sample projects this studio ships", sync_to_thread=False)
    def list_samples(self, identity: IdentityDep) -> list[SampleOut]:
        return [SampleOut(id=s.id, name=s.name, description=s.description, cover_url=f"{self.path}/{s.id}/cover")
                for s in all_samples()]

    @get("/{sample_id:str}/cover", summary="A sample's cover picture (WebP)", sync_to_thread=False,
         media_type="image/webp")
    def cover(self, sample_id: FromPath[str], identity: IdentityDep) -> File:
        sample = get_sample(sample_id)
        return File(sample.cover, filename=sample.cover.name, content_disposition_type="inline",
                    media_type="image/webp", headers={"Cache-Control": "private, max-age=3600"})

    @post("/{sample_id:str}/copy", summary="Copy a sample into a workspace as a new project (its scenes, media "
          "and history), charged to your storage quota", status_code=HTTP_201_CREATED, sync_to_thread=True,
          opt={"expensive": True})
    def copy(self, sample_id: FromPath[str], identity: IdentityDep, database: DatabaseDep, settings: SettingsDep,
             blobs: BlobsDep, data: JSONBody[SampleCopy | None] = None) -> ProjectOut:
        with database.transaction() as db:
            project = copy_sample(db, settings, blobs, identity.user, sample_id, data.workspace_id if data else None)
        with database.session() as db:
            return project_out_for(db, identity.user, project.id)
