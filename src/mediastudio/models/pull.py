"""Pulling a model from the Hugging Face hub into data_dir/models/<name> (a task; also `models pull`)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from mediastudio.errors import TaskFailed
from mediastudio.models.advice import offline_hint
from mediastudio.models.registry import ModelRegistry
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.kinds import KindRegistry


class PullParams(BaseModel):
    repo: str = Field(min_length=3, max_length=200, pattern=r"^[\w.-]+/[\w.-]+$",
                      description="A Hugging Face repo id, e.g. stabilityai/sd-turbo")
    name: str | None = Field(None, description="Name in this studio (default: the repo's name)")
    revision: str | None = Field(None, max_length=100)


def pull(registry: ModelRegistry, repo: str, name: str | None, revision: str | None,
         progress: Callable[[int, int, str], None], check: Callable[[], None] = lambda: None) -> str:
    from huggingface_hub import snapshot_download
    from tqdm.auto import tqdm

    name = registry.check_name(name or repo.split("/")[-1])
    partial = registry.root / f".partial-{name}"
    registry.root.mkdir(parents=True, exist_ok=True)

    class Reporter(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = False
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            check()
            shown = super().update(n)
            progress(int(self.n), int(self.total or 0), f"Downloading {repo}: file {int(self.n)} of "
                                                        f"{int(self.total or 0)}")
            return shown

    try:
        snapshot_download(repo_id=repo, revision=revision, local_dir=str(partial), tqdm_class=Reporter,
                          allow_patterns=["*.json", "*.txt", "*.safetensors", "*.model", "tokenizer*/*",
                                          "*/*.json", "*/*.safetensors", "*/*.txt", "*/*.model"])
    except Exception as exc:
        shutil.rmtree(partial, ignore_errors=True)
        text = f"{type(exc).__name__}: {exc}"
        hint = offline_hint(repo, name)
        if any(w in text for w in ("Connection", "resolve", "Offline", "offline", "Timeout", "Network", "LocalEntry")):
            raise TaskFailed("This machine cannot reach huggingface.co, so the model cannot be downloaded here.",
                             code="offline", hint=hint) from exc
        if "404" in text or "RepositoryNotFound" in text or "Revision" in text:
            raise TaskFailed(f"There is no model '{repo}' on huggingface.co (or it needs a login).",
                             code="not_found", hint="Check the repo id on huggingface.co.") from exc
        raise TaskFailed(f"The download of {repo} failed: {text[:300]}", code="download_failed",
                         hint=hint) from exc
    if not (partial / "model_index.json").is_file():
        shutil.rmtree(partial, ignore_errors=True)
        raise TaskFailed(f"{repo} is not a diffusers pipeline (it has no model_index.json).", code="not_diffusers",
                         hint="Pick a repo in diffusers format.")
    partial.rename(registry.root / name)
    return name


def register(kinds: KindRegistry) -> None:
    kinds.add("models.pull", pull_task, lane="cpu", params=PullParams, needs="admin", project=False,
              title=lambda p: f"Download model {p.repo}")


def pull_task(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    registry = ModelRegistry(ctx.settings.data_dir)
    name = pull(registry, params["repo"], params["name"], params["revision"],
                lambda step, total, message: ctx.progress(step, max(total, 1), message), ctx.check_cancelled)
    return {"model": name}
