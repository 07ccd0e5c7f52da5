"""The engine of one process: node registry, output cache, model registry and loaded pipelines (built once
by the app's composition, shared by every run of that process)."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import OrderedDict
from functools import cache
from typing import Any

from litestar.di import NamedDependency
from sqlalchemy import Connection, bindparam, literal_column, or_, text
from sqlmodel import col, func, select

from mediastudio.db import Database, Prepared
from mediastudio.engine.cache import NodeCache
from mediastudio.engine.fit import installed_in
from mediastudio.engine.graph import Plan, plan
from mediastudio.engine.registry import NodeRegistry, build_node_registry
from mediastudio.graph import Graph
from mediastudio.models.controlnets import controlnet_problem
from mediastudio.models.pipelines import PipelineCache
from mediastudio.models.registry import ModelInfo, ModelRegistry
from mediastudio.settings import Settings
from mediastudio.storage.blobs import BlobStore
from mediastudio.system.heap import paused
from mediastudio.tasks.tables import Task

log = logging.getLogger("mediastudio")
PLAN_KEPT_S = 1.0  # a plan given again for the same graph object (`Engine.plan`)
PLANS_KEPT = 16


class Engine:
    def __init__(self, settings: Settings, db: Database, blobs: BlobStore, models: ModelRegistry) -> None:
        self.settings, self.db, self.blobs, self.models = settings, db, blobs, models
        budget = settings.vram_budget_mb * 1024 * 1024 if settings.vram_budget_mb else None
        self.pipelines = PipelineCache(self.models, budget)
        self.cache = NodeCache(db, blobs)
        self.nodes: NodeRegistry = build_node_registry()
        self._imported = False
        self._import_lock = threading.Lock()
        # (id of a graph, outputs, whole) → (the graph, weakly; when planned; the models then; the plan): `plan`
        self._plans: OrderedDict[tuple[int, tuple[str, ...] | None, bool],
                                 tuple[weakref.ref[Graph], float, list[ModelInfo], Plan]] = OrderedDict()
        self._plans_lock = threading.Lock()

    def import_libraries(self) -> None:
        """torch and diffusers, imported by the first run that needs them with the collector paused: the import
        makes ~300,000 objects that live as long as the process, and each full collection meanwhile walked them
        all (five pauses of 50–160 ms in a first run on a small CPU); then they are frozen (system/heap.py)."""
        if self._imported:
            return
        with self._import_lock:
            if self._imported:
                return
            with paused("imported torch and diffusers"):
                import diffusers
                import torch

                del torch, diffusers
            self._imported = True

    def preload(self) -> None:
        """Load the default model on a thread of its own (imports diffusers), so the first run is not slow."""
        if self.models.default() is not None:
            threading.Thread(target=self.pipelines.preload, name="mediastudio-preload", daemon=True).start()

    def plan(self, graph: Graph, outputs: list[str] | None = None, *, whole: bool = False) -> Plan:
        """The plan of `graph` (GraphInvalid when it cannot run). The plan of this very graph object, made within
        `PLAN_KEPT_S` with the same installed models, is given again: a run's request plans the graph it records
        and its run here plans the same object a moment later (handed over with its params: `Runner.hand`), ~0.3 ms
        on every run's way to the GPU. Nothing it depends on is older than that: the models and the files
        beside them are listed at most `LISTING_KEPT_S` / `FILES_KEPT_S` apart anyway. A plan is read, never
        changed, by whoever gets it."""
        models = self.models.list(sized=False)
        key = (id(graph), None if outputs is None else tuple(outputs), whole)
        now = time.monotonic()
        with self._plans_lock:
            kept = self._plans.get(key)
        if kept is not None and kept[0]() is graph and now - kept[1] < PLAN_KEPT_S and kept[2] == models:
            return kept[3]
        made = plan(graph, self.nodes, outputs, {m.name: m.kind for m in models}, whole=whole,
                    installed=installed_in(self.models, models),
                    controlnet_fit=lambda model, folder: controlnet_problem(self.models, model, folder))
        self._keep(key, graph, now, models, made)
        return made

    def plan_part(self, graph: Graph, outputs: list[str] | None = None) -> tuple[Plan, Graph]:
        """The plan of a run of `outputs` (default: every shot output) of `graph`, and the part of the graph it
        computes: the nodes it needs, the edges between them and their groups (`Graph.part`). A run records that
        part, not the whole scene: what its row, its events and its results' provenance hold, and what each of
        them costs, then grows with the run, not with the scene around it (one shot of a 400-node scene cost
        ~12 ms more per run than one of a 5-node scene). The plan is that of the part (the same nodes, links
        and order: everything a node needs is in it), kept for the run to be given again (`plan`)."""
        models = self.models.list(sized=False)
        made = self.plan(graph, outputs)
        part = graph.part(made.order)
        if part is graph:
            return made, graph
        parted = Plan(order=made.order, nodes={n: made.nodes[n] for n in made.order if n in made.nodes},
                      raw={n: made.raw[n] for n in made.order},
                      links={n: made.links[n] for n in made.order if n in made.links},
                      targets=made.targets, issues=made.issues)
        self._keep((id(part), None if outputs is None else tuple(outputs), False), part, time.monotonic(), models,
                   parted)
        return parted, part

    def _keep(self, key: tuple[int, tuple[str, ...] | None, bool], graph: Graph, now: float,
              models: list[ModelInfo], made: Plan) -> None:
        with self._plans_lock:
            self._plans[key] = (weakref.ref(graph), now, models, made)
            while len(self._plans) > PLANS_KEPT:
                self._plans.popitem(last=False)

    def steps(self, run_plan: Plan) -> int:
        return sum(max(1, run_plan.nodes[n].steps()) for n in run_plan.order if n in run_plan.nodes)

    @staticmethod
    def run_index(db: Any, scene_id: str) -> int:
        """How many runs of the scene came before: succeeded ones and those still waiting or running (so runs
        queued one after another, or as a batch, get different seeds in 'increment' mode). Counted in `db`, the
        transaction that records the new run, on `RUNS_OF_SCENE` (the scene's runs only, not every task)."""
        if db.new:  # runs added and not flushed count too (as the session's autoflush made them before)
            db.flush()
        return int(_runs_of_scene().tuples(db, {"scene_id": scene_id})[0][0])


RUNS_OF_SCENE = "ix_tasks_scene_runs"  # (scene, kind, status, created_at): a scene's runs, by status, newest last


@cache
def _runs_of_scene() -> Prepared:
    """`run_index`'s count, prepared once (the scene bound when it runs: `Prepared`, on every run's request; the
    statuses as ORs, which SQLite reads as the IN they are)."""
    status = col(Task.status)
    return Prepared(select(func.count()).select_from(Task).where(
        scene_of_task() == bindparam("scene_id"), col(Task.kind) == "scene.run",
        or_(*(status == name for name in ("succeeded", "queued", "running", "interrupted")))))


def scene_of_task() -> Any:
    """The scene a task runs, written exactly as `RUNS_OF_SCENE` indexes it (SQLite uses an index on an
    expression only for the same expression, its path a literal)."""
    return func.json_extract(col(Task.params), literal_column("'$.scene_id'"))


def add_missing_indexes(conn: Connection) -> None:
    """The index `run_index` counts on and a scene's runs are listed from (`engine/runs.py:scene_runs`, in order of
    creation within a status), for every database, new or older."""
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tasks'")).first():
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {RUNS_OF_SCENE} "
                          "ON tasks (json_extract(params, '$.scene_id'), kind, status, created_at)"))
        conn.execute(text("DROP INDEX IF EXISTS ix_tasks_runs_of_scene"))  # the same without created_at


EngineDep = NamedDependency[Engine]
