"""The registry of installed models is the folder `data_dir/models/`: one diffusers folder (or a link to
one, for `mediastudio models add PATH`) per model; what kind it is comes from its `model_index.json`."""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import re
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from litestar.di import NamedDependency

from mediastudio.errors import BadRequest, Conflict, NotFound
from mediastudio.models.bases import model_family

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
VIDEO_I2V = ("ImageToVideo", "Img2Vid", "StableVideoDiffusion", "I2VGen")
VIDEO_T2V = ("TextToVideo", "AnimateDiff", "Video", "CogVideoX", "LTX", "Wan", "Mochi", "Hunyuan", "Allegro")


def kind_of(class_name: str) -> str:
    if any(k in class_name for k in VIDEO_I2V):
        return "image-to-video"
    if any(k in class_name for k in VIDEO_T2V):
        return "text-to-video"
    if "Upscale" in class_name:
        return "upscale"
    if "Inpaint" in class_name:
        return "inpaint"
    return "text-to-image"


@dataclass
class ModelInfo:
    name: str
    path: str
    kind: str  # text-to-image, inpaint, text-to-video, image-to-video, upscale
    pipeline: str  # the diffusers class in model_index.json
    linked: bool  # added from a folder elsewhere (removing it leaves that folder alone)
    size_bytes: int  # 0 where it was not asked for (planning and loading a run need none: it walks the folder)
    family: str | None = None  # the base family (models/bases.py), None where it cannot be told

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder, followlinks=True):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return total


