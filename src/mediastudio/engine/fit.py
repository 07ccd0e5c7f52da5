"""Planning problems for things made for another base model: a LoRA, a VAE or an IP-Adapter whose base family
(models/bases.py) is not the model's, reported on the node that picks it, so the canvas shows it there and a run
is refused before anything loads. An IP-Adapter that is not installed is a problem too (its node names where its
weights go). What cannot be told ("unknown") is allowed: the run itself still refuses what does not fit.

A node type declares what it picks with `fits_base` (parameter → "loras", "vaes" or "ipadapters"); its model is
the one its `model` input brings, followed up through the nodes that only add to it (LoRA, IP-Adapter), or the
default model when nothing is connected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mediastudio.models.bases import fits, label
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

    def table(self, name: str) -> Mapping[str, str | None]:
        found: Mapping[str, str | None] = getattr(self, name)
        return found


FILES_KEPT_S = 3.0
# data folder → (when listed, its LoRAs, VAEs and IP-Adapters): planning runs on every edit of a scene, and
# listing hundreds of LoRA files (each resolved, to keep to loras/) takes tens of milliseconds; a file added
# shows within FILES_KEPT_S.
_files: dict[Path, tuple[float, tuple[dict[str, str | None], ...]]] = {}
_files_lock = threading.Lock()


def _files_in(registry: ModelRegistry) -> tuple[dict[str, str | None], ...]:
    data = registry.root.parent
    with _files_lock:
        kept = _files.get(data)
    if kept is not None and time.monotonic() - kept[0] < FILES_KEPT_S:
        return kept[1]
    listed = ({i.name: i.family for i in LoraFiles(data).list()},
              {v.name: v.family for v in list_vaes(registry.root)},
              {i.name: i.family for i in IpAdapterFiles(data).list()})
    with _files_lock:
        _files[data] = (time.monotonic(), listed)
    return listed


def installed_in(registry: ModelRegistry, models: list[ModelInfo]) -> Installed:
    """What `registry`'s data folder holds (`models`: its models, listed once for the plan)."""
    pictures = [m for m in models if m.kind in ("text-to-image", "inpaint")]
    default = next(iter(pictures or models), None)
    loras, vaes, ipadapters = _files_in(registry)
    return Installed(models={m.name: m.family for m in models}, default_model=default.name if default else None,
                     loras=loras, vaes=vaes, ipadapters=ipadapters)


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
