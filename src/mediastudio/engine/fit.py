"""Planning problems for things made for another base model: a LoRA, a VAE or an IP-Adapter whose base family
(models/bases.py) is not the model's, reported on the node that picks it, so the canvas shows it there and a run
is refused before anything loads. An IP-Adapter that is not installed is a problem too (its node names where its
weights go), and so is a helper model a node's choice needs that is not there: the Control image node's depth and
pose preprocessors (its node names the folder to add). What cannot be told ("unknown") is allowed: the run itself
still refuses what does not fit.

A node type declares what it picks with `fits_base` (parameter → "loras", "vaes" or "ipadapters"); its model is
the one its `model` input brings, followed up through the nodes that only add to it (LoRA, IP-Adapter), or the
default model when nothing is connected. A node type declares the helper models its choices need with
`needs_installed` (parameter → {value → "depth_models" or "pose_models"}).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mediastudio.models.bases import fits, label
from mediastudio.models.controlnets import DEPTH_HINT, POSE_HINT, list_depth_models, list_pose_models
from mediastudio.models.ipadapters import IpAdapterFiles
from mediastudio.models.loras import LoraFiles
from mediastudio.models.registry import ModelInfo, ModelRegistry
from mediastudio.models.vaes import list_vaes

if TYPE_CHECKING:
    from mediastudio.engine.graph import Issue, Link
    from mediastudio.engine.registry import NodeType
    from mediastudio.graph import GraphNode

BASE_MISMATCH = "base_mismatch"
NOT_INSTALLED = "not_installed"
WHAT = {"loras": "LoRA", "vaes": "VAE", "ipadapters": "IP-Adapter"}
WHERE = {"ipadapters": "Put IP-Adapter weights in the data folder's ipadapters/ (e.g. models/ip-adapter_sd15"
                       ".safetensors with its image encoder in models/image_encoder/ beside it)."}


@dataclass
class Installed:
    """What the data folder holds, each by name → its base family (None: cannot be told)."""

    models: Mapping[str, str | None] = field(default_factory=dict)
    default_model: str | None = None
    loras: Mapping[str, str | None] = field(default_factory=dict)
    vaes: Mapping[str, str | None] = field(default_factory=dict)
    ipadapters: Mapping[str, str | None] = field(default_factory=dict)
    depth_models: tuple[str, ...] = ()  # the helper models of the Control image node, by folder name
    pose_models: tuple[str, ...] = ()

    def table(self, name: str) -> Mapping[str, str | None]:
        found: Mapping[str, str | None] = getattr(self, name)
        return found


FILES_KEPT_S = 3.0
# data folder → (when listed, its LoRAs, VAEs, IP-Adapters, depth and pose models): planning runs on every edit of
# a scene, and listing hundreds of LoRA files (each resolved, to keep to loras/) takes tens of milliseconds; a file
# added shows within FILES_KEPT_S.
_files: dict[Path, tuple[float, Listed]] = {}
_files_lock = threading.Lock()


Listed = tuple[dict[str, str | None], dict[str, str | None], dict[str, str | None], tuple[str, ...], tuple[str, ...]]


def _files_in(registry: ModelRegistry) -> Listed:
    data = registry.root.parent
    with _files_lock:
        kept = _files.get(data)
    if kept is not None and time.monotonic() - kept[0] < FILES_KEPT_S:
        return kept[1]
    listed = ({i.name: i.family for i in LoraFiles(data).list()},
              {v.name: v.family for v in list_vaes(registry.root)},
              {i.name: i.family for i in IpAdapterFiles(data).list()},
              tuple(f.name for f in list_depth_models(registry.root)),
              tuple(f.name for f in list_pose_models(registry.root)))
    with _files_lock:
        _files[data] = (time.monotonic(), listed)
    return listed


def installed_in(registry: ModelRegistry, models: list[ModelInfo]) -> Installed:
    """What `registry`'s data folder holds (`models`: its models, listed once for the plan)."""
    pictures = [m for m in models if m.kind in ("text-to-image", "inpaint")]
    default = next(iter(pictures or models), None)
    loras, vaes, ipadapters, depth_models, pose_models = _files_in(registry)
    return Installed(models={m.name: m.family for m in models}, default_model=default.name if default else None,
                     loras=loras, vaes=vaes, ipadapters=ipadapters, depth_models=depth_models,
                     pose_models=pose_models)


