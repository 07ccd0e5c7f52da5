"""Samplers (diffusers schedulers) a diffusion node may pick instead of its model's own, with their sigma options.

The names are the ones people know from other studios (Euler a, DPM++ 2M Karras…); each maps to a diffusers
scheduler class built from the model's own scheduler config, so its noise schedule (betas, prediction type) stays.
A sampler fits a model when that class is among the compatibles of the model's scheduler: a flow-matching model
(SD3, Flux) has none, and keeps its own.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic.json_schema import JsonDict

from mediastudio.errors import TaskFailed

SamplerName = Literal["default", "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_sde_single", "dpm2",
                      "dpm2_a", "ddim", "ddpm", "pndm", "unipc", "deis", "heun", "lms", "lcm"]
SigmasName = Literal["default", "karras", "exponential", "beta"]


@dataclass(frozen=True)
class Sampler:
    label: str  # as other studios call it
    scheduler: str  # the diffusers class
    config: dict[str, Any] = field(default_factory=dict)  # on top of the model's scheduler config
    needs: str = ""  # a Python package it cannot run without


SAMPLERS: dict[str, Sampler] = {
    "euler": Sampler("Euler", "EulerDiscreteScheduler"),
    "euler_a": Sampler("Euler a", "EulerAncestralDiscreteScheduler"),
    "dpmpp_2m": Sampler("DPM++ 2M", "DPMSolverMultistepScheduler",
                        {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "dpmpp_2m_sde": Sampler("DPM++ 2M SDE", "DPMSolverMultistepScheduler",
                            {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    "dpmpp_sde_single": Sampler("DPM++ SDE (single step)", "DPMSolverSinglestepScheduler",
                                {"algorithm_type": "dpmsolver++"}),
    "dpm2": Sampler("DPM2", "KDPM2DiscreteScheduler"),
    "dpm2_a": Sampler("DPM2 a", "KDPM2AncestralDiscreteScheduler"),
    "ddim": Sampler("DDIM", "DDIMScheduler"),
    "ddpm": Sampler("DDPM", "DDPMScheduler"),
    "pndm": Sampler("PNDM", "PNDMScheduler", {"skip_prk_steps": True}),
    "unipc": Sampler("UniPC", "UniPCMultistepScheduler"),
    "deis": Sampler("DEIS", "DEISMultistepScheduler"),
    "heun": Sampler("Heun", "HeunDiscreteScheduler"),
    "lms": Sampler("LMS", "LMSDiscreteScheduler", needs="scipy"),
    "lcm": Sampler("LCM", "LCMScheduler"),
}
SAMPLER_LABELS: JsonDict = {"default": "Default (the model's own)", **{key: s.label for key, s in SAMPLERS.items()}}
SIGMAS_LABELS: JsonDict = {"default": "Default (as the model says)", "karras": "Karras", "exponential": "Exponential",
                 "beta": "Beta"}
SIGMA_FLAGS = {"karras": "use_karras_sigmas", "exponential": "use_exponential_sigmas", "beta": "use_beta_sigmas"}

SAMPLER_HELP = ("The sampler (diffusers scheduler) that removes the noise: 'default' keeps the model's own. "
                "Euler and DPM++ 2M suit most models; Euler a and the SDE ones add fresh noise each step (more "
                "variety); LCM only for LCM models or with an LCM LoRA (4–8 steps, guidance 1–2)")
SIGMAS_HELP = ("The noise levels of the steps: 'default' as the model's config says; Karras (fewer steps look "
               "finished), exponential or beta where the sampler supports them (not DDIM, DDPM, PNDM, Euler a, LCM)")


def _fits(model_scheduler: Any, wanted: str) -> bool:
    names = {c.__name__ for c in getattr(model_scheduler, "compatibles", [])} | {type(model_scheduler).__name__}
    if wanted == "LCMScheduler":  # LCM keeps Stable Diffusion's betas: it fits the same family
        return "DDIMScheduler" in names
    return wanted in names


def make_scheduler(model_scheduler: Any, sampler: str, sigmas: str) -> Any:
    """A fresh scheduler for one run: `sampler` (a key of SAMPLERS, or "default": the model's own class) built from
    the model's scheduler config, with `sigmas`; TaskFailed (a sentence and a hint) when it does not fit."""
    import diffusers

    own = type(model_scheduler)
    chosen = SAMPLERS.get(sampler)
    if sampler != "default" and chosen is None:
        raise TaskFailed(f"'{sampler}' is not a sampler this studio knows.", code="bad_sampler",
                         hint=f"Pick one of: default, {', '.join(SAMPLERS)}.")
    if chosen is not None and not _fits(model_scheduler, chosen.scheduler):
        raise TaskFailed(f"The sampler {chosen.label} does not fit this model (its scheduler is {own.__name__}).",
                         code="bad_sampler", hint="Keep 'default' for this model.")
    if chosen is not None and chosen.needs and importlib.util.find_spec(chosen.needs) is None:
        raise TaskFailed(f"The sampler {chosen.label} needs the Python package {chosen.needs}, which is not "
                         "installed.", code="bad_sampler", hint=f"pip install {chosen.needs}, or pick another one.")
    cls = own if chosen is None else getattr(diffusers, chosen.scheduler)
    extra = dict(chosen.config) if chosen else {}
    if sigmas != "default":
        flag = SIGMA_FLAGS[sigmas]
        if flag not in inspect.signature(cls.__init__).parameters:
            label = chosen.label if chosen else f"The model's own sampler ({own.__name__})"
            raise TaskFailed(f"{label} has no {sigmas} sigmas.", code="bad_sampler",
                             hint="Pick Euler, DPM++ 2M, Heun, UniPC or DEIS for them, or keep 'default' sigmas.")
        if sigmas == "beta" and importlib.util.find_spec("scipy") is None:
            raise TaskFailed("Beta sigmas need the Python package scipy, which is not installed.",
                             code="bad_sampler", hint="pip install scipy, or pick Karras or exponential.")
        extra.update({other: False for other in SIGMA_FLAGS.values()} | {flag: True})
    return _fresh(cls, model_scheduler.config, extra)



def use_scheduler(pipe: Any, scheduler: Any) -> None:
    """`pipe.scheduler = scheduler`. diffusers' pipeline writes each component it is given into its config anew
    (~0.15 ms a run on a small CPU), where only the scheduler's class is kept: one of the class already there
    takes its place without that."""
    if type(getattr(pipe, "scheduler", None)) is type(scheduler) and "scheduler" in vars(pipe):
        object.__setattr__(pipe, "scheduler", scheduler)
    else:
        pipe.scheduler = scheduler

# A scheduler as `from_config` makes it, by class, config and options: each run gets a deep copy of it (its own
# timesteps and step counter) for a tenth of what building it again costs (~1 ms a run on a small CPU).
_PRISTINE: dict[str, Any] = {}
_PRISTINE_MAX = 64
_PRISTINE_LOCK = threading.Lock()


def _fresh(cls: Any, config: Any, extra: dict[str, Any]) -> Any:
    key = json.dumps([cls.__module__, cls.__qualname__, dict(config), extra], sort_keys=True, default=repr)
    with _PRISTINE_LOCK:
        pristine = _PRISTINE.get(key)
        if pristine is None:
            if len(_PRISTINE) >= _PRISTINE_MAX:
                _PRISTINE.clear()
            pristine = _PRISTINE[key] = cls.from_config(config, **extra)
    return copy.deepcopy(pristine, _shared(pristine))


def _shared(pristine: Any) -> dict[int, Any]:
    """What the copies of a pristine scheduler share with it, as a `deepcopy` memo: its tensors (betas, alphas,
    sigmas: a scheduler reassigns them when it sets its timesteps, never changes them in place) and its frozen
    config. Copying those was nine tenths of a copy (~0.2 ms a run); its lists (a multistep sampler's last
    outputs, changed in place step by step) and plain values are still each run's own."""
    import torch
    from diffusers.configuration_utils import FrozenDict

    return {id(value): value for value in vars(pristine).values() if isinstance(value, torch.Tensor | FrozenDict)}


def describe_scheduler(scheduler: Any, sampler: str, sigmas: str) -> dict[str, Any]:
    """What the provenance records of the sampler a picture was made with."""
    config = getattr(scheduler, "config", {})
    used = next((name for name, flag in SIGMA_FLAGS.items() if config.get(flag)), "default")
    return {"sampler": sampler, "sigmas": used if sigmas == "default" else sigmas,
            "scheduler": type(scheduler).__name__}
