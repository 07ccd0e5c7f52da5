"""ControlNet folders: a diffusers `ControlNetModel` saved on its own (`config.json` whose `_class_name` is
"ControlNetModel", and its weights) as a folder of the data folder's `models/`, beside the pipelines (as VAE
folders are). A ControlNet node puts one on a picture model's run.

A ControlNet is a copy of one UNet's encoder: it fits only models of that base. The fit is read from the two
configs (text width, `cross_attention_dim`; channels per block; SDXL's added time embedding), so it is known
before anything loads. Its base family is the one of models/bases.py, told as for LoRAs and VAEs; the check is that
rule first (what the canvas marks), then the shapes themselves (for those whose family cannot be told).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mediastudio.errors import NotFound, TaskFailed
from mediastudio.models.bases import controlnet_family, fits, label
from mediastudio.models.registry import NAME, ModelRegistry

CLASS = "ControlNetModel"
HINT = ("Put a diffusers ControlNet folder (config.json naming ControlNetModel, and its weights) in the data "
        "folder's models/, or pick another.")


@dataclass(frozen=True)
class UnetShape:
    """What of a UNet a ControlNet must match: its text width, channels per block and added embedding."""

    cross_attention_dim: int | None
    blocks: tuple[int, ...]
    addition_embed_type: str | None

    @classmethod
    def of(cls, config: dict[str, Any]) -> UnetShape:
        width = config.get("cross_attention_dim")
        blocks = config.get("block_out_channels")
        added = config.get("addition_embed_type")
        return cls(cross_attention_dim=width if isinstance(width, int) else None,
                   blocks=tuple(b for b in blocks if isinstance(b, int)) if isinstance(blocks, list) else (),
                   addition_embed_type=added if isinstance(added, str) else None)

    @property
    def family(self) -> str | None:
        """Its base family (models/bases.py), None where its width is not one of theirs."""
        return controlnet_family({"cross_attention_dim": self.cross_attention_dim,
                                  "addition_embed_type": self.addition_embed_type})

    def described(self) -> str:
        family = self.family
        return label(family) if family else (f"a base of text width {self.cross_attention_dim} and blocks "
                                             f"{list(self.blocks)}")


@dataclass
class ControlNetInfo:
    name: str
    path: str
    shape: UnetShape
    size_bytes: int

    @property
    def family(self) -> str | None:
        """The base family it was made for (models/bases.py), None where it cannot be told."""
        return self.shape.family

    @property
    def base(self) -> str | None:
        """That family in words."""
        return label(self.family) if self.family else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "family": self.family, "base": self.base}


def _config(path: Path) -> dict[str, Any] | None:
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def _read(folder: Path) -> ControlNetInfo | None:
    config = _config(folder / "config.json")
    if config is None or config.get("_class_name") != CLASS or (folder / "model_index.json").exists():
        return None
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    return ControlNetInfo(name=folder.name, path=str(folder.resolve()), shape=UnetShape.of(config), size_bytes=size)


def list_controlnets(models_root: Path) -> list[ControlNetInfo]:
    """The ControlNet folders among the data folder's models/, by name."""
    if not models_root.is_dir():
        return []
    found = [_read(entry) for entry in sorted(models_root.iterdir(), key=lambda p: p.name.lower())
             if not entry.name.startswith(".") and entry.is_dir()]
    return [info for info in found if info is not None]


def find_controlnet(models_root: Path, name: str) -> ControlNetInfo:
    """The ControlNet folder `name` of models/ (TaskFailed, naming those there are, when there is none)."""
    info = _read(models_root / name) if NAME.match(name) else None
    if info is None:
        known = ", ".join(c.name for c in list_controlnets(models_root)) or "none"
        raise TaskFailed(f"No ControlNet folder named '{name[:100]}' in the data folder's models/ (there: {known}).",
                         code="bad_controlnet", hint=HINT)
    return info


def model_shape(model_path: str | Path) -> UnetShape | None:
    """The UNet shape of an installed model's folder (None: it has no UNet, e.g. a transformer model)."""
    config = _config(Path(model_path) / "unet" / "config.json")
    return UnetShape.of(config) if config is not None else None


