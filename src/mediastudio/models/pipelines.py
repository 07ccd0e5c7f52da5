"""Loaded pipelines: kept by LRU under a memory budget, one clone per worker thread (a pipeline object
holds scheduler state and is not thread-safe), fp16 on CUDA, CPU offload when the GPU is short.

diffusers is imported here, lazily: the first time a pipeline is needed (or when the queue preloads).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from mediastudio.errors import NotFound, TaskFailed
from mediastudio.models.controlnets import (
    DEPTH_HINT,
    POSE_HINT,
    ControlNetInfo,
    find_controlnet,
    list_depth_models,
    list_person_detectors,
    list_pose_models,
    person_label,
    preprocessing,
)
from mediastudio.models.ipadapters import IpAdapterFiles
from mediastudio.models.loras import LoraFiles
from mediastudio.models.registry import ModelRegistry
from mediastudio.models.vaes import VaeInfo, find_vae
from mediastudio.system.heap import paused, settle
from mediastudio.tasks.logs import note, since

log = logging.getLogger("mediastudio")
VAES_KEPT = 2  # VAE overrides kept loaded (a VAE is small beside its pipeline)
CONTROLNETS_KEPT = 3  # ControlNets kept loaded (about a third of their model's UNet each)
PURPOSES = ("text-to-image", "image-to-image", "inpaint", "text-to-video", "image-to-video", "upscale")


class TorchvisionFallback(logging.Filter):
    """transformers warns, per image processor, that torchvision is missing and that it falls back to the
    Pillow version. Those processors only feed a pipeline's optional parts (feature extractors, safety checkers)
    and the fallback works, so the log says it once, in the studio's words, instead of a warning per class."""

    def __init__(self) -> None:
        super().__init__()
        self.said = False

    def filter(self, record: logging.LogRecord) -> bool:
        if "requires torchvision (not installed)" not in record.getMessage():
            return True
        if not self.said:
            self.said = True
            log.info("torchvision is not installed: transformers uses the Pillow image processors, which work "
                     "for generation (pip install torchvision to use its own).")
        return False


def quiet_torchvision_fallback() -> None:
    """Installs the filter once in this process, on the logger transformers warns from."""
    warner = logging.getLogger("transformers.utils.import_utils")
    if not any(isinstance(f, TorchvisionFallback) for f in warner.filters):
        warner.addFilter(TorchvisionFallback())


def pick_device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def dtype_argument(dtype: Any) -> dict[str, Any]:
    """`dtype=` where diffusers has renamed `torch_dtype` (it deprecates the old name), else `torch_dtype=`."""
    import diffusers.utils.deprecation_utils as deprecation

    return {"dtype": dtype} if hasattr(deprecation, "_TORCH_DTYPE_DEPRECATION_MESSAGE") else {"torch_dtype": dtype}


def _bytes_of(pipe: Any) -> int:
    total = 0
    for component in pipe.components.values():
        parameters = getattr(component, "parameters", None)
        if callable(parameters):
            total += sum(p.numel() * p.element_size() for p in parameters())
    return total


