"""/api/v1/models: installed models (and the machine they run on); admins add, pull and remove them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED
from pydantic import BaseModel, Field, StringConstraints

from mediastudio.auth.identity import IdentityDep, provide_admin
from mediastudio.common import Page
from mediastudio.db import DatabaseDep
from mediastudio.errors import Unprocessable
from mediastudio.models.advice import how_to_add
from mediastudio.models.registry import ModelsDep
from mediastudio.system.gpu import GpuDep, GpuProbe
from mediastudio.tasks.schemas import TaskOut
from mediastudio.tasks.system import TasksDep


class ModelOut(BaseModel):
    name: str
    kind: str = Field(description="text-to-image, inpaint, text-to-video, image-to-video or upscale")
    pipeline: str = Field(description="The diffusers pipeline class")
    path: str
    linked: bool = Field(description="Registered from a folder elsewhere (removing it leaves that folder)")
    size_bytes: int


class ModelsOut(Page[ModelOut]):
    device: str = Field(description="What generation runs on: cuda, mps or cpu")
    warning: str | None = Field(None, description="e.g. generation on the CPU is slow")
    how_to_add: str = Field(description="What to do to install a model, worded for the caller (commands for "
                                          "admins, whom to ask for everyone else)")


REPO = r"^[\w.-]+/[\w.-]+$"
Repo = Annotated[str, StringConstraints(min_length=3, max_length=200, pattern=REPO)]


class ModelAdd(BaseModel):
    """Exactly one of `path` and `repo` (else a 422)."""

    path: str | None = Field(None, min_length=1, max_length=4096,
                             description="A diffusers folder on the server's machine (registered, not copied)")
    repo: Annotated[Repo | None, Parameter(min_length=3, max_length=200, pattern=REPO)] = Field(
        None, description="A Hugging Face repo id to download (a task)")
    name: str | None = Field(None, max_length=64, description="Its name here (default: the folder's or repo's)")


class ModelAdded(BaseModel):
    model: ModelOut | None = None
    task: TaskOut | None = Field(None, description="The download task, for a repo")


def _device(gpu: GpuProbe) -> str:
    """From the GPU probe (a subprocess at start), so listing models never imports torch here."""
    backend = gpu.summary.get("backend")
    return str(backend) if backend in ("cuda", "mps", "cpu") else "cpu"


class ModelsController(Controller):
    path = "/api/v1/models"

    @get(summary="Installed models, and the device generation runs on", sync_to_thread=True)
    def list_models(self, identity: IdentityDep, models: ModelsDep, gpu: GpuDep) -> ModelsOut:
        installed = models.list()
        device = _device(gpu)
        warning = ("No GPU was found: generation runs on the CPU and is very slow (minutes per picture)."
                   if device == "cpu" else None)
        return ModelsOut(items=[ModelOut(**m.as_dict()) for m in installed], device=device, warning=warning,
                         how_to_add=how_to_add(identity.user.is_admin))

    @post(summary="Register a local diffusers folder, or download a hub repo (a task)", status_code=HTTP_201_CREATED,
          sync_to_thread=True, dependencies={"identity": Provide(provide_admin, sync_to_thread=False)})
    def add(self, data: JSONBody[ModelAdd], identity: IdentityDep, database: DatabaseDep, tasks: TasksDep,
            models: ModelsDep) -> ModelAdded:
        if bool(data.path) == bool(data.repo):
            raise Unprocessable("Give either a folder (path) or a Hugging Face repo id (repo).", field="path")
        if data.path:
            info = models.add(Path(data.path), data.name)
            return ModelAdded(model=ModelOut(**info.as_dict()))
        with database.transaction() as db:
            task = tasks.new(db, identity.user, "models.pull",
                                  {"repo": data.repo, "name": data.name}, None)
        tasks.submit(task)
        return ModelAdded(task=tasks.describe([task])[0])

    @delete("/{name:str}", summary="Remove a model (a linked folder itself is left alone)", status_code=204,
            sync_to_thread=True, dependencies={"identity": Provide(provide_admin, sync_to_thread=False)})
    def remove(self, name: FromPath[str], identity: IdentityDep, models: ModelsDep) -> None:
        models.remove(name)
