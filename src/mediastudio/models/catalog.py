"""The catalog of recommended models (catalog.json beside this module, or `settings.models_catalog`), and the
settings that fit a model: from its catalog entry when it came from the catalog, else from its pipeline class."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from mediastudio.errors import NotFound
from mediastudio.models.registry import ModelInfo

BUILT_IN = Path(__file__).with_name("catalog.json")
ORIGIN = ".mediastudio-origin.json"  # written into a pulled model's folder: the repo and catalog entry it came from


class Recommended(BaseModel):
    width: int = Field(ge=64, le=2048, multiple_of=8)
    height: int = Field(ge=64, le=2048, multiple_of=8)
    steps: int = Field(ge=1, le=200, description="The steps a template starts with")
    steps_min: int = Field(ge=1, le=200)
    steps_max: int = Field(ge=1, le=200)
    guidance: float = Field(ge=0.0, le=30.0)


class Licence(BaseModel):
    name: str
    url: str


class CatalogEntry(BaseModel):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="Also its name once installed")
    name: str
    repo: str = Field(pattern=r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
    base: str | None = Field(None, pattern=r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$",
                             description="For a motion adapter: the Stable Diffusion pipeline it is downloaded with")
    kind: str
    pipeline: str
    size_bytes: int = Field(ge=0, description="About what the download takes on disk")
    vram_gb: float = Field(ge=0, description="About the GPU memory it needs at the recommended size")
    licence: Licence
    good_for: str
    recommended: Recommended
    gated: bool = Field(False, description="The hub asks for a login and the licence's acceptance first")
    installable: bool = Field(True, description="False: it cannot be downloaded in one click (see note)")
    note: str | None = None


class CatalogFile(BaseModel):
    models: list[CatalogEntry]


@cache
def _read(path: Path, stamp: float) -> tuple[CatalogEntry, ...]:
    try:
        return tuple(CatalogFile.model_validate(json.loads(path.read_text(encoding="utf-8"))).models)
    except (OSError, ValueError, ValidationError) as exc:
        raise RuntimeError(f"The model catalog {path} cannot be read: {exc}") from exc


def load_catalog(path: Path | None = None) -> list[CatalogEntry]:
    """The catalog's entries (read again when the file changes)."""
    path = path or BUILT_IN
    return list(_read(path, path.stat().st_mtime))


def find_entry(entries: list[CatalogEntry], entry_id: str) -> CatalogEntry:
    for entry in entries:
        if entry.id == entry_id:
            return entry
    raise NotFound(f"The catalog has no model '{entry_id}'.", hint="GET /api/v1/models/catalog lists them.")


def origin_of(folder: Path) -> dict[str, str]:
    """The repo and catalog entry a pulled model came from ({} for a folder added from elsewhere)."""
    try:
        data = json.loads((folder / ORIGIN).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def entry_for(model: ModelInfo, entries: list[CatalogEntry]) -> CatalogEntry | None:
    """The catalog entry an installed model came from: the one its folder names, else the one of its name, else
    one of the repo it was pulled from."""
    origin = origin_of(Path(model.path))
    repo = (origin.get("repo") or "").lower()
    return (next((e for e in entries if e.id == origin.get("catalog")), None)
            or next((e for e in entries if e.id == model.name), None)
            or next((e for e in entries if repo and e.repo.lower() == repo), None))


TURBO = re.compile(r"turbo|lightning|lcm|hyper", re.IGNORECASE)


CONFIG_MAX_BYTES = 256 * 1024  # a component's config.json is a few KB; a larger one is not read


def _config(folder: Path, component: str) -> dict[str, object]:
    path = folder / component / "config.json"
    try:
        if path.stat().st_size > CONFIG_MAX_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def native_size(folder: Path) -> int | None:
    """The picture size a Stable Diffusion-like model was trained at, from its own configs, as diffusers reckons
    its default: the UNet's latent `sample_size` times the VAE's scale (2 per down block after the first).
    512 for SD 1.5 and SD-Turbo, 1024 for SDXL, 64 for a tiny test model. None when the configs do not say."""
    sample = _config(folder, "unet").get("sample_size")
    blocks = _config(folder, "vae").get("block_out_channels")
    if not isinstance(sample, int) or isinstance(sample, bool) or not isinstance(blocks, list) or not blocks:
        return None
    size = sample * 2 ** (len(blocks) - 1)
    return size if 64 <= size <= 2048 and size % 8 == 0 else None


def by_pipeline(model: ModelInfo) -> Recommended:
    """Settings from the pipeline class (and a distilled model's name: few steps, no guidance); a picture model's
    size from its own configs when they say (`native_size`)."""
    name, pipeline = model.name, model.pipeline
    xl = "XL" in pipeline or "Flux" in pipeline or "StableDiffusion3" in pipeline
    native = native_size(Path(model.path)) if "Video" not in pipeline and "LTX" not in pipeline else None
    if TURBO.search(name) or TURBO.search(Path(model.path).name):
        side = 1024 if xl and "turbo" not in name.lower() else 512
        side = min(side, native) if native else side  # a turbo model trained smaller than usual keeps its size
        return Recommended(width=side, height=side, steps=1, steps_min=1, steps_max=4, guidance=0.0)
    if "StableVideoDiffusion" in pipeline:
        return Recommended(width=1024, height=576, steps=25, steps_min=20, steps_max=30, guidance=3.0)
    if "LTX" in pipeline:
        return Recommended(width=704, height=480, steps=50, steps_min=30, steps_max=50, guidance=3.0)
    if xl:
        side = native or 1024
        return Recommended(width=side, height=side, steps=30, steps_min=25, steps_max=40, guidance=6.5)
    if "AnimateDiff" in pipeline:
        side = native or 512
        return Recommended(width=side, height=side, steps=25, steps_min=20, steps_max=30, guidance=7.5)
    side = native or 512
    return Recommended(width=side, height=side, steps=25, steps_min=25, steps_max=30, guidance=7.0)


def recommended_for(model: ModelInfo, entries: list[CatalogEntry]) -> Recommended:
    entry = entry_for(model, entries)
    return entry.recommended if entry is not None else by_pipeline(model)
