"""IP-Adapters: weights that let a reference picture steer a Stable Diffusion model, under the data folder's
`ipadapters/` in diffusers' layout (as h94/IP-Adapter ships them): the weights file, a `.safetensors` holding
`image_proj.*` and `ip_adapter.*` tensors (e.g. `models/ip-adapter_sd15.safetensors`), with its image encoder (a
CLIPVisionModelWithProjection folder) in `image_encoder/` beside it. Each is named by its path inside
`ipadapters/`; a name from a client is resolved and refused unless the file it reaches, links followed, lies inside.

Applying one goes through diffusers' `load_ip_adapter` on the cached pipeline and is always undone after the run
(`unload_ip_adapter`, in `applied`), so the next run finds the model as it was, without loading it again.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mediastudio.errors import TaskFailed
from mediastudio.models.bases import ip_adapter_family, read_header
from mediastudio.models.loras import MAX_NAME, SUFFIX, file_inside, plain_name

ENCODER = "image_encoder"
HINT = ("Put IP-Adapter weights in the data folder's ipadapters/ in diffusers' layout: e.g. "
        "ipadapters/models/ip-adapter_sd15.safetensors with its image encoder in ipadapters/models/image_encoder/ "
        "(both from h94/IP-Adapter).")

# One run at a time patches a model's shared UNet with an IP-Adapter (the UNet is shared by every thread's
# pipeline of that model).
_patching = threading.Lock()


@dataclass
class IpAdapterInfo:
    name: str  # the path under ipadapters/, with '/'
    path: str
    size_bytes: int
    family: str | None  # the base family its shapes tell (models/bases.py)
    image_encoder: bool  # its image_encoder/ folder is there beside it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_adapter(header: dict[str, Any]) -> bool:
    return any(k.startswith("image_proj.") for k in header) and any(k.startswith("ip_adapter.") for k in header)


class IpAdapterFiles:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "ipadapters"

    def list(self) -> list[IpAdapterInfo]:
        """Every IP-Adapter weights file under ipadapters/ (links followed only while they stay inside), by name."""
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.rglob(f"*{SUFFIX}")):
            relative = path.relative_to(self.root)
            if any(part.startswith(".") for part in relative.parts) or ENCODER in relative.parts:
                continue
            info = self._info(relative.as_posix())
            if info is not None:
                found.append(info)
        return found

    def _info(self, name: str) -> IpAdapterInfo | None:
        real = self._inside(name)
        if real is None:
            return None
        try:
            header = read_header(real)
            size = real.stat().st_size
        except (OSError, ValueError):
            return None
        if not _is_adapter(header):
            return None
        return IpAdapterInfo(name=name, path=str(real), size_bytes=size, family=ip_adapter_family(header),
                             image_encoder=(real.parent / ENCODER / "config.json").is_file())

    def find(self, name: str) -> IpAdapterInfo:
        """The IP-Adapter `name` names inside ipadapters/; TaskFailed for a name that leaves it, or is not one."""
        if not plain_name(name):
            raise TaskFailed(f"'{name[:MAX_NAME]}' cannot name an IP-Adapter: give the path of its weights inside "
                             f"the data folder's ipadapters/, ending in {SUFFIX}.", code="bad_ip_adapter", hint=HINT)
        info = self._info(name)
        if info is None:
            known = ", ".join(i.name for i in self.list()[:10]) or "none"
            raise TaskFailed(f"No IP-Adapter '{name}' in the data folder's ipadapters/ (there: {known}).",
                             code="no_ip_adapter", hint=HINT)
        if not info.image_encoder:
            raise TaskFailed(f"The IP-Adapter '{name}' has no image encoder beside it ({ENCODER}/ in the folder of "
                             "its weights).", code="no_ip_adapter", hint=HINT)
        return info

    def _inside(self, name: str) -> Path | None:
        return file_inside(self.root, name)


@contextlib.contextmanager
def applied(pipe: Any, adapter: IpAdapterInfo | None, scale: float, model: str) -> Iterator[bool]:
    """`pipe` with the IP-Adapter loaded at `scale` for the run (True), or as it is when there is none (False);
    unloaded afterwards, also when the run failed or the adapter did not fit (then TaskFailed)."""
    if adapter is None:
        yield False
        return
    if not hasattr(pipe, "load_ip_adapter"):
        raise TaskFailed(f"The model '{model}' ({type(pipe).__name__}) takes no IP-Adapter.",
                         code="ip_adapter_mismatch",
                         hint="Remove the IP-Adapter node, or use a Stable Diffusion model.")
    path = Path(adapter.path)
    with _patching:
        try:
            try:
                pipe.load_ip_adapter(str(path.parent), subfolder="", weight_name=path.name,
                                     image_encoder_folder=ENCODER, local_files_only=True)
            except (RuntimeError, ValueError, KeyError, TypeError, OSError) as exc:
                first = str(exc).strip().split("\n")[0][:200]
                raise TaskFailed(f"The IP-Adapter '{adapter.name}' does not fit the model '{model}' ({first}).",
                                 code="ip_adapter_mismatch",
                                 hint="Pick an IP-Adapter made for this model's base, or another model.") from exc
            pipe.set_ip_adapter_scale(scale)
            yield True
        finally:
            pipe.unload_ip_adapter()