def mismatch(info: ControlNetInfo, model: str, shape: UnetShape | None, family: str | None) -> str | None:
    """Why the ControlNet does not fit the model of `shape` and base `family`, in a sentence (None: it fits): the
    families' rule first (bases.fits, the one the canvas marks by), then the shapes, which must be the same."""
    if shape is None:
        return f"The ControlNet '{info.name}' fits Stable Diffusion models; '{model}' has no UNet to guide."
    if not fits(info.family, family):
        return (f"The ControlNet '{info.name}' was made for {label(info.family)}; the model '{model}' is "
                f"{label(family)}.")
    if shape == info.shape:
        return None
    return (f"The ControlNet '{info.name}' was made for {info.shape.described()}; the model '{model}' is "
            f"{shape.described()}.")


DEPTH_HINT = ("Put a transformers depth-estimation folder (config.json and its weights, e.g. Intel/dpt-hybrid-midas or "
              "depth-anything/Depth-Anything-V2-Small-hf, downloaded elsewhere) in the data folder's models/, or use "
              "canny.")


POSE_HINT = ("Put a transformers ViTPose folder (config.json naming VitPoseForPoseEstimation, its weights and "
             "preprocessor_config.json, e.g. usyd-community/vitpose-base-simple, downloaded elsewhere) in the data "
             "folder's models/, or make the pose skeleton elsewhere and use 'As it is'.")
POSE_ARCHITECTURE = "VitPoseForPoseEstimation"


def _transformers_folders(models_root: Path, fits: Callable[[str], bool]) -> list[Path]:
    """Folders of models/ holding a transformers model whose config's `architectures` has one that `fits`."""
    if not models_root.is_dir():
        return []
    found = []
    for entry in sorted(models_root.iterdir(), key=lambda p: p.name.lower()):
        if entry.name.startswith(".") or not entry.is_dir() or (entry / "model_index.json").exists():
            continue
        config = _config(entry / "config.json")
        architectures = config.get("architectures") if config else None
        if isinstance(architectures, list) and any(fits(str(a)) for a in architectures):
            found.append(entry)
    return found


def list_depth_models(models_root: Path) -> list[Path]:
    """Folders of models/ holding a transformers depth-estimation model (its config names a `…ForDepthEstimation`
    architecture), by name: what the Control image node's depth preprocessor uses."""
    return _transformers_folders(models_root, lambda name: name.endswith("ForDepthEstimation"))


def list_pose_models(models_root: Path) -> list[Path]:
    """Folders of models/ holding a transformers ViTPose model (its config names `VitPoseForPoseEstimation`), by
    name: what the Control image node's pose preprocessor uses."""
    return _transformers_folders(models_root, lambda name: name == POSE_ARCHITECTURE)


def list_person_detectors(models_root: Path) -> list[Path]:
    """Folders of models/ holding a transformers object detector (a `…ForObjectDetection` architecture, e.g.
    RT-DETR) that knows a "person" label, by name: the pose preprocessor finds people's boxes with the first."""
    found = _transformers_folders(models_root, lambda name: name.endswith("ForObjectDetection"))
    return [folder for folder in found if person_label(folder) is not None]


def person_label(folder: Path) -> int | None:
    """The id of the "person" label in a detector folder's config (None: it has none)."""
    labels = (_config(folder / "config.json") or {}).get("id2label")
    if not isinstance(labels, dict):
        return None
    for key, name in labels.items():
        if str(name).strip().lower() == "person" and str(key).isdigit():
            return int(key)
    return None


def preprocessing(folder: Path) -> dict[str, Any]:
    """A transformers folder's preprocessor_config.json ({} when it has none or it is not JSON)."""
    return _config(folder / "preprocessor_config.json") or {}


def controlnet_problem(registry: ModelRegistry, model: str | None, folder: str) -> str | None:
    """For planning: why the ControlNet folder `folder` cannot steer installed model `model` (None: the default
    one), in a sentence; None when it can, or when the model is missing (planning says that on its own)."""
    try:
        info = find_controlnet(registry.root, folder)
    except TaskFailed as exc:
        return exc.message
    chosen = registry.default() if model is None else None
    if model is not None:
        try:
            chosen = registry.get(model, sized=False)
        except NotFound:
            return None
    if chosen is None:
        return None
    return mismatch(info, chosen.name, model_shape(chosen.path), chosen.family)
