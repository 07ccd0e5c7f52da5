"""Pulling a model from the Hugging Face hub into data_dir/models/<name> (a task; also `models pull`).

The files go into `data_dir/models/.partial-<name>/`, each through `<file>.part`, and the folder becomes the
model once all are there. The partial folder stays when a download is cancelled, fails or is cut by a restart:
the next pull of the same name (the task run again after a restart, or "Resume") skips every file already
complete and continues a `.part` from its last byte (an HTTP Range request).

Only what diffusers loads is fetched: the pipeline's `model_index.json` and, in each component's folder, its
configs, tokenizer files and default `.safetensors` weights; fp16/ema copies, `.bin`/`.ckpt` duplicates and
single-file checkpoints at the repo's top are left out. The file list and sizes come from the hub's API
(huggingface_hub, which knows the endpoint, `HF_ENDPOINT`, and the token, `HF_TOKEN`); each file is one GET of
its `resolve` URL through huggingface_hub's HTTP session, read as it arrives, so progress is counted in bytes
and a cancel is seen within one network read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from mediastudio.errors import Cancelled, TaskFailed
from mediastudio.models.advice import offline_hint
from mediastudio.models.catalog import ORIGIN
from mediastudio.models.registry import ModelRegistry
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.kinds import KindRegistry

COMPONENT_FILES = re.compile(r"\.(json|txt|safetensors|model)$")
VARIANT = re.compile(r"\.(fp16|fp32|bf16|ema|non_ema|noema)\.[a-z]+$|(^|/)(non_ema|ema)[^/]*$", re.IGNORECASE)
PART = ".part"  # a file being downloaded: <file>.part beside where it goes
# Progress goes out at most this often: the task's ETA is the rate over its last reports (tasks/context.py), so
# reports a network read apart would measure a few milliseconds of traffic; these measure several seconds.
REPORT_EVERY = 0.25
RETRIES = 5  # a connection cut or timed out is asked again from where it stopped, so many times
log = logging.getLogger("mediastudio")
OFFLINE_WORDS = ("Connect", "resolve", "Offline", "offline", "Timeout", "Network", "LocalEntry", "timed out")


class PullParams(BaseModel):
    repo: str = Field(min_length=3, max_length=200, pattern=r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$",
                      description="A Hugging Face repo id, e.g. stabilityai/sd-turbo")
    name: str | None = Field(None, description="Name in this studio (default: the repo's name)")
    revision: str | None = Field(None, max_length=100)
    catalog: str | None = Field(None, max_length=64, description="The catalog entry it is downloaded for")
    base: str | None = Field(None, min_length=3, max_length=200, pattern=r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$",
                             description="For a motion adapter (`repo`): the Stable Diffusion pipeline it goes on; "
                                         "the two make one AnimateDiff folder")
    size_bytes: int | None = Field(None, ge=0, description="About how much it downloads (the ETA before it starts)")


def wanted(path: str) -> bool:
    """A file of the repo that the pipeline loads (see the module's doc)."""
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        return False  # a hub that names a file outside the repo's folder is not followed there
    if len(parts) == 1:
        return path == "model_index.json"
    return bool(COMPONENT_FILES.search(path)) and not VARIANT.search(path) and not path.startswith(".")


def partial_folder(registry: ModelRegistry, name: str) -> Path:
    return registry.root / f".partial-{name}"


def bytes_in(folder: Path) -> int:
    """What a partial folder holds of the model's files (huggingface_hub's own bookkeeping left out). A download
    that ends meanwhile moves the folder away: what is gone counts as nothing (never an error for the caller)."""
    total = 0
    for top, dirs, files in os.walk(folder):  # a folder gone before or while it is listed is skipped
        dirs[:] = [name for name in dirs if name != ".cache"]
        for name in files:
            with contextlib.suppress(OSError):
                found = os.stat(os.path.join(top, name))
                total += found.st_size if stat.S_ISREG(found.st_mode) else 0
    return total


@contextlib.contextmanager
def _only_one(registry: ModelRegistry, name: str) -> Iterator[None]:
    """One download per name at a time, across processes (a lock file beside the partial folder)."""
    registry.root.mkdir(parents=True, exist_ok=True)
    path = registry.root / f".partial-{name}.lock"
    with path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TaskFailed(f"'{name}' is being downloaded already.", code="downloading",
                             hint="Wait for that download, or cancel it first.") from None
        try:
            yield
        finally:
            path.unlink(missing_ok=True)


def free_bytes(folder: Path) -> int:
    """Free space on the disk that holds `folder` (or its nearest existing parent)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def disk_problem(needed: int, free: int, margin: int) -> str | None:
    """None when `needed` bytes fit with `margin` to spare, else the sentence that says what is missing."""
    if free >= needed + margin:
        return None
    return (f"Not enough free disk for this model: it needs {gb(needed)} plus {gb(margin)} to spare, "
            f"and the models folder's disk has {gb(free)} free.")


def gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def pull(registry: ModelRegistry, repo: str, name: str | None, revision: str | None,
         progress: Callable[[int, int, str], None], check: Callable[[], None] = lambda: None, *,
         catalog: str | None = None, margin_bytes: int = 0, base: str | None = None) -> str:
    name = registry.check_name(name or repo.split("/")[-1])
    with _only_one(registry, name):
        return _pull(registry, repo, name, revision, progress, check, catalog, margin_bytes, base)


ADAPTER = "motion_adapter"  # where a motion adapter's files go in an AnimateDiff folder
# What an AnimateDiff folder takes of the Stable Diffusion pipeline under it (no safety checker).
ANIMATEDIFF_PARTS = ("text_encoder", "tokenizer", "unet", "vae", "scheduler")


def _listing(api: Any, repo: str, revision: str | None) -> tuple[str, dict[str, int]]:
    """The repo's commit and its files with their sizes."""
    info = api.model_info(repo, revision=revision, files_metadata=True)
    return str(info.sha or revision or "main"), {s.rfilename: int(s.size or 0) for s in info.siblings or []}


def _animatediff_index(base_index: dict[str, Any]) -> dict[str, Any]:
    """An AnimateDiff pipeline's model_index.json from its Stable Diffusion base's: the base's text encoder,
    tokenizer, UNet, VAE and scheduler, and the motion adapter (diffusers joins the adapter to the UNet)."""
    return {"_class_name": "AnimateDiffPipeline", "_diffusers_version": base_index.get("_diffusers_version", ""),
            **{k: base_index[k] for k in ANIMATEDIFF_PARTS if k in base_index},
            ADAPTER: ["diffusers", "MotionAdapter"], "feature_extractor": [None, None],
            "image_encoder": [None, None]}


def _pull(registry: ModelRegistry, repo: str, name: str, revision: str | None,
          progress: Callable[[int, int, str], None], check: Callable[[], None], catalog: str | None,
          margin_bytes: int, base: str | None = None) -> str:
    from urllib.parse import quote

    from huggingface_hub import HfApi, constants
    from huggingface_hub.utils import build_hf_headers, get_session

    partial = partial_folder(registry, name)
    partial.mkdir(parents=True, exist_ok=True)
    try:
        api = HfApi()  # its endpoint: HF_ENDPOINT, else huggingface.co
        sha, listed = _listing(api, base or repo, None if base else revision)
        # Each file here: (repo, its commit, its path there, its size).
        sources = {path: (base or repo, sha, path, size) for path, size in listed.items() if wanted(path)
                   and not (base and path.split("/")[0] not in ANIMATEDIFF_PARTS and path != "model_index.json")}
        if "model_index.json" not in sources:
            _forget_if_empty(partial)
            raise TaskFailed(f"{base or repo} is not a diffusers pipeline (it has no model_index.json).",
                             code="not_diffusers", hint="Pick a repo in diffusers format.")
        if base:
            adapter_sha, adapter_files = _listing(api, repo, revision)
            sources.update({f"{ADAPTER}/{path}": (repo, adapter_sha, path, size)
                            for path, size in adapter_files.items() if wanted(f"{ADAPTER}/{path}")})
            if f"{ADAPTER}/config.json" not in sources:
                raise TaskFailed(f"{repo} is not a diffusers motion adapter (it has no config.json).",
                                 code="not_diffusers", hint="Pick a MotionAdapter repo in diffusers format.")
        files = {path: source[3] for path, source in sources.items()}
        total = sum(files.values())
        present = sum(_on_disk(partial / path, size) for path, size in files.items())
        problem = disk_problem(total - present, free_bytes(registry.root), margin_bytes)
        if problem:
            raise TaskFailed(problem, code="disk_full", hint="Free some disk, or remove a model you no longer use.")
        done = [present]
        reported = [0.0]
        label = f"Downloading {repo}"

        def count(n: int) -> None:
            done[0] = max(0, min(total, done[0] + n))
            now = time.monotonic()
            if now - reported[0] >= REPORT_EVERY or done[0] == total or n < 0:
                reported[0] = now
                progress(done[0], total, f"{label}: {gb(done[0])} of {gb(total)}")

        progress(present, total, f"{label}: {gb(present)} of {gb(total)}" + (" (resumed)" if present else ""))
        session, headers = get_session(), {**build_hf_headers(), "Accept-Encoding": "identity"}
        for path, size in sorted(files.items(), key=lambda item: (item[1], item[0])):  # configs first
            check()
            source, commit, there, _ = sources[path]
            url = f"{api.endpoint}/{source}/resolve/{quote(commit, safe='')}/{quote(there)}"
            _fetch(session, url, headers, partial / path, size, count, check, constants.HF_HUB_DOWNLOAD_TIMEOUT)
    except (Cancelled, TaskFailed):
        raise
    except Exception as exc:
        _forget_if_empty(partial)
        text = f"{type(exc).__name__}: {exc}"
        hint = offline_hint(repo, name)
        kept = " What was downloaded is kept: pull it again to go on." if partial.exists() else ""
        if any(w in text for w in OFFLINE_WORDS):
            raise TaskFailed("This machine cannot reach huggingface.co, so the model cannot be downloaded here."
                             + kept, code="offline", hint=hint) from exc
        if "401" in text or "403" in text or "Gated" in text:
            raise TaskFailed(f"{repo} needs a Hugging Face login and its licence accepted on huggingface.co.",
                             code="gated", hint="Accept the licence on the model's page, then start the server "
                                                "with HF_TOKEN set to a token of that account.") from exc
        if "404" in text or "RepositoryNotFound" in text or "Revision" in text:
            raise TaskFailed(f"There is no model '{repo}' on huggingface.co (or it needs a login).",
                             code="not_found", hint="Check the repo id on huggingface.co.") from exc
        raise TaskFailed(f"The download of {repo} failed: {text[:300]}{kept}", code="download_failed",
                         hint=hint) from exc
    if base:
        index = partial / "model_index.json"
        index.write_text(json.dumps(_animatediff_index(json.loads(index.read_text())), indent=2))
    (partial / ORIGIN).write_text(json.dumps({"repo": repo, "catalog": catalog or "", "revision": sha,
                                              **({"base": base} if base else {})}))
    partial.rename(registry.root / name)
    return name


def _on_disk(target: Path, size: int) -> int:
    """What is already there of one file: all of it, or the part a stopped download left."""
    if target.is_file() and target.stat().st_size == size:
        return size
    part = target.with_name(target.name + PART)
    return min(part.stat().st_size, size) if part.is_file() else 0


def _fetch(session: Any, url: str, headers: dict[str, str], target: Path, size: int, count: Callable[[int], None],
           check: Callable[[], None], timeout: float) -> None:
    """One file into `target`, through `<target>.part`: a part already there is continued with a Range request
    (a server that answers with the whole file instead starts it over). A connection cut or timed out is asked
    again from where it stopped, RETRIES times; an HTTP error answer is raised at once."""
    if target.is_file() and target.stat().st_size == size:
        return
    part = target.with_name(target.name + PART)
    target.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(RETRIES + 1):
        check()
        have = part.stat().st_size if part.is_file() else 0
        if have > size:  # not a part of this file (the repo changed): start over
            part.unlink()
            count(-size)
            have = 0
        if have == size and part.is_file():
            break
        try:
            with session.stream("GET", url, headers={**headers, **({"Range": f"bytes={have}-"} if have else {})},
                                follow_redirects=True, timeout=timeout) as answer:
                answer.raise_for_status()
                if have and answer.status_code != 206:
                    count(-have)
                    have = 0
                with part.open("ab" if have else "wb") as out:
                    for chunk in answer.iter_bytes():  # what arrived is kept, then a cancel is looked for
                        if have + len(chunk) > size:  # never more than the hub said the file holds
                            raise TaskFailed(f"The hub sent more of {target.name} than its {size} bytes.",
                                             code="download_failed", hint="Try again later.")
                        out.write(chunk)
                        have += len(chunk)
                        count(len(chunk))
                        check()
        except (Cancelled, TaskFailed):
            raise
        except Exception as exc:
            if getattr(exc, "response", None) is not None or attempt == RETRIES:
                raise
            log.info("The download of %s stopped (%s); asking again from byte %d", url, exc,
                     part.stat().st_size if part.is_file() else 0)
            time.sleep(min(2**attempt, 8))
    if not part.is_file() or part.stat().st_size != size:
        raise TaskFailed(f"{target.name} arrived with {part.stat().st_size if part.is_file() else 0} bytes of "
                         f"{size}.", code="download_failed", hint="Try again: what arrived is kept.")
    part.rename(target)


def _forget_if_empty(partial: Path) -> None:
    """A partial folder that holds none of the model's bytes is removed (nothing to resume)."""
    if partial.is_dir() and bytes_in(partial) == 0:
        shutil.rmtree(partial, ignore_errors=True)


def register(kinds: KindRegistry) -> None:
    kinds.add("models.pull", pull_task, lane="cpu", params=PullParams, needs="admin", project=False,
              title=lambda p: f"Download model {p.repo}",
              size=lambda p: max((p.size_bytes or 1e9) / 1e9, 0.001))


def pull_task(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    registry = ModelRegistry(ctx.settings.data_dir)

    def report(done: int, total: int, message: str) -> None:
        ctx.detail = {"bytes_done": done, "bytes_total": total}
        ctx.progress(done, max(total, 1), message)

    name = pull(registry, params["repo"], params["name"], params["revision"], report, ctx.check_cancelled,
                catalog=params.get("catalog"), margin_bytes=ctx.settings.models_disk_margin_bytes,
                base=params.get("base"))
    return {"model": name}
