"""/api/v1/models: installed models (and the machine they run on), the catalog of recommended ones; admins add,
download and remove them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import col, select

from mediastudio.audit.actions import Action
from mediastudio.audit.record import ActorDep, Target, record
from mediastudio.auth.identity import IdentityDep, provide_admin
from mediastudio.common import Page
from mediastudio.db import DatabaseDep
from mediastudio.errors import Conflict, InsufficientStorage, Unprocessable
from mediastudio.models.advice import how_to_add, offline_hint
from mediastudio.models.bases import label
from mediastudio.models.catalog import CatalogEntry, Recommended, entry_for, find_entry, load_catalog, recommended_for
from mediastudio.models.controlnets import list_controlnets
from mediastudio.models.ipadapters import IpAdapterFiles
from mediastudio.models.loras import LoraFiles
from mediastudio.models.pull import bytes_in, disk_problem, free_bytes, partial_folder
from mediastudio.models.registry import ModelInfo, ModelRegistry, ModelsDep
from mediastudio.models.vaes import list_vaes
from mediastudio.settings import Settings, SettingsDep
from mediastudio.system.gpu import GpuDep, GpuProbe
from mediastudio.tasks.schemas import TaskOut
from mediastudio.tasks.system import TasksDep, TaskSystem
from mediastudio.tasks.tables import Task

FAMILY = ("The base family it was made for: sd_v1, sd_v2, sd_v (1.x or 2.x), sdxl, sd3 or flux; null where it "
          "cannot be told (then it is allowed with any model)")
BASE = "That family in words (null: unknown)"


def based(family: str | None) -> str | None:
    return label(family) if family else None


class ModelOut(BaseModel):
    name: str
    kind: str = Field(description="text-to-image, inpaint, text-to-video, image-to-video or upscale")
    pipeline: str = Field(description="The diffusers pipeline class")
    path: str
    linked: bool = Field(description="Registered from a folder elsewhere (removing it leaves that folder)")
    size_bytes: int
    catalog_id: str | None = Field(None, description="The catalog entry it came from, if any")
    recommended: Recommended = Field(description="Settings that fit it: its catalog entry's, else its pipeline's")
    family: str | None = Field(None, description=FAMILY)
    base: str | None = Field(None, description=BASE)

    @classmethod
    def of(cls, info: ModelInfo, entries: list[CatalogEntry]) -> ModelOut:
        entry = entry_for(info, entries)
        return cls(**info.as_dict(), catalog_id=entry.id if entry else None,
                   recommended=recommended_for(info, entries), base=based(info.family))


class ModelsOut(Page[ModelOut]):
    device: str = Field(description="What generation runs on: cuda, mps or cpu")
    warning: str | None = Field(None, description="e.g. generation on the CPU is slow")
    how_to_add: str = Field(description="What to do to install a model, worded for the caller (commands for "
                                          "admins, whom to ask for everyone else)")


REPO = r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$"
Repo = Annotated[str, StringConstraints(min_length=3, max_length=200, pattern=REPO)]
ENTRY = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
EntryId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ENTRY)]


class LoraOut(BaseModel):
    name: str = Field(description="Its path inside the data folder's loras/ (what a LoRA node's `lora` takes)")
    kind: str = Field("lora", description="lora")
    size_bytes: int
    family: str | None = Field(None, description=f"{FAMILY}: from its metadata, else from its layers' shapes")
    base: str | None = Field(None, description=BASE)
    location: str = Field(description="Where it is, inside the data folder")


class VaeOut(BaseModel):
    name: str = Field(description="The folder's name in the data folder's models/ (what a node's `vae` takes)")
    kind: str = Field("vae", description="vae")
    vae_class: str = Field(description="The diffusers autoencoder class")
    latent_channels: int = Field(description="Its latent channels (a model working in another number refuses it)")
    size_bytes: int = 0
    family: str | None = Field(None, description=f"{FAMILY}: from its latent channels and scaling factor")
    base: str | None = Field(None, description=BASE)
    location: str = Field(description="Where it is, inside the data folder")


class IpAdapterOut(BaseModel):
    name: str = Field(description="The path of its weights inside the data folder's ipadapters/ (what an "
                                  "IP-Adapter node's `adapter` takes)")
    kind: str = Field("ip-adapter", description="ip-adapter")
    size_bytes: int
    family: str | None = Field(None, description=f"{FAMILY}: from the width of its image tokens")
    base: str | None = Field(None, description=BASE)
    location: str = Field(description="Where it is, inside the data folder")
    image_encoder: bool = Field(description="Its image encoder (image_encoder/ beside the weights) is there; "
                                            "without it the adapter cannot be used")


class ControlNetOut(BaseModel):
    name: str = Field(description="The folder's name in the data folder's models/ (what a ControlNet node's "
                                  "`controlnet` takes)")
    family: str | None = Field(None, description=f"{FAMILY}: from its text width (and XL's added time embedding); "
                                                 "the rule the planning check uses before comparing shapes")
    base: str | None = Field(None, description=BASE)
    cross_attention_dim: int | None = Field(None, description="The text width of the UNet it fits")
    size_bytes: int


class ModelAdd(BaseModel):
    """Exactly one of `path`, `catalog` and `repo` (else a 422)."""

    path: str | None = Field(None, min_length=1, max_length=4096,
                             description="A diffusers folder on the server's machine (registered, not copied)")
    repo: Annotated[Repo | None, Parameter(min_length=3, max_length=200, pattern=REPO)] = Field(
        None, description="A Hugging Face repo id to download (a task)")
    catalog: Annotated[EntryId | None, Parameter(min_length=1, max_length=64, pattern=ENTRY)] = Field(
        None, description="A catalog entry to download (a task)")
    name: str | None = Field(None, max_length=64, description="Its name here (default: the folder's or repo's)")


class ModelAdded(BaseModel):
    model: ModelOut | None = None
    task: TaskOut | None = Field(None, description="The download task, for a catalog entry or a repo")


class CatalogItem(CatalogEntry):
    state: str = Field(description="installed, downloading (a task waits or runs), partial (a download stopped "
                                   "part way: resume it) or available")
    installed_as: str | None = Field(None, description="The installed model's name")
    task: TaskOut | None = Field(None, description="The download task, while it waits or runs (administrators "
                                                   "only: others see the state)")
    bytes_on_disk: int = Field(0, description="What a stopped download left (resuming skips it)")


class CatalogOut(BaseModel):
    items: list[CatalogItem]
    free_bytes: int | None = Field(description="Free disk where models are stored (administrators only)")
    margin_bytes: int = Field(description="Free disk a download must leave beyond the model's size")
    offline_hint: str = Field(description="How to install a model on a machine without the internet")


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return load_catalog(settings.models_catalog)


def _downloads(tasks: TaskSystem) -> dict[str, Task]:
    """Model name → its download task that waits or runs."""
    with tasks.db.session() as db:
        rows = db.exec(select(Task).where(col(Task.kind) == "models.pull",
                                          col(Task.status).in_(("queued", "running", "interrupted")))).all()
    named = {}
    for task in rows:
        params = task.params or {}
        named[str(params.get("name") or str(params.get("repo", "")).split("/")[-1])] = task
    return named


def _device(gpu: GpuProbe) -> str:
    """From the GPU probe (a subprocess at start), so listing models never imports torch here."""
    backend = gpu.summary.get("backend")
    return str(backend) if backend in ("cuda", "mps", "cpu") else "cpu"


class ModelsController(Controller):
    path = "/api/v1/models"

    @get(summary="Installed models, and the device generation runs on", sync_to_thread=True)
    def list_models(self, identity: IdentityDep, models: ModelsDep, gpu: GpuDep, settings: SettingsDep) -> ModelsOut:
        installed = models.list()
        device = _device(gpu)
        warning = ("No GPU was found: generation runs on the CPU and is very slow (minutes per picture)."
                   if device == "cpu" else None)
        entries = _catalog(settings)
        return ModelsOut(items=[ModelOut.of(m, entries) for m in installed], device=device, warning=warning,
                         how_to_add=how_to_add(identity.user.is_admin))

    @get("/loras", summary="LoRA files in the data folder's loras/, for the LoRA node", sync_to_thread=True)
    def list_loras(self, identity: IdentityDep, models: ModelsDep) -> Page[LoraOut]:
        items = [LoraOut(name=i.name, size_bytes=i.size_bytes, family=i.family, base=based(i.family),
                         location=f"loras/{i.name}") for i in LoraFiles(models.root.parent).list()]
        return Page[LoraOut](items=items)

    @get("/vaes", summary="VAE folders in the data folder's models/, for a picture node's `vae`",
         sync_to_thread=True)
    def list_vaes(self, identity: IdentityDep, models: ModelsDep) -> Page[VaeOut]:
        items = [VaeOut(name=v.name, vae_class=v.vae_class, latent_channels=v.latent_channels,
                        size_bytes=v.size_bytes, family=v.family, base=based(v.family), location=f"models/{v.name}/")
                 for v in list_vaes(models.root)]
        return Page[VaeOut](items=items)

    @get("/ipadapters", summary="IP-Adapters in the data folder's ipadapters/, for the IP-Adapter node",
         sync_to_thread=True)
    def list_ipadapters(self, identity: IdentityDep, models: ModelsDep) -> Page[IpAdapterOut]:
        items = [IpAdapterOut(name=i.name, size_bytes=i.size_bytes, family=i.family, base=based(i.family),
                              location=f"ipadapters/{i.name}", image_encoder=i.image_encoder)
                 for i in IpAdapterFiles(models.root.parent).list()]
        return Page[IpAdapterOut](items=items)
    @get("/controlnets", summary="ControlNet folders in the data folder's models/, each with the base it fits",
         sync_to_thread=True)
    def list_controlnets(self, identity: IdentityDep, models: ModelsDep) -> Page[ControlNetOut]:
        items = [ControlNetOut(name=c.name, family=c.family, base=c.base,
                               cross_attention_dim=c.shape.cross_attention_dim, size_bytes=c.size_bytes)
                 for c in list_controlnets(models.root)]
        return Page[ControlNetOut](items=items)

    @get("/catalog", summary="Recommended models, each with its state here (installed, downloading, …)",
         sync_to_thread=True)
    def catalog(self, identity: IdentityDep, models: ModelsDep, tasks: TasksDep, settings: SettingsDep) -> CatalogOut:
        entries = _catalog(settings)
        installed = {m.name: m for m in models.list(sized=False)}
        by_entry = {e.id: m.name for m in installed.values() if (e := entry_for(m, entries)) is not None}
        downloads = _downloads(tasks)
        admin = identity.user.is_admin
        shown = list(downloads.values()) if admin else []  # another person's tasks are theirs and admins'
        described = {t.id: d for t, d in zip(shown, tasks.describe(shown), strict=True)}
        items = []
        for entry in entries:
            task = downloads.get(entry.id)
            on_disk = bytes_in(partial_folder(models, entry.id))
            state = ("installed" if entry.id in by_entry else "downloading" if task is not None
                     else "partial" if on_disk else "available")
            items.append(CatalogItem(**entry.model_dump(), state=state, installed_as=by_entry.get(entry.id),
                                     task=described.get(task.id) if task is not None else None,
                                     bytes_on_disk=on_disk))
        return CatalogOut(items=items, free_bytes=free_bytes(models.root) if admin else None,
                          margin_bytes=settings.models_disk_margin_bytes,
                          offline_hint=offline_hint("stabilityai/sd-turbo", "sd-turbo"))

    @post(summary="Register a local diffusers folder, or download a catalog entry or hub repo (a task)",
          status_code=HTTP_201_CREATED, sync_to_thread=True,
          dependencies={"identity": Provide(provide_admin, sync_to_thread=False)})
    def add(self, data: JSONBody[ModelAdd], identity: IdentityDep, database: DatabaseDep, tasks: TasksDep,
            models: ModelsDep, settings: SettingsDep, actor: ActorDep) -> ModelAdded:
        if sum(bool(x) for x in (data.path, data.repo, data.catalog)) != 1:
            raise Unprocessable("Give one of: a folder (path), a catalog entry (catalog) or a Hugging Face repo id "
                                "(repo).", field="path")
        entries = _catalog(settings)
        if data.path:
            info = models.add(Path(data.path), data.name)
            with database.transaction() as db:  # the folder is linked already: nothing to roll back with it
                record(db, actor, Action.MODEL_ADD, Target("model", info.name, info.name), {"path": data.path})
            return ModelAdded(model=ModelOut.of(info, entries))
        params = _download_params(data, entries, models, settings)
        name = params["name"]
        if name in _downloads(tasks):
            raise Conflict(f"'{name}' is being downloaded already.", hint="Follow that task, or cancel it first.")
        with database.transaction() as db:
            task = tasks.new(db, identity.user, "models.pull", params, None)
            record(db, actor, Action.MODEL_DOWNLOAD, Target("model", str(name), str(name)),
                   {"repo": params["repo"], "catalog": params["catalog"], "task_id": task.id})
        tasks.submit(task)
        return ModelAdded(task=tasks.describe([task])[0])

    @delete("/{name:str}", summary="Remove a model (a linked folder itself is left alone)", status_code=204,
            sync_to_thread=True, dependencies={"identity": Provide(provide_admin, sync_to_thread=False)})
    def remove(self, name: FromPath[str], identity: IdentityDep, models: ModelsDep, database: DatabaseDep,
               actor: ActorDep) -> None:
        models.remove(name)
        with database.transaction() as db:
            record(db, actor, Action.MODEL_REMOVE, Target("model", name[:64], name))


def _download_params(data: ModelAdd, entries: list[CatalogEntry], models: ModelRegistry,
                     settings: Settings) -> dict[str, object]:
    """The pull task's parameters, once the name is free and (for a catalog entry) the disk has room."""
    size: int | None = None
    catalog: str | None = None
    base: str | None = None
    repo = data.repo
    if data.catalog:
        entry = find_entry(entries, data.catalog)
        if not entry.installable:
            raise Unprocessable(f"{entry.name} cannot be downloaded in one click. {entry.note or ''}".strip(),
                                field="catalog")
        repo, catalog, size, base = entry.repo, entry.id, entry.size_bytes, entry.base
    assert repo is not None
    name = models.check_name(data.name or catalog or repo.split("/")[-1])
    if size is not None:
        left = max(0, size - bytes_in(partial_folder(models, name)))
        problem = disk_problem(left, free_bytes(models.root), settings.models_disk_margin_bytes)
        if problem:
            raise InsufficientStorage(problem, hint="Free some disk on the server, or remove a model you no longer "
                                                    "use.", needed_bytes=left + settings.models_disk_margin_bytes,
                                      free_bytes=free_bytes(models.root))
    return {"repo": repo, "name": name, "revision": None, "catalog": catalog, "size_bytes": size, "base": base}
