"""Compare takes: two to six assets of one project side by side, and the parameters that set them apart.

Each take's parameters are read from its provenance (a file of the project, so read as untrusted): the facts
the run recorded (`seed`, `model`, `prompt`, `sampler.scheduler`, …), the generating node's parameters as it ran
(`<node title>.steps`), and the parameters of the nodes upstream of the shot in the graph snapshot
(`Seed.value`). A parameter that only echoes a difference already listed (the Seed node's value beside the
recorded seed) is folded into it, so the list names each real change once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session

from mediastudio.auth.tables import User
from mediastudio.errors import BadRequest, NotFound, Unprocessable
from mediastudio.media.assets import clip_fps, read_meta
from mediastudio.media.schemas import AssetOut
from mediastudio.projects.access import require
from mediastudio.projects.tables import Asset
from mediastudio.settings import Settings

MIN_TAKES, MAX_TAKES = 2, 6
VALUE_CHARS = 2000  # a value longer than this (a long prompt, a list) is cut, and says so
ONE_ID = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"  # projects/content.py:ID
IDS_PATTERN = rf"^{ONE_ID}(,{ONE_ID}){{{MIN_TAKES - 1},{MAX_TAKES - 1}}}$"
MAX_PATHS = 400  # parameters read per take
MAX_SAME = 200  # parameters listed as the same (their number is always given)
DEPTH = 4  # nested facts are flattened this deep; deeper ones are shown as JSON
# Provenance keys that say where a take comes from rather than how it was made (shown in the summary).
PLACE_KEYS = frozenset({"graph", "scene_id", "node_id", "task_id", "params", "generator_node", "node_type",
                        "source_assets"})
FIRST_FACTS = ("seed", "model", "prompt", "negative_prompt")


class TakeSummary(BaseModel):
    asset: AssetOut
    generated: bool = Field(description="Whether its provenance records a run (uploads have none).")
    seed: int | None = None
    model: str | None = None
    prompt: str | None = None
    generator: str | None = Field(None, description="The title of the node that made it.")
    node_type: str | None = None
    scene_id: str | None = None
    task_id: str | None = None
    params: dict[str, Any] = Field(default_factory=dict, description="The generating node's parameters as it ran.")
    fps: float | None = Field(None, description="A clip's frames per second: from its file, as read when it was "
                                                "added, else as its run recorded it; null where neither says.")


class Difference(BaseModel):
    path: str = Field(description="`seed`, `model`, `sampler.scheduler`, or `<node title>.<parameter>`.")
    values: list[Any] = Field(description="One per take, in the order asked; null where a take has none.")
    also: list[str] = Field(default_factory=list, description="Parameters whose values are these same ones.")


class Sameness(BaseModel):
    path: str
    value: Any


class Comparison(BaseModel):
    project_id: str
    takes: list[TakeSummary]
    differences: list[Difference]
    same: list[Sameness] = Field(description=f"Parameters equal in every take (at most {MAX_SAME}).")
    same_count: int


def parse_ids(raw: str | None) -> list[str]:
    """The ids of `?ids=a,b,c`: 2 to 6 distinct well-formed ids, in their order. The OpenAPI document states
    their form (IDS_PATTERN; a 400 saying what an id is when it does not match); what it cannot state (distinct,
    present) is a 422."""
    if raw is not None and not re.fullmatch(IDS_PATTERN, raw):
        _refuse_the_form(raw)
    ids = list(dict.fromkeys((raw or "").split(","))) if raw else []
    if not MIN_TAKES <= len(ids) <= MAX_TAKES:
        raise Unprocessable(f"Compare takes {MIN_TAKES} to {MAX_TAKES} different assets; {len(ids)} were given.",
                            hint="Pass their ids separated by commas: ?ids=as_one,as_two.", field="ids")
    return ids


def _refuse_the_form(raw: str) -> None:
    """A 400 naming what is wrong with `?ids=`: the first piece that is no asset id, else how many there are."""
    pieces = raw.split(",")
    bad = next((piece for piece in pieces if not re.fullmatch(ONE_ID, piece)), None)
    hint = f"Pass {MIN_TAKES} to {MAX_TAKES} asset ids separated by commas, no spaces: ?ids=as_one,as_two."
    if bad is not None:
        shown = f"'{bad[:64]}…'" if len(bad) > 64 else f"'{bad}'"
        said = "An empty id" if not bad else f"{shown} is not an asset id"
        raise BadRequest(f"{said} in ids: an asset id is 1 to 64 letters, digits, '_' or '-'.", field="ids",
                         hint=hint)
    raise BadRequest(f"Compare takes {MIN_TAKES} to {MAX_TAKES} assets; {len(pieces)} ids were given.", field="ids",
                     hint=hint)


def compare(db: Session, settings: Settings, actor: User, project_id: str, raw_ids: str | None,
            names_of: Callable[[Session, set[str]], dict[str, str]]) -> Comparison:
    """Compare the project's assets `raw_ids` (`a,b,c`; the caller must be able to view the project);
    `names_of` gives the display names of their creators."""
    project, _ = require(db, actor, project_id, "view")  # first: someone who may not see it learns nothing more
    ids = parse_ids(raw_ids)
    rows = []
    for asset_id in ids:
        asset = db.get(Asset, asset_id)
        if asset is None or asset.project_id != project.id:  # another project's asset reads as none at all
            raise NotFound(f"Project '{project_id}' has no asset '{asset_id}'.", field="ids",
                           hint="Takes compared must all be assets of this project.")
        rows.append(asset)
    names = names_of(db, {a.created_by for a in rows})
    metas = [read_meta(settings, project, a.id) for a in rows]
    provenances = [_provenance(meta) for meta in metas]
    takes = [_summary(AssetOut.of(a, names), p, clip_fps(meta))
             for a, meta, p in zip(rows, metas, provenances, strict=True)]
    return _compared(project.id, takes, [_parameters(p) for p in provenances])


def _provenance(meta: dict[str, Any]) -> dict[str, Any]:
    found = meta.get("provenance")
    return found if isinstance(found, dict) else {}


def _text(value: Any) -> str | None:
    return value[:VALUE_CHARS] if isinstance(value, str) else None


def _summary(asset: AssetOut, provenance: dict[str, Any], fps: float | None = None) -> TakeSummary:
    seed = provenance.get("seed")
    params = provenance.get("params")
    return TakeSummary(asset=asset, fps=fps, generated=bool(provenance.get("task_id") or provenance.get("graph")),
                       seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
                       model=_text(provenance.get("model")), prompt=_text(provenance.get("prompt")),
                       generator=_generator_title(provenance), node_type=_text(provenance.get("node_type")),
                       scene_id=_text(provenance.get("scene_id")), task_id=_text(provenance.get("task_id")),
                       params={k[:80]: _bounded(v) for k, v in list(params.items())[:MAX_PATHS]}
                       if isinstance(params, dict) else {})


def _bounded(value: Any) -> Any:
    """A value as the answer carries it: long text cut, nested lists and objects as JSON text when long."""
    if isinstance(value, str):
        return value if len(value) <= VALUE_CHARS else value[:VALUE_CHARS] + "…"
    if isinstance(value, (list, dict)):
        text = json.dumps(value, sort_keys=True, default=str)
        return value if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + "…"
    return value if value is None or isinstance(value, (bool, int, float)) else str(value)[:VALUE_CHARS]


def _flatten(prefix: str, value: Any, into: dict[str, Any], depth: int = 0) -> None:
    if len(into) >= MAX_PATHS:
        return
    if isinstance(value, dict) and value and depth < DEPTH:
        for key, inner in value.items():
            _flatten(f"{prefix}.{str(key)[:80]}" if prefix else str(key)[:80], inner, into, depth + 1)
    else:
        into[prefix] = _bounded(value)


def _nodes(provenance: dict[str, Any]) -> dict[str, dict[str, Any]]:
    graph = provenance.get("graph")
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    return {str(k): v for k, v in nodes.items() if isinstance(v, dict)} if isinstance(nodes, dict) else {}


def _generator_title(provenance: dict[str, Any]) -> str | None:
    generator = provenance.get("generator_node")
    if not isinstance(generator, str):
        return None
    title = _nodes(provenance).get(generator, {}).get("title")
    return (title if isinstance(title, str) and title.strip() else generator)[:80]


def _upstream(provenance: dict[str, Any]) -> list[str]:
    """The ids of the nodes that fed the shot that saved the take, nearest first."""
    graph, start = provenance.get("graph"), provenance.get("node_id")
    edges = graph.get("edges") if isinstance(graph, dict) else None
    if not isinstance(edges, dict) or not isinstance(start, str):
        return []
    sources: dict[str, list[str]] = {}
    for link in edges.values():
        if isinstance(link, dict) and isinstance(link.get("target"), str) and isinstance(link.get("source"), str):
            sources.setdefault(link["target"], []).append(link["source"])
    seen, queue = [start], [start]
    while queue:
        for source in sorted(sources.get(queue.pop(0), [])):
            if source not in seen:
                seen.append(source)
                queue.append(source)
    return seen[1:]


def _titles(nodes: dict[str, dict[str, Any]], ids: list[str]) -> dict[str, str]:
    """Each node's title as a path's first part; titles two nodes share get their node ids beside them."""
    titles = {i: (t.strip()[:80] if isinstance(t := nodes[i].get("title"), str) and t.strip() else i) for i in ids}
    shared = {t for t in titles.values() if list(titles.values()).count(t) > 1}
    return {i: f"{t} ({i})" if t in shared else t for i, t in titles.items()}


def _parameters(provenance: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """A take's parameters by path, and the paths that come from the graph's upstream nodes."""
    found: dict[str, Any] = {}
    for key in sorted(provenance, key=lambda k: (FIRST_FACTS.index(k) if k in FIRST_FACTS else 99, k)):
        if key not in PLACE_KEYS:
            _flatten(str(key)[:80], provenance[key], found)
    nodes = _nodes(provenance)
    upstream = [i for i in _upstream(provenance) if i in nodes]
    titles = _titles(nodes, upstream)
    generator = provenance.get("generator_node")
    ran = provenance.get("params")
    if isinstance(generator, str) and generator in titles and isinstance(ran, dict):
        for key, value in ran.items():  # as it ran, defaults included
            _flatten(f"{titles[generator]}.{str(key)[:80]}", value, found, DEPTH - 1)
    from_graph: set[str] = set()
    for node_id in upstream:
        params = nodes[node_id].get("params")
        if (node_id == generator and isinstance(ran, dict)) or not isinstance(params, dict):
            continue
        for key, value in params.items():
            path = f"{titles[node_id]}.{str(key)[:80]}"
            if path not in found and len(found) < MAX_PATHS:
                found[path] = _bounded(value)
                from_graph.add(path)
    return found, from_graph


def _compared(project_id: str, takes: list[TakeSummary],
              parameters: list[tuple[dict[str, Any], set[str]]]) -> Comparison:
    paths = list(dict.fromkeys(path for found, _ in parameters for path in found))
    from_graph = set.union(*(graph for _, graph in parameters))
    differences: list[Difference] = []
    same: list[Sameness] = []
    same_count = 0
    for path in paths:
        values = [found.get(path) for found, _ in parameters]
        if all((v == values[0] and type(v) is type(values[0])) or _equal_numbers(v, values[0]) for v in values):
            same_count += 1
            if len(same) < MAX_SAME:
                same.append(Sameness(path=path, value=values[0]))
            continue
        echoed = next((d for d in differences if d.values == values), None) if path in from_graph else None
        if echoed is not None:
            echoed.also.append(path)
        else:
            differences.append(Difference(path=path, values=values))
    return Comparison(project_id=project_id, takes=takes, differences=differences, same=same,
                      same_count=same_count)


def _equal_numbers(a: Any, b: Any) -> bool:
    """5 and 5.0 are the same setting; True and 1 are not."""
    numbers = (int, float)
    return (isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool)
            and not isinstance(b, bool) and a == b)