def _model_of(node_id: str, parsed: Mapping[str, NodeType], links: Mapping[str, Mapping[str, Link]],
              installed: Installed) -> str | None:
    """The model a node's `model` input brings: up the chain to the node that picks one (a Model node)."""
    seen = {node_id}
    current = node_id
    while True:
        link = links.get(current, {}).get("model")
        if link is None:
            return installed.default_model
        picked = getattr(parsed.get(link.source), "model", None)
        if isinstance(picked, str):
            return picked or installed.default_model
        if link.source in seen:
            return None
        seen.add(link.source)
        current = link.source


def base_issues(parsed: Mapping[str, NodeType], links: Mapping[str, Mapping[str, Link]],
                raw_nodes: Mapping[str, GraphNode], installed: Installed) -> list[Issue]:
    from mediastudio.engine.graph import Issue

    issues = []
    for node_id, instance in parsed.items():
        picks: dict[str, str] = getattr(type(instance), "fits_base", {})
        if not picks or raw_nodes[node_id].bypass:
            continue
        model = _model_of(node_id, parsed, links, installed)
        ours = installed.models.get(model) if model else None
        for param, table in picks.items():
            chosen = getattr(instance, param, "")
            known = installed.table(table)
            if not chosen and table == "ipadapters" and not known:
                issues.append(Issue(node_id, f"'{raw_nodes[node_id].title}': no IP-Adapter is installed. "
                                             f"{WHERE[table]}", field=param, code=NOT_INSTALLED))
            elif not chosen and table == "ipadapters":
                some = ", ".join(sorted(known)[:5])
                issues.append(Issue(node_id, f"'{raw_nodes[node_id].title}': pick an IP-Adapter (installed: {some}).",
                                    field=param))
            elif chosen and table in WHERE and chosen not in known:
                issues.append(Issue(node_id, f"'{raw_nodes[node_id].title}': no {WHAT[table]} '{chosen}' is "
                                             f"installed. {WHERE[table]}", field=param, code=NOT_INSTALLED))
            elif chosen and chosen in known and not fits(known[chosen], ours):
                title = raw_nodes[node_id].title
                issues.append(Issue(node_id, f"This {WHAT[table]} ('{chosen}', on '{title}') is for "
                                             f"{label(known[chosen])}; the model '{model}' is {label(ours)}.",
                                    field=param, code=BASE_MISMATCH))
    return issues


# what each helper model makes, and where to put one (the run's own refusal says the same: models/pipelines.py)
HELPERS = {"depth_models": ("depth model", "depth map", DEPTH_HINT), "pose_models": ("pose model", "pose skeleton",
                                                                                     POSE_HINT)}


def helper_issues(parsed: Mapping[str, NodeType], raw_nodes: Mapping[str, GraphNode],
                  installed: Installed) -> list[Issue]:
    """A problem on each node whose choice needs a helper model (`needs_installed`) that is not installed."""
    from mediastudio.engine.graph import Issue

    issues = []
    for node_id, instance in parsed.items():
        needs: dict[str, dict[str, str]] = getattr(type(instance), "needs_installed", {})
        if not needs or raw_nodes[node_id].bypass:
            continue
        for param, by_value in needs.items():
            table = by_value.get(str(getattr(instance, param, "")))
            if table is None or getattr(installed, table):
                continue
            what, makes, hint = HELPERS[table]
            issues.append(Issue(node_id, f"'{raw_nodes[node_id].title}': no {what} is installed, so no {makes} can "
                                         f"be made. {hint}", field=param, code=NOT_INSTALLED))
    return issues
