"""The `scene.run` task: a snapshot of a scene's graph executed on the GPU lane; results become assets."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future
from functools import cache
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Integer, bindparam, cast, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from mediastudio.auth.tables import User
from mediastudio.common import new_id
from mediastudio.db import Prepared, loaded
from mediastudio.engine.executor import Execution, as_refusal
from mediastudio.engine.graph import GraphInvalid
from mediastudio.engine.service import Engine
from mediastudio.engine.takes import record_takes
from mediastudio.errors import MediastudioError, TaskFailed
from mediastudio.graph import Graph
from mediastudio.media.assets import NewAssets, asset_file, clean_filename, prepare_assets
from mediastudio.media.leftovers import discard_new_blobs
from mediastudio.media.probe import PictureTooLarge, Probe, open_picture, probe
from mediastudio.projects.access import ProjectRow
from mediastudio.projects.service import commit
from mediastudio.projects.tables import Asset, Project
from mediastudio.storage.sniff import sniff
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.kinds import KindRegistry


class RunParams(BaseModel):
    scene_id: str
    scene_name: str = ""
    outputs: list[str] | None = Field(None, description="Node ids to compute; default: every shot output")
    graph: Graph = Field(description="The part of the scene's graph the run computes (its outputs and every node "
                         "they need), as the live document held it when the run was asked for")
    force: bool = Field(False, description="Compute everything again (ignore cached outputs)")
    run_index: int = Field(0, ge=0, description="How many runs of this scene succeeded before (increment seeds)")
    steps_hint: int = Field(1, ge=0, description="Denoising steps to run (for the ETA)")
    batch: tuple[int, int] | None = Field(None, description="This run's place in a batch: (n, of)")


def _title(p: RunParams) -> str:
    what = f"{len(p.outputs)} node(s) of " if p.outputs else ""
    place = f" ({p.batch[0]} of {p.batch[1]})" if p.batch else ""
    return f"Run {what}'{p.scene_name or p.scene_id}'{place}"


def register(kinds: KindRegistry, engine: Engine) -> None:
    """`scene.run`, run by `engine` (one per process: its caches and loaded pipelines are shared by every run)."""
    kinds.add("scene.run", lambda ctx, params: run_scene(engine, ctx, params), lane="gpu", params=RunParams,
              title=_title, size=lambda p: float(max(1, p.steps_hint)), needs="run", shared=True,
              queued_only_params=frozenset({"graph"}), takes_model=True)


def run_scene(engine: Engine, ctx: TaskContext, params: RunParams) -> dict[str, Any]:
    """The run's graph as the task's params read it (validated once, from the task's row)."""
    engine.import_libraries()
    try:
        run_plan = engine.plan(params.graph, params.outputs)
    except GraphInvalid as exc:
        first = exc.issues[0]
        raise TaskFailed(f"The graph changed and cannot run: {first.message}", code="invalid_graph",
                         hint="Fix what the canvas marks and run again.") from exc
    execution = Execution(run_plan, ctx, engine.cache, engine.pipelines, graph=params.graph,
                          scene_id=params.scene_id, run_index=params.run_index, asset_writer=_asset_writer(ctx),
                          asset_loader=lambda asset_id, media: _load_asset(ctx, asset_id, media), force=params.force)
    outcome = execution.run()
    assets = [a for n in run_plan.targets for a in _asset_ids(execution, n)]
    return {"scene_id": params.scene_id, "ran": outcome["ran"], "cached": outcome["cached"], "assets": assets,
            "outputs": outcome["outputs"]}


def _asset_ids(execution: Execution, node_id: str) -> list[str]:
    values = execution.values.get(node_id) or {}
    text = values.get("assets")
    if not text:
        stored = execution.cache.stored(execution.keys.get(node_id, "")) or {}
        text = stored.get("assets")
    return [a for a in str(text or "").split(",") if a]


def _load_asset(ctx: TaskContext, asset_id: str, media: str) -> Any:
    """An asset of the run's project: a picture (PIL) for media "image", the clip's file (a Path) for "video"."""
    with ctx.db.session() as db:
        asset = db.get(Asset, asset_id)
    what = "picture" if media == "image" else "video clip"
    if asset is None or asset.project_id != ctx.project_id or asset.trashed_at is not None:
        raise TaskFailed(f"The asset '{asset_id}' is not in this project (or is in its trash).", code="missing_asset",
                         hint=f"Pick another {what} for the node.")
    if not asset.mime.startswith(f"{media}/"):
        raise TaskFailed(f"'{asset.name}' is not a {what}.", code="wrong_asset", hint=f"Pick a {media} asset.")
    if media == "video":
        return ctx.blobs.path(asset.sha256)
    try:  # checked from the header before decoding: an imported project's pictures never passed an upload
        picture = open_picture(ctx.blobs.path(asset.sha256), ctx.settings.max_image_pixels)
    except PictureTooLarge as exc:
        raise TaskFailed(exc.detail, code="too_large", hint=f"Pick a smaller picture than '{asset.name}'.") from None
    with picture as image:
        image.load()
        return image.convert("RGB") if image.mode not in ("RGB", "RGBA", "L") else image.copy()


def _commit(ctx: TaskContext, message: str, asset_ids: list[str]) -> None:
    """The results' files join the project's pending changes (durable at once in its journal, committed with
    the other changes of the commit window: a batch makes one commit, not one per picture). The owner and the
    project read as plain rows (loading their ORM objects was a fifth of this follow-up's CPU, on every run)."""
    with ctx.db.transaction() as db:
        users = _user().rows(db, {"user_id": ctx.owner_id})
        projects = _project_row().tuples(db, {"project_id": ctx.project_id})
        if users and projects:
            owner, project = loaded(User, users[0]), ProjectRow(*projects[0])
            commit(db, ctx.settings, project, owner, message, kind="generate",
                   deferred=[asset_file(ctx.settings, project, a) for a in asset_ids], refresh="none")


@cache
def _project_row() -> Prepared:
    """The run's project as a `ProjectRow` (what `commit` needs of it with `refresh="none"`), prepared once."""
    return Prepared(core_select(col(Project.id), col(Project.workspace_id), col(Project.name), col(Project.trashed_at),
                                col(Project.contributors)).where(col(Project.id) == bindparam("project_id")))


def numbered(db: Session, project_id: str, shot: str, name: str) -> str:
    """`name` (made by shot `shot`) with the shot's next take in the project: 'Hero · seed 7 · sd-tiny.png'
    becomes 'Hero · seed 7 · sd-tiny · #3.png' when two takes of 'Hero' exist, whatever their seeds and models
    (trashed ones count: a take is never given twice)."""
    stem, dot, extension = name.rpartition(".")
    stem, extension = (stem, dot + extension) if stem else (name, "")
    # The names that begin with '<shot> · ', as a range of the project's names: read from the (project, name)
    # index. (A LIKE, case-insensitive in SQLite, read every asset of the project; the take pattern below is
    # case-sensitive anyway.) '!' is the character after the separator's last, a space.
    start = f"{shot} · "
    span = {"project_id": project_id, "start": start, "end": start[:-1] + "!"}
    take = re.compile(re.escape(shot) + r"(?: · seed \d+)?(?: · [^#]+)? · #(\d+)\.[^.]+")
    # The names with the highest numbers first, sorted by SQLite (the number after the first '#' following the
    # shot's name: a take's, since neither its seed nor its model holds a '#'); the pattern picks the takes among
    # them. Reading and matching every name of the range in Python cost ~2.5 µs a take on every run (0.63 ms at
    # 240 takes of a shot, 0.14 now; SQLite still visits the range: 1.5 ms at 1,000 takes, 0.97 now). Only when
    # none of these is a take are all the names read, as before.
    names = [name for (name,) in _highest_takes().tuples(db, {**span, "after": len(start) + 1})]
    takes = [int(m.group(1)) for n in names if (m := take.fullmatch(n))]
    if not takes and len(names) == TAKE_CANDIDATES:
        takes = [int(m.group(1)) for (n,) in _takes_named().tuples(db, span) if (m := take.fullmatch(n))]
    return f"{stem} · #{max(takes, default=0) + 1}{extension}"


TAKE_CANDIDATES = 16  # names read by `numbered`, highest numbers first


@cache
def _user() -> Prepared:
    """The run's owner, read when its results are saved (prepared once: `Prepared`, made as if loaded: `loaded`)."""
    return Prepared(select(User).where(col(User.id) == bindparam("user_id")))


@cache
def _highest_takes() -> Prepared:
    """The `TAKE_CANDIDATES` names of `numbered`'s range with the highest numbers, prepared once."""
    rest = func.substr(col(Asset.name), bindparam("after"))  # the name after '<shot> · '
    number = cast(func.substr(rest, func.instr(rest, "#") + 1), Integer)
    return Prepared(select(Asset.name).where(col(Asset.project_id) == bindparam("project_id"),
                                             col(Asset.name) >= bindparam("start"), col(Asset.name) < bindparam("end"))
                    .order_by(number.desc()).limit(TAKE_CANDIDATES))


@cache
def _takes_named() -> Prepared:
    """`numbered`'s range of names, prepared once (bound when it runs: `Prepared`)."""
    return Prepared(select(Asset.name).where(col(Asset.project_id) == bindparam("project_id"),
                                             col(Asset.name) >= bindparam("start"), col(Asset.name) < bindparam("end")))


class _Results:
    """A run's results as assets of its project, recorded with the run's outcome: stored as blobs and given ids when
    the shot makes them; checked (the owner's rights and storage quota), numbered, their files written and their
    rows recorded in the outcome's transaction, or at once when later nodes of the run still have to run
    (`TaskContext.record_made`: a stop or a crash later in the run keeps them). Those of a shot a stop or a crash
    interrupts are not recorded. The check ran at the shot, in a transaction of its own, before: ~0.9 ms of a
    small CPU on every run's way, for what the outcome's transaction reads anyway a moment later."""

    def __init__(self, ctx: TaskContext, files: list[tuple[str, str, Any, Probe, int]], ids: list[str],
                 shots: list[str | None], created: list[tuple[str, int]], provenance: dict[str, Any],
                 tags: list[str], refused: Callable[[str], None] | None = None, title: str = "Shot"):
        self.ctx, self.files_made, self.ids, self.shots, self.created = ctx, files, ids, shots, created
        self.provenance, self.tags, self.refused, self.title = provenance, tags, refused, title
        self.new: NewAssets | None = None  # once checked
        self.writing: list[Future[None]] = []  # the asset files on their way to the disk

    def files(self, db: Session) -> None:
        self.new = new = self._checked(db)
        for meta, shot in zip(new.metas, self.shots, strict=True):
            if shot:
                meta["name"] = numbered(db, str(self.ctx.project_id), shot, meta["name"])
        # Their fsyncs run while the rows and the outcome are written (`settle` waits for them, before the commit).
        new.write_files_soon(self.writing)

    def _checked(self, db: Session) -> NewAssets:
        """The results as the owner may add them; TaskFailed (the shot's, a sentence and what to do) when they may
        not: their account is gone, their rights or their storage quota (nothing of them is recorded)."""
        found = _user().rows(db, {"user_id": self.ctx.owner_id})
        owner = loaded(User, found[0]) if found else None
        try:
            if owner is None:
                raise TaskFailed("The account that started this run is gone.", code="no_owner")
            return prepare_assets(db, self.ctx.settings, owner, str(self.ctx.project_id), self.files_made,
                                  category="generated", tags=self.tags, provenance=self.provenance, ids=self.ids)
        except (TaskFailed, MediastudioError) as exc:  # refused: a person can act on it, no bug to log
            said, failure = as_refusal(self.title, exc)
            if self.refused is not None:
                self.refused(said)
            raise failure from exc

    def rows(self, db: Session) -> None:
        new = self.new
        assert new is not None, "files() first"
        new.announce(db, new.record(db))
        record_takes(db, str(self.ctx.project_id), new.metas)  # the shots' take strips list them at once
        names = [meta["name"] for meta in new.metas]
        label = f"'{names[0]}'" if len(names) == 1 else f"{len(names)} results"
        # They join the project's pending commit once the outcome is announced.
        self.ctx.afterwards.append(lambda: _commit(self.ctx, f"Generated {label}", new.ids))

    def settle(self) -> None:
        """The files are durable before the rows that name them commit (waited for after the outcome's statements,
        which run meanwhile)."""
        self._settle()

    def _settle(self, quiet: bool = False) -> None:
        """Wait for every file on its way (raising the first failure, unless `quiet`)."""
        writing, self.writing = self.writing, []
        failure = None
        for future in writing:
            try:
                future.result()
            except Exception as exc:
                failure = failure or exc
        if failure is not None and not quiet:
            raise failure

    def drop(self) -> None:
        self._settle(quiet=True)  # none lands after it is removed
        if self.new is not None:  # checked: its files may have been written
            for path in (asset_file(self.ctx.settings, self.new.project, a) for a in self.new.ids):
                path.unlink(missing_ok=True)
        discard_new_blobs(self.ctx.db, self.ctx.blobs, self.created)


def _probed(ctx: TaskContext, sha: str, sniffed: Any, size: Any) -> Probe:
    """The result's dimensions: a picture the run holds gives its own size (this run encoded the PNG from it, so
    it decodes); anything else, or a picture over the pixel limit, is probed from its blob as an upload is."""
    if sniffed.category == "image" and isinstance(size, tuple) and len(size) == 2 \
            and all(isinstance(side, int) and side > 0 for side in size) \
            and size[0] * size[1] <= ctx.settings.max_image_pixels:
        return Probe(width=size[0], height=size[1])
    return probe(ctx.blobs.path(sha), sniffed.category, sniffed.mime, max_pixels=ctx.settings.max_image_pixels)


def _asset_writer(ctx: TaskContext) -> Any:
    def write(items: list[tuple[str, bytes, dict[str, Any]]], provenance: dict[str, Any], tags: list[str], *,
              refused: Callable[[str], None] | None = None, title: str = "Shot") -> list[str]:
        """Store the results' bytes as blobs and give them ids; they are checked and recorded with the outcome
        (`_Results`). `refused`: told what refused them, if anything does; `title`: the shot's, for the message."""
        files, created, shots = [], [], []
        try:
            for name, data, extra in items:
                shot = extra.get("shot")
                shots.append(clean_filename(shot, shot) if isinstance(shot, str) else None)
                sha, new = ctx.blobs.store_bytes(data)
                created += [(sha, new)] if new is not None else []
                sniffed = sniff(data[:4096])
                files.append((clean_filename(name, f"result.{sniffed.extension}"), sha, sniffed,
                              _probed(ctx, sha, sniffed, extra.get("size")), len(data)))
        except BaseException:
            discard_new_blobs(ctx.db, ctx.blobs, created)
            raise
        ids = [new_id("as") for _ in files]
        ctx.with_outcome(_Results(ctx, files, ids, shots, created, provenance, tags, refused, title))
        return ids

    return write