def _head(path: Path) -> str:
    """The first KiB of a small text file ("" when there is none)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.read(1024)
    except OSError:
        return ""


def read_index(folder: Path) -> dict[str, Any]:
    index = folder / "model_index.json"
    if not index.is_file() and '"ControlNetModel"' in _head(folder / "config.json"):
        raise BadRequest(f"{folder} is a ControlNet, not a model: the ControlNet node finds ControlNet folders in the "
                         "data folder's models/.", hint="Copy the folder (or a link to it) into the data folder's "
                         "models/; the Models page lists it under ControlNets.", field="path")
    if not index.is_file():
        raise BadRequest(f"{folder} is not a diffusers model folder (it has no model_index.json).",
                         hint="Point at the folder that holds model_index.json, unet/, vae/, …", field="path")
    try:
        data = json.loads(index.read_text())
    except (OSError, ValueError) as exc:
        raise BadRequest(f"{index} cannot be read as JSON: {exc}", field="path") from exc
    if not isinstance(data, dict) or not isinstance(data.get("_class_name"), str):
        raise BadRequest(f"{index} does not name a diffusers pipeline (_class_name).", field="path")
    return data


# What each model folder's index said, by the index file's identity: planning and running a scene ask for the
# installed models on every run, and reading, parsing and resolving each index again cost ~1 ms a run. A changed,
# replaced or relinked index (another inode, size or time) is read again.
_KNOWN: dict[tuple[str, int, int, int, bool, int], tuple[str, str, bool, str | None]] = {}
_KNOWN_MAX = 512


def _known(entry: Path) -> tuple[str, str, bool, str | None] | None:
    """(resolved path, pipeline class, linked, base family) of a model folder, or None when it is not one
    (read again when the index or the UNet's config, which tells the family, changed)."""
    try:
        linked = entry.is_symlink()
        stat = (entry / "model_index.json").stat()
    except OSError:
        return None
    try:
        unet = (entry / "unet" / "config.json").stat().st_mtime_ns
    except OSError:
        unet = 0
    key = (str(entry), stat.st_ino, stat.st_mtime_ns, stat.st_size, linked, unet)
    found = _KNOWN.get(key)
    if found is None:
        try:
            index = read_index(entry)
        except BadRequest:
            return None
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        found = _KNOWN[key] = (str(entry.resolve()), index["_class_name"], linked,
                               model_family(index["_class_name"], entry))
    return found


LISTING_KEPT_S = 1.0
# models/ → (when listed, the folder's inode and time then, its models without sizes): a run plans its graph when it
# is asked for and again when it starts, and each listing looked at every model folder (~20 µs a model: 0.7 ms with
# 30 installed, twice on every run's path). A folder added to models/ or removed from it (a pull, an add, a remove,
# a copy by hand) changes the folder's time and is seen at once; a model folder changed in place, within
# LISTING_KEPT_S.
_listings: dict[Path, tuple[float, tuple[int, int], tuple[ModelInfo, ...]]] = {}
_listings_lock = threading.Lock()


class ModelRegistry:
    def __init__(self, data_dir: Path, catalog: Path | None = None) -> None:
        self.root = data_dir / "models"
        self.catalog = catalog  # the catalog file (None: the built-in one)

    def list(self, sized: bool = True) -> list[ModelInfo]:
        """The installed models by name; `sized=False`: without summing the size of each one's files (kept for up to
        `LISTING_KEPT_S`, read again at once when a folder is added to models/ or removed from it)."""
        if sized:
            return self._list(True)
        try:
            stat = self.root.stat()
        except OSError:
            return []
        mark = (stat.st_ino, stat.st_mtime_ns)
        with _listings_lock:
            kept = _listings.get(self.root)
        if kept is not None and kept[1] == mark and time.monotonic() - kept[0] < LISTING_KEPT_S:
            return list(kept[2])
        found = self._list(False)
        with _listings_lock:
            _listings[self.root] = (time.monotonic(), mark, tuple(found))
        return found

    def _list(self, sized: bool) -> builtins.list[ModelInfo]:
        if not self.root.is_dir():
            return []
        found = []
        for entry in sorted(self.root.iterdir(), key=lambda p: p.name.lower()):
            if entry.name.startswith(".") or not (entry / "model_index.json").is_file():
                continue
            info = self._info(entry, sized)
            if info is not None:
                found.append(info)
        return found

    def names(self) -> set[str]:
        return {m.name for m in self.list(sized=False)}

    def kinds(self) -> dict[str, str]:
        """Installed model name → its kind (text-to-image, inpaint, text-to-video, image-to-video, upscale)."""
        return {m.name: m.kind for m in self.list(sized=False)}

    def families(self) -> dict[str, str | None]:
        """Installed model name → its base family (models/bases.py; None where it cannot be told)."""
        return {m.name: m.family for m in self.list(sized=False)}

    def _info(self, entry: Path, sized: bool = True) -> ModelInfo | None:
        known = _known(entry)
        if known is None:
            return None
        path, pipeline, linked, family = known
        return ModelInfo(name=entry.name, path=path, kind=kind_of(pipeline), pipeline=pipeline, linked=linked,
                         size_bytes=_size(entry) if sized else 0, family=family)

    def get(self, name: str, sized: bool = True) -> ModelInfo:
        if not sized and NAME.match(name):
            # From the kept listing: one look at models/ where the model's folder took four (its index, the link,
            # the index again, the UNet's config), three times on each run's way to the GPU. Each look lets go of
            # the GIL and waits to take it back from the threads answering the request meanwhile (~0.4 ms a run).
            # A model changed in place is seen within LISTING_KEPT_S, as by `list`.
            found = next((info for info in self.list(sized=False) if info.name == name), None)
            if found is not None:
                return found
        entry = self.root / name
        if not NAME.match(name) or not (entry / "model_index.json").is_file():
            installed = ", ".join(sorted(self.names())) or "none"
            raise NotFound(f"No model named '{name}' is installed (installed: {installed}).",
                           hint="Add one: mediastudio models add PATH, or mediastudio models pull REPO.")
        info = self._info(entry, sized)
        assert info is not None
        return info

    def default(self) -> ModelInfo | None:
        """The first text-to-image model (by name), else the first of any kind (its size not summed)."""
        models = self.list(sized=False)
        pictures = [m for m in models if m.kind in ("text-to-image", "inpaint")]
        return next(iter(pictures or models), None)

    def fit(self, name: str) -> dict[str, Any]:
        """The node parameters that suit installed model `name` (width, height, steps, guidance_scale): its
        catalog entry's when it came from the catalog, else its pipeline's (models/catalog.py)."""
        from mediastudio.models.catalog import load_catalog, recommended_for

        good = recommended_for(self.get(name, sized=False), load_catalog(self.catalog))
        return {"width": good.width, "height": good.height, "steps": good.steps, "guidance_scale": good.guidance}

    def check_name(self, name: str) -> str:
        if not NAME.match(name):
            raise BadRequest(f"'{name}' cannot name a model: use letters, digits, '.', '-' and '_'.", field="name")
        if (self.root / name).exists() or (self.root / name).is_symlink():
            raise Conflict(f"A model named '{name}' is installed already.",
                           hint="Pick another name, or remove it first: mediastudio models remove NAME.")
        return name

    def add(self, path: Path, name: str | None = None) -> ModelInfo:
        """Register a local diffusers folder (linked, not copied)."""
        try:
            folder = path.expanduser().resolve()
            found = folder.is_dir()
        except (OSError, ValueError, RuntimeError):  # a NUL byte, a loop of links, a name too long
            found = False
            folder = path
        if not found:
            raise BadRequest(f"{folder} is not a folder on this machine.", field="path")
        read_index(folder)
        name = self.check_name(name or re.sub(r"[^A-Za-z0-9._-]", "-", folder.name).strip("-.") or "model")
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / name).symlink_to(folder, target_is_directory=True)
        return self.get(name)

    def remove(self, name: str) -> ModelInfo:
        info = self.get(name)
        entry = self.root / name
        if entry.is_symlink():
            entry.unlink()
        else:
            shutil.rmtree(entry)
        return info


ModelsDep = NamedDependency[ModelRegistry]