class PipelineCache:
    def __init__(self, registry: ModelRegistry, budget_bytes: int | None = None, device: str | None = None) -> None:
        self.registry = registry
        self._device = device
        self.budget = budget_bytes
        self.bases: OrderedDict[str, Any] = OrderedDict()  # model name → loaded pipeline (LRU order)
        self.offloaded: set[str] = set()
        self.lock = threading.RLock()
        self.local = threading.local()
        self.loads = 0  # how many times a model was read from disk (tests check the cache with it)
        self.vaes: OrderedDict[str, tuple[VaeInfo, Any]] = OrderedDict()  # VAE overrides, LRU
        self.controlnets: OrderedDict[str, tuple[ControlNetInfo, Any]] = OrderedDict()  # LRU
        self.depth: tuple[str, Any, Any] | None = None  # the depth model loaded: (name, processor, model)
        self.pose: tuple[str, dict[str, Any], Any] | None = None  # the pose model: (name, preprocessing, model)
        self.detector: tuple[str, int, Any, Any] | None = None  # the person detector: (name, label, processor, model)

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = pick_device()
            if self._device == "cpu" and (os.cpu_count() or 1) <= 2:
                import torch

                torch.set_num_threads(1)
        return self._device

    def resolve_name(self, name: str | None) -> str:
        if name:
            try:
                return self.registry.get(name, sized=False).name
            except NotFound as exc:
                raise TaskFailed(exc.detail, code="no_model",
                                 hint=f"Pick an installed model in the Model node. {exc.hint} "
                                      "(Administrators: Server settings → Models.)") from exc
        default = self.registry.default()
        if default is None:
            raise TaskFailed("No model is installed, so nothing can be generated yet.", code="no_model",
                             hint="An administrator adds one in Server settings → Models, or on the server: "
                                  "mediastudio models add PATH (or pull one when online: mediastudio models pull "
                                  "REPO).")
        return default.name

    @property
    def loras(self) -> LoraFiles:
        """The LoRA files of the data folder (loras/)."""
        return LoraFiles(self.registry.root.parent)

    @property
    def ipadapters(self) -> IpAdapterFiles:
        """The IP-Adapters of the data folder (ipadapters/)."""
        return IpAdapterFiles(self.registry.root.parent)

    def vae(self, name: str) -> tuple[VaeInfo, Any]:
        """The VAE folder `name` of the data folder's models/, loaded on the device (TaskFailed: no such folder)."""
        with self.lock:
            info = find_vae(self.registry.root, name)
            kept = self.vaes.get(name)
            if kept is not None and kept[0] == info:
                self.vaes.move_to_end(name)
                return kept
            import diffusers

            log.info("Loading VAE '%s' (%s) on %s", name, info.vae_class, self.device)
            note("info", f"Loading VAE '{name}' ({info.vae_class}) on {self.device}")
            vae_class = getattr(diffusers, info.vae_class, None)
            if vae_class is None:
                raise TaskFailed(f"The VAE '{name}' is a {info.vae_class}, which this diffusers cannot load.",
                                 code="bad_vae", hint="Pick another VAE, or leave it empty.")
            module = vae_class.from_pretrained(info.path, local_files_only=True, **dtype_argument(self._dtype()))
            module.to(self.device)
            self.vaes[name] = (info, module)
            while len(self.vaes) > VAES_KEPT:
                self.vaes.popitem(last=False)
            return info, module

    def controlnet(self, name: str) -> tuple[ControlNetInfo, Any]:
        """The ControlNet folder `name` of the data folder's models/, loaded on the device (TaskFailed: no such
        folder); the last few stay loaded, so runs after the first read nothing from disk."""
        with self.lock:
            info = find_controlnet(self.registry.root, name)
            kept = self.controlnets.get(name)
            if kept is not None and kept[0] == info:
                self.controlnets.move_to_end(name)
                return kept
            from diffusers import ControlNetModel

            note("info", f"Loading ControlNet '{name}' on {self.device}")
            module = ControlNetModel.from_pretrained(info.path, local_files_only=True, **dtype_argument(self._dtype()))
            module.to(self.device)
            self.controlnets[name] = (info, module)
            while len(self.controlnets) > CONTROLNETS_KEPT:
                self.controlnets.popitem(last=False)
            return info, module

    def depth_estimator(self) -> tuple[str, Any, Any]:
        """The first depth-estimation folder of models/: (its name, image processor, model), kept loaded."""
        with self.lock:
            found = list_depth_models(self.registry.root)
            if not found:
                raise TaskFailed("No depth model is installed, so no depth map can be made.", code="no_depth_model",
                                 hint=DEPTH_HINT)
            folder = found[0]
            if self.depth is not None and self.depth[0] == folder.name:
                return self.depth
            from transformers import AutoImageProcessor, AutoModelForDepthEstimation

            note("info", f"Loading depth model '{folder.name}' on {self.device}")
            processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
            model = AutoModelForDepthEstimation.from_pretrained(str(folder), local_files_only=True)
            self.depth = (folder.name, processor, model.to(self.device).eval())
            return self.depth

    def pose_estimator(self) -> tuple[str, dict[str, Any], Any]:
        """The first ViTPose folder of models/: (its name, its preprocessor_config.json, the model), kept loaded.
        Its image processor is not run (it needs SciPy to crop): `engine/pose.py` crops and reads the heatmaps."""
        with self.lock:
            found = list_pose_models(self.registry.root)
            if not found:
                raise TaskFailed("No pose model is installed, so no pose skeleton can be made.", code="no_pose_model",
                                 hint=POSE_HINT)
            folder = found[0]
            if self.pose is not None and self.pose[0] == folder.name:
                return self.pose
            import transformers

            model_class = getattr(transformers, "VitPoseForPoseEstimation", None)
            if model_class is None:
                raise TaskFailed(f"The pose model '{folder.name}' is a ViTPose, which this transformers "
                                 f"({transformers.__version__}) cannot run.", code="no_pose_model",
                                 hint="The server needs transformers 4.48 or newer: pip install -U transformers.")
            note("info", f"Loading pose model '{folder.name}' on {self.device}")
            model = model_class.from_pretrained(str(folder), local_files_only=True)
            self.pose = (folder.name, preprocessing(folder), model.to(self.device).eval())
            return self.pose

    def person_detector(self) -> tuple[str, int, Any, Any] | None:
        """The first object detector of models/ that knows people: (its name, the person label's id, image
        processor, model), kept loaded; None when there is none (the pose preprocessor then takes the whole
        picture as one person's box)."""
        with self.lock:
            found = list_person_detectors(self.registry.root)
            if not found:
                return None
            folder = found[0]
            if self.detector is not None and self.detector[0] == folder.name:
                return self.detector
            from transformers import AutoImageProcessor, AutoModelForObjectDetection

            note("info", f"Loading person detector '{folder.name}' on {self.device}")
            processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
            model = AutoModelForObjectDetection.from_pretrained(str(folder), local_files_only=True)
            self.detector = (folder.name, person_label(folder) or 0, processor, model.to(self.device).eval())
            return self.detector

    def _dtype(self) -> Any:
        import torch

        return torch.float16 if self.device == "cuda" else torch.float32

    def _budget(self) -> int:
        if self.budget is not None:
            return self.budget
        if self.device == "cuda":
            import torch

            _, total = torch.cuda.mem_get_info()
            return int(total * 0.8)
        return 1 << 62  # CPU / MPS: the OS manages memory

    def base(self, name: str) -> Any:
        with self.lock:
            if name in self.bases:
                self.bases.move_to_end(name)
                note("info", f"Model '{name}' is already loaded on {self.device}", once=True)
                return self.bases[name]
            info = self.registry.get(name, sized=False)
            # A loaded model (and the libraries its first load imports) lives long: no collection while it loads,
            # then the collector stops walking it (system/heap.py).
            with paused("loaded a model"):
                return self._load(name, info)

    def _load(self, name: str, info: Any) -> Any:
        """(Under the lock.) Read model `name` from disk, making room for it under the budget."""
        from diffusers import DiffusionPipeline

        quiet_torchvision_fallback()
        log.info("Loading model '%s' (%s) on %s", name, info.pipeline, self.device)
        where = self._where(info.path)
        note("info", f"Loading model '{name}' ({info.pipeline}) from {where} on {self.device}")
        if self.device == "cpu":
            note("warning", "No GPU is available: the model runs on the CPU, which is many times slower.",
                 once=True)
        began = time.monotonic()
        pipe = DiffusionPipeline.from_pretrained(info.path, local_files_only=True, **dtype_argument(self._dtype()))
        if hasattr(pipe, "safety_checker") and getattr(pipe, "safety_checker", None) is not None:
            pipe.safety_checker = None
            note("info", "The model's safety checker is switched off (the studio does not use it).")
        pipe.set_progress_bar_config(disable=True)
        self.loads += 1
        size = _bytes_of(pipe)
        budget = self._budget()
        while self.bases and sum(_bytes_of(p) for p in self.bases.values()) + size > budget:
            evicted, old = self.bases.popitem(last=False)
            log.info("Unloading model '%s' to make room", evicted)
            del old
            self.offloaded.discard(evicted)
            settle("unloaded a model", thaw=True)  # what only cycles kept (frozen since it loaded) goes now
            self._empty()
        if self.device != "cpu":
            if size > budget:
                pipe.enable_model_cpu_offload()  # too big to live on the GPU whole: parts move in turn
                self.offloaded.add(name)
                note("warning", f"The model ({size / 2**30:.1f} GiB) is larger than the GPU memory the studio "
                                f"may use ({budget / 2**30:.1f} GiB): its parts move to the GPU in turn, "
                                "which is slower.")
            else:
                pipe.to(self.device)
        self.bases[name] = pipe
        note("info", f"Loaded model '{name}' in {since(began)} ({size / 2**20:,.0f} MiB)")
        return pipe

    def _where(self, path: str | Path) -> str:
        """Where a model's folder is, as a task's log says it (never the server's own paths: its owner reads it)."""
        folder = Path(path)
        inside = folder.parent.resolve() == self.registry.root.resolve() and not folder.is_symlink()
        return f"the models folder ({folder.name}/)" if inside else f"a linked folder ({folder.resolve().name}/)"

    def _empty(self) -> None:
        if self.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    def pipeline(self, name: str, purpose: str, controlnets: tuple[Any, ...] = ()) -> Any:
        """This thread's pipeline of `name` for `purpose`, sharing the loaded weights; with `controlnets` (loaded
        ControlNet modules), its ControlNet variant, sharing them as well."""
        base = self.base(name)
        clones: dict[tuple[Any, ...], Any] = getattr(self.local, "clones", None) or {}
        self.local.clones = clones
        key = (name, purpose, id(base), *(id(module) for module in controlnets))
        if key not in clones:
            if controlnets:  # one ControlNet variant per model and purpose at a time: drop the others
                for other in [k for k in clones if k[:3] == key[:3] and len(k) > 3]:
                    del clones[other]
            clones[key] = self._make(base, purpose, controlnets)
        return clones[key]

    def _make(self, base: Any, purpose: str, controlnets: tuple[Any, ...] = ()) -> Any:
        from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting, AutoPipelineForText2Image

        scheduler = base.scheduler.__class__.from_config(base.scheduler.config)  # its own step state
        extra: dict[str, Any] = {"scheduler": scheduler}
        if controlnets:  # several: diffusers wraps the list in a MultiControlNetModel
            extra["controlnet"] = controlnets[0] if len(controlnets) == 1 else list(controlnets)
        try:
            if purpose == "image-to-image":
                pipe = AutoPipelineForImage2Image.from_pipe(base, **extra)
            elif purpose == "inpaint":
                pipe = AutoPipelineForInpainting.from_pipe(base, **extra)
            elif purpose == "text-to-image":
                try:
                    pipe = AutoPipelineForText2Image.from_pipe(base, **extra)
                except Exception:
                    if controlnets:
                        raise
                    pipe = base.__class__(**{**base.components, "scheduler": scheduler})
            else:
                pipe = base.__class__(**{**base.components, "scheduler": scheduler})
        except (ValueError, KeyError) as exc:
            if controlnets:
                raise TaskFailed(f"The model ({type(base).__name__}) takes no ControlNet for {purpose}.",
                                 code="controlnet_mismatch",
                                 hint="Use a Stable Diffusion (1.x, 2.x or XL) model with the ControlNet node."
                                 ) from exc
            raise TaskFailed(f"The model ({type(base).__name__}) cannot do {purpose}.", code="wrong_model",
                             hint="Pick a model of the right kind in the Model node.") from exc
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def preload(self) -> None:
        """Import diffusers and load the default model, so the first job is not slow."""
        default = self.registry.default()
        if default is None:
            return
        try:
            self.base(default.name)
        except Exception:
            log.warning("Could not preload the model '%s'", default.name, exc_info=True)
