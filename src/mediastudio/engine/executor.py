"""Running a plan: topological order, only what the requested outputs need, every output cached.

Keys are structural (type, version, parameters, the keys of the inputs), so before anything runs the
executor knows which nodes are cached; a cached node's ancestors are not even looked at. Progress is
per step over all the steps that will really run; cancel is checked between nodes and at every step.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from mediastudio.engine.cache import NodeCache, node_key
from mediastudio.engine.context import NodeContext
from mediastudio.engine.embed import embedded
from mediastudio.engine.graph import Plan, reached
from mediastudio.errors import TaskFailed
from mediastudio.graph import Graph
from mediastudio.tasks.context import TaskContext

log = logging.getLogger("mediastudio")


def _bypassed(node: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """A bypassed node hands each output the first input of a fitting type (or nothing)."""
    out = {}
    for name, port_type in node.outputs.items():
        for in_name, port in node.inputs.items():
            if port.type == port_type and in_name in inputs:
                out[name] = inputs[in_name]
                break
    return out


class Execution:
    def __init__(self, plan: Plan, task: TaskContext, cache: NodeCache, models: Any, *, graph: Graph,
                 scene_id: str, run_index: int = 0, asset_writer: Any = None, asset_loader: Any = None,
                 force: bool = False) -> None:
        self.plan, self.task, self.cache, self.models = plan, task, cache, models
        self.graph, self.scene_id, self.run_index = graph, scene_id, run_index
        # output node → the part of the graph that made its results, and that part as provenance records it
        self._made_by: dict[str, tuple[Graph, dict[str, Any]]] = {}
        self.blobs = task.blobs
        self.project_id = task.project_id
        self.asset_writer = asset_writer
        self.asset_loader = asset_loader
        self.force = force  # compute every node again (a forced run); results are still stored
        self.keys: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self.facts: dict[str, dict[str, Any]] = {}
        self.states: dict[str, dict[str, Any]] = {}
        self.done_steps = 0
        self.total_steps = 0
        self.ran: list[str] = []
        self.cached: list[str] = []
        self.saved_assets = False  # whether the node running now saved assets (a shot made its takes)

    # -- keys and what must run ---------------------------------------------------------------------
    def compute_keys(self) -> None:
        for node_id in self.plan.order:
            node = self.plan.nodes[node_id]
            inputs = {name: f"{self.keys[link.source]}:{link.source_handle}"
                      for name, link in self.plan.links.get(node_id, {}).items() if link.source in self.keys}
            nonce = ("" if node.deterministic else secrets.token_hex(8)) + node.cache_salt(self.run_index)
            bypass = self.plan.raw[node_id].bypass
            # An output node's result names assets of one project: another project must make its own.
            scope = f"project:{self.project_id}" if node.output_node else ""
            self.keys[node_id] = node_key(node.type_id, node.version, node.model_dump(mode="json"), inputs,
                                          nonce + ("bypass" if bypass else "") + scope)

    def to_run(self) -> tuple[list[str], list[str]]:
        """(nodes to run, nodes to load from the cache), each in topological order."""
        run, load = set(), set()
        position = {n: i for i, n in enumerate(self.plan.order)}

        def need(node_id: str) -> None:
            if node_id in run or node_id in load:
                return
            node = self.plan.nodes[node_id]
            if node.deterministic and not self.force and self.cache.has(self.keys[node_id]):
                load.add(node_id)
                return
            run.add(node_id)
            for link in self.plan.links.get(node_id, {}).values():
                need(link.source)

        for target in self.plan.targets:
            need(target)
        return sorted(run, key=position.__getitem__), sorted(load, key=position.__getitem__)

    # -- running ------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.compute_keys()
        run, load = self.to_run()
        steps = {n: (1 if self.plan.raw[n].bypass else max(1, self.plan.nodes[n].steps())) for n in run}
        self.total_steps = sum(steps.values())
        for node_id in self.plan.order:
            if node_id in run:
                self.states[node_id] = {"state": "waiting"}
            elif node_id in load:
                self.states[node_id] = {"state": "cached"}
        for node_id in load:
            self.cached.append(node_id)
            self._preview(node_id)
        self._report(f"{len(run)} node(s) to run, {len(load)} from the cache", force=True)
        try:
            for number, node_id in enumerate(run, 1):
                self.task.check_cancelled()
                self.saved_assets = False
                self._run_node(node_id, steps[node_id])
                if self.saved_assets and number < len(run):
                    # A shot's takes are kept as soon as it finishes (with the cached rows that name them, so a
                    # run a crash interrupts later does not make them twice); the last one's are recorded with
                    # the outcome, in its transaction.
                    self.cache.rows_with(self.task)
                    self.task.record_made()
        except BaseException:
            # Failed or cancelled: the nodes it never reached say so, rather than waiting for ever.
            for state in self.states.values():
                if state.get("state") == "waiting":
                    state.update({"state": "skipped"})
            raise
        finally:
            self.cache.rows_with(self.task)  # what was computed stays cached, also when a later node failed
        self._report("Finished", force=True)
        return {"ran": self.ran, "cached": self.cached, "nodes": self.states,
                "outputs": {n: self.cache.stored(self.keys[n]) for n in self.plan.targets}}

    def _inputs(self, node_id: str) -> dict[str, Any]:
        inputs = {}
        for name, link in self.plan.links.get(node_id, {}).items():
            values = self._values(link.source)
            if link.source_handle in values:
                value = values[link.source_handle]
                port = self.plan.nodes[node_id].inputs[name]
                source_type = self.plan.nodes[link.source].outputs.get(link.source_handle)
                inputs[name] = _convert(value, source_type, port.type)
        return inputs

    def _values(self, node_id: str) -> dict[str, Any]:
        if node_id not in self.values:
            node = self.plan.nodes[node_id]
            stored = self.cache.get(self.keys[node_id], dict(node.outputs))
            if stored is None:
                raise TaskFailed(f"The cached result of '{self._title(node_id)}' disappeared.", code="cache",
                                 hint="Run again; it will be computed anew.")
            self.values[node_id] = stored
            self.facts.setdefault(node_id, self._stored_facts(node_id))
        return self.values[node_id]

    def _stored_facts(self, node_id: str) -> dict[str, Any]:
        stored = self.cache.stored(self.keys[node_id]) or {}
        return dict(stored.get("$facts") or {}) if isinstance(stored.get("$facts"), dict) else {}

    def _title(self, node_id: str) -> str:
        raw = self.plan.raw.get(node_id)
        return raw.title if raw is not None else node_id

    def _run_node(self, node_id: str, steps: int) -> None:
        node = self.plan.nodes[node_id]
        inputs = self._inputs(node_id)
        ctx = NodeContext(self, node_id, self._title(node_id), steps)
        self.task.measure_anew()  # a node's steps (and its model load) cost what its own do
        self.states[node_id] = {"state": "running", "step": 0, "total": steps}
        self._report(f"Running '{ctx.title}'")
        started = time.monotonic()
        try:
            outputs = _bypassed(node, inputs) if self.plan.raw[node_id].bypass else node.run(inputs, ctx)
        except TaskFailed as exc:
            self.states[node_id] = {"state": "error", "error": exc.message}
            self._report(f"'{ctx.title}' failed", force=True)
            raise TaskFailed(f"'{ctx.title}': {exc.message}", code=exc.code, hint=exc.hint) from exc
        except Exception as exc:
            from mediastudio.errors import Cancelled, MediastudioError

            if isinstance(exc, Cancelled):
                self.states[node_id] = {"state": "cancelled"}
                raise
            if isinstance(exc, MediastudioError):  # refused, with what to do (a quota, a right): no bug to log
                said, failure = as_refusal(ctx.title, exc)
                self.states[node_id] = {"state": "error", "error": said}
                self._report(f"'{ctx.title}' failed", force=True)
                raise failure from exc
            log.exception("Node %s (%s) failed", node_id, node.type_id)
            self.states[node_id] = {"state": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
            self._report(f"'{ctx.title}' failed", force=True)
            if out_of_memory(exc):
                raise TaskFailed(f"'{ctx.title}' ran out of memory on {ctx.device}.", code="out_of_memory",
                                 hint="Lower the size (width and height), the batch or the number of frames, or "
                                      "pick a smaller model; stop other work on the GPU, then run it again.") from exc
            raise TaskFailed(f"'{ctx.title}' failed: {type(exc).__name__}: {exc}"[:500], code="node_failed",
                             hint="Check its parameters and inputs; the server log has the details.") from exc
        self.facts[node_id] = {**self.upstream_facts(node_id), **ctx.facts}
        self.values[node_id] = outputs
        encoded = self.cache.put(self.keys[node_id], node.type_id, outputs, dict(node.outputs))
        if self.facts[node_id]:
            self.cache.add_facts(self.keys[node_id], _jsonable(self.facts[node_id]))
        self.done_steps += steps - min(steps, self.states[node_id].get("step", 0))
        self.done_steps = min(self.done_steps, self.total_steps)
        self.states[node_id] = {"state": "done", "seconds": round(time.monotonic() - started, 3)}
        self._preview(node_id, encoded)
        self.ran.append(node_id)
        self._report(f"Finished '{ctx.title}'")

    def _preview(self, node_id: str, encoded: dict[str, Any] | None = None) -> None:
        stored = encoded if encoded is not None else self.cache.stored(self.keys[node_id]) or {}
        for value in stored.values():
            if isinstance(value, dict) and ("$image" in value or "$images" in value):
                sha = value.get("$image") or (value.get("$images") or [None])[0]
                if sha:
                    self.states[node_id]["preview"] = sha
                    return

    def node_progress(self, ctx: NodeContext, step: int, total: int, preview: str | None = None,
                      phase: str | None = None) -> None:
        state = self.states.setdefault(ctx.node_id, {})
        previous = state.get("step", 0)
        scaled = round(step * ctx.total_steps / total) if total else 0
        state.update({"state": "running", "step": scaled, "total": ctx.total_steps})
        if phase:
            state["phase"] = phase
        if preview:
            state["live"] = preview  # travels in the progress events; the finished state replaces it
        self.done_steps += max(0, scaled - previous)
        self._report(f"'{ctx.title}': {phase + ', ' if phase else ''}step {step} of {total}")

    def _report(self, message: str, force: bool = False) -> None:
        self.task.detail = {"nodes": self.states, "scene_id": self.scene_id}
        self.task.progress(min(self.done_steps, self.total_steps), self.total_steps, message, force=force)

    # -- provenance ---------------------------------------------------------------------------------
    def upstream_facts(self, node_id: str) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        seen: set[str] = set()

        def visit(current: str) -> None:
            for link in self.plan.links.get(current, {}).values():
                if link.source in seen:
                    continue
                seen.add(link.source)
                visit(link.source)
                merged.update(self.facts.get(link.source) or self._facts_if_cached(link.source))

        visit(node_id)
        return merged

    def _facts_if_cached(self, node_id: str) -> dict[str, Any]:
        if node_id in self.keys and node_id not in self.facts:
            self.facts[node_id] = self._stored_facts(node_id)
        return self.facts.get(node_id, {})

    def load_asset_image(self, asset_id: str) -> Any:
        if self.asset_loader is None:
            raise TaskFailed("Pictures can only be loaded from assets inside a project.", code="no_project")
        return self.asset_loader(asset_id, "image")

    def load_asset_video(self, asset_id: str) -> Any:
        """The file of a video asset of the project (a Path)."""
        if self.asset_loader is None:
            raise TaskFailed("Clips can only be loaded from assets inside a project.", code="no_project")
        return self.asset_loader(asset_id, "video")

    def create_assets(self, ctx: NodeContext, items: list[tuple[str, bytes, dict[str, Any]]],
                      tags: list[str]) -> list[str]:
        if self.asset_writer is None:
            raise TaskFailed("Results can only be saved as assets inside a project.", code="no_project")
        self.saved_assets = True
        facts = _jsonable(self.upstream_facts(ctx.node_id))
        part, dumped = self.made_by(ctx.node_id)
        provenance = {"graph": dumped, "scene_id": self.scene_id, "node_id": ctx.node_id,
                      "task_id": self.task.task_id, **facts}
        items = [(name, embedded(data, part, ctx.node_id, facts), extra) for name, data, extra in items]
        node_id = ctx.node_id

        def refused(message: str) -> None:  # when the results are checked, with the outcome: the node that met it
            self.states[node_id] = {"state": "error", "error": message}

        return list(self.asset_writer(items, provenance, tags, refused=refused, title=ctx.title))

    def made_by(self, node_id: str) -> tuple[Graph, dict[str, Any]]:
        """The part of the run's graph that made `node_id`'s results (the node and every node it needs: what the
        picture carries, and all that regenerating or comparing it reads), and its dump: the graph their
        provenance records, which then grows with the shot, not with every shot the run computes."""
        known = self._made_by.get(node_id)
        if known is None:
            links = self.plan.links
            part = self.graph.part(reached([node_id], lambda n: [link.source for link in links.get(n, {}).values()]))
            known = self._made_by[node_id] = (part, part.model_dump())
        return known


def as_refusal(title: str, exc: Exception) -> tuple[str, TaskFailed]:
    """A refusal node `title` met (a `MediastudioError`: a quota, a right; or a `TaskFailed`, which keeps its code):
    what its card says, and the run's failure, with the refusal's hint."""
    said = exc.message if isinstance(exc, TaskFailed) else str(getattr(exc, "detail", exc))
    code = exc.code if isinstance(exc, TaskFailed) else "refused"
    return said[:300], TaskFailed(f"'{title}': {said}"[:500], code=code, hint=getattr(exc, "hint", None))


def _convert(value: Any, source_type: str | None, target_type: str) -> Any:
    if source_type == target_type or source_type is None:
        return value
    if target_type == "images" and source_type == "image":
        return [value]
    if target_type == "mask" and source_type == "image":
        return value.convert("L")
    if target_type == "image" and source_type == "mask":
        return value.convert("RGB")
    if target_type == "float":
        return float(value)
    if target_type in ("int", "seed"):
        return int(value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def out_of_memory(exc: BaseException) -> bool:
    """torch's CUDA/MPS out-of-memory errors (their classes differ between versions and devices; the words do not)."""
    text = f"{type(exc).__name__}: {exc}".lower()
    return "outofmemoryerror" in text or "out of memory" in text or "cannot allocate memory" in text
