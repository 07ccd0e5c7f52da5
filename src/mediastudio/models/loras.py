"""LoRA files: `.safetensors` under the data folder's `loras/` (subfolders allowed), named by their path there.

A name comes from a client (a node's parameter): it is resolved and refused unless the file it reaches, links
followed, lies inside `loras/`. Applying one to a pipeline goes through diffusers' peft backend
(`load_lora_weights` / `set_adapters`) and is always undone after the run (`applied`), so the cached pipeline
is clean for the next one.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mediastudio.errors import TaskFailed
from mediastudio.models.bases import lora_family_from_shapes, read_header

SUFFIX = ".safetensors"
MAX_NAME = 200
MAX_HEADER = 100 << 20  # safetensors' own bound on a header
HINT = "Put LoRA files (.safetensors) in the data folder's loras/ and pick one of them."
# kohya's trainer records the base model; its words for the families this studio loads
FAMILIES = {"sdxl": "Stable Diffusion XL", "sd_v1": "Stable Diffusion 1.x", "sd_v2": "Stable Diffusion 2.x",
            "sd3": "Stable Diffusion 3", "flux": "Flux"}
PIPELINE_FAMILY = (("XL", "sdxl"), ("StableDiffusion3", "sd3"), ("Flux", "flux"), ("StableDiffusion", "sd_v"))

# Only one run at a time may patch a model's shared layers with its LoRAs (the layers are shared by every
# thread's pipeline of that model).
_patching = threading.Lock()


@dataclass
class LoraInfo:
    name: str  # the path under loras/, with '/'
    size_bytes: int
    base: str | None  # the base model its metadata names, if it names one
    family: str | None = None  # its base family: from its metadata, else its shapes (models/bases.py)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_metadata(path: Path) -> dict[str, str]:
    """The `__metadata__` of a safetensors file's header (without reading its tensors)."""
    with path.open("rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        if not 0 < size <= MAX_HEADER:
            raise ValueError("not a safetensors file")
        header = json.loads(handle.read(size))
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {}


def family_of(metadata: dict[str, str]) -> str | None:
    """The base family a LoRA's metadata names (kohya's `ss_base_model_version`, or `modelspec.architecture`)."""
    said = (metadata.get("ss_base_model_version") or metadata.get("modelspec.architecture") or "").lower()
    for key in FAMILIES:
        if said.startswith(key) or f"{key}-" in said or said.startswith(key.replace("_", "-")):
            return key
    if "stable-diffusion-xl" in said:
        return "sdxl"
    if "stable-diffusion-v1" in said:
        return "sd_v1"
    return None


@functools.lru_cache(maxsize=512)
def _families(path: str, _mtime_ns: int, _size: int) -> tuple[str | None, str | None]:
    """(the family its metadata names, its family: that, else from its shapes), read once per version of the file
    (planning asks on every check of a scene)."""
    header = read_header(Path(path))
    meta = header.get("__metadata__")
    said = family_of({str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {})
    return said, said or lora_family_from_shapes(header)


def pipeline_family(pipeline_class: str) -> str | None:
    return next((family for word, family in PIPELINE_FAMILY if word in pipeline_class), None)


class LoraFiles:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "loras"

    def list(self) -> list[LoraInfo]:
        """Every LoRA file under loras/ (links followed only while they stay inside), by name."""
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.rglob(f"*{SUFFIX}")):
            name = path.relative_to(self.root).as_posix()
            if any(part.startswith(".") for part in path.relative_to(self.root).parts):
                continue
            real = self._inside(name)
            try:
                stat = real.stat() if real is not None else None
                said, family = _families(str(real), stat.st_mtime_ns, stat.st_size) if stat else (None, None)
            except (OSError, ValueError):
                continue
            if real is None or stat is None:
                continue
            found.append(LoraInfo(name=name, size_bytes=stat.st_size, base=FAMILIES.get(said or ""), family=family))
        return found

    def resolve(self, name: str) -> Path:
        """The file `name` names inside loras/; TaskFailed for a name that leaves it, or that is not there."""
        if not plain_name(name):
            raise TaskFailed(f"'{name[:MAX_NAME]}' cannot name a LoRA file: give its path inside the data "
                             f"folder's loras/, ending in {SUFFIX}.", code="bad_lora", hint=HINT)
        path = self._inside(name)
        if path is None:
            known = ", ".join(i.name for i in self.list()[:10]) or "none"
            raise TaskFailed(f"No LoRA file '{name}' in the data folder's loras/ (there: {known}).",
                             code="bad_lora", hint=HINT)
        return path

    def _inside(self, name: str) -> Path | None:
        """The file `name` reaches, links followed, if it is a file inside loras/."""
        return file_inside(self.root, name)


def plain_name(name: str) -> bool:
    """Whether a client's name of a weights file (a LoRA's, an IP-Adapter's) may be looked for at all: a relative
    path with no '..', drive or backslash, ending in .safetensors, not too long."""
    return not (not name or len(name) > MAX_NAME or "\x00" in name or "\\" in name or name.startswith("/")
                or re.match(r"^[A-Za-z]:", name) or ".." in Path(name).parts or not name.endswith(SUFFIX))


def file_inside(root: Path, name: str) -> Path | None:
    """The file `name` reaches under `root`, links followed, if it is a file inside `root`."""
    resolved = root.resolve()
    try:
        path = (resolved / name).resolve()
        return path if path.is_relative_to(resolved) and path.is_file() else None
    except (OSError, RuntimeError, ValueError):
        return None


def _mismatch(exc: BaseException) -> str:
    """The first layer whose shape differs, in a sentence (torch lists them all, one per line)."""
    text = str(exc)
    found = re.search(r"size mismatch for (\S+?)(?:\.lora_[AB])?(?:\.\w+)?\.weight: copying a param with shape "
                      r"torch\.Size\((\[[^]]*\])\) from checkpoint, the shape in current model is "
                      r"torch\.Size\((\[[^]]*\])\)", text)
    if found:
        layer, theirs, ours = found.groups()
        return f"its layer {layer} is {theirs}, the model's {ours}"
    return text.strip().split("\n")[0][:200]


def _adapter(index: int) -> str:
    return f"mediastudio_lora_{index}"


def _refuse_other_family(name: str, path: Path, pipeline_class: str, model: str) -> None:
    try:
        said = family_of(read_metadata(path))
    except (OSError, ValueError) as exc:
        raise TaskFailed(f"'{name}' cannot be read as a safetensors file.", code="bad_lora", hint=HINT) from exc
    ours = pipeline_family(pipeline_class)
    if said and ours and not said.startswith(ours):
        raise TaskFailed(f"'{name}' was made for {FAMILIES[said]}; the model '{model}' is {pipeline_class}.",
                         code="lora_mismatch", hint="Pick a LoRA made for this model's base, or another model.")


@contextlib.contextmanager
def applied(pipe: Any, loras: list[tuple[str, Path, float]], model: str) -> Iterator[list[dict[str, Any]]]:
    """`pipe` with `loras` (name, file, weight) loaded and weighted for the run; all unloaded afterwards, also when
    the run failed or a LoRA did not fit (then TaskFailed: the file was made for another base model)."""
    if not loras:
        yield []
        return
    if not hasattr(pipe, "load_lora_weights"):
        raise TaskFailed(f"The model '{model}' ({type(pipe).__name__}) takes no LoRA.", code="lora_mismatch",
                         hint="Remove the LoRA node, or use a Stable Diffusion model.")
    with _patching:
        try:
            names = []
            for index, (name, path, _) in enumerate(loras):
                _refuse_other_family(name, path, type(pipe).__name__, model)
                _load(pipe, name, path, _adapter(index), model)
                names.append(_adapter(index))
            pipe.set_adapters(names, adapter_weights=[weight for _, _, weight in loras])
            yield [{"file": name, "weight": weight} for name, _, weight in loras]
        finally:
            pipe.unload_lora_weights()


def _load(pipe: Any, name: str, path: Path, adapter: str, model: str) -> None:
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
    except (OSError, ValueError, RuntimeError) as exc:
        raise TaskFailed(f"'{name}' cannot be read as a safetensors file.", code="bad_lora", hint=HINT) from exc
    try:
        pipe.load_lora_weights(state, adapter_name=adapter)
    except ImportError as exc:
        raise TaskFailed("LoRAs need the Python package peft, which is not installed.", code="no_peft",
                         hint="pip install peft") from exc
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise TaskFailed(f"'{name}' does not fit the model '{model}': it was made for another base model "
                         f"({_mismatch(exc)}).", code="lora_mismatch",
                         hint="Pick a LoRA made for this model's base, or another model.") from exc
    loaded = {a for adapters in pipe.get_list_adapters().values() for a in adapters}
    if adapter not in loaded:
        raise TaskFailed(f"'{name}' does not fit the model '{model}': none of its layers matched the model's "
                         "(it was made for another base model, or is not a LoRA).", code="lora_mismatch",
                         hint="Pick a LoRA made for this model's base, or another model.")
