"""Task kinds for tests and benchmarks: a task that sleeps step by step, and can fail or crash at a chosen step.

They are not part of the studio. A test server loads them with `MEDIASTUDIO_EXTRA_TASK_KINDS` naming this
module (`ENV` below holds that and a PYTHONPATH that finds it); the studio calls `register(kinds)`.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from mediastudio.errors import TaskFailed
from mediastudio.tasks.context import TaskContext
from mediastudio.tasks.kinds import KindRegistry
from mediastudio.tasks.tables import Task

HERE = Path(__file__).resolve().parent
# Settings for a studio (or worker) process that offers these kinds.
ENV = {"MEDIASTUDIO_EXTRA_TASK_KINDS": json.dumps(["kinds_for_tests"]),
       "PYTHONPATH": os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)}


class SleepParams(BaseModel):
    steps: int = Field(10, ge=0, le=100_000)
    step_seconds: float = Field(0.1, ge=0, le=60)
    fail_at: int | None = Field(None, ge=0, description="Fail with a message at this step")
    crash_at: int | None = Field(None, ge=0, description="Raise an unexpected error at this step")
    write_output: bool = Field(False, description="Write a partial output file at each step (scratch)")
    label: str = Field("", max_length=80)
    load_seconds: float = Field(0, ge=0, le=60, description="A slow start before the first step (a model load)")
    deaf: bool = Field(False, description="Steps that do not look at the cancel token (a long CPU step)")
    say: list[str] = Field(default_factory=list, max_length=10, description="Lines for the task's log, at the start")
    say_times: int = Field(0, ge=0, le=5000, description="Log this many numbered lines at the start")
    library_warning: str = Field("", max_length=200, description="At each step: a library's logging warning and a "
                                                                 "Python warning with this text (and the step)")


def _sleep(ctx: TaskContext, params: dict[str, Any]) -> dict[str, Any]:
    steps = params["steps"]
    out = ctx.scratch / "output.txt"
    if params.get("asked_seconds_ago"):
        with ctx.db.transaction() as db:
            row = db.get(Task, ctx.task_id)
            assert row is not None
            row.created_at = row.created_at - timedelta(seconds=params["asked_seconds_ago"])
    ctx.progress(0, steps, "Working")
    for line in params["say"]:
        ctx.log("info", line)
    for number in range(params["say_times"]):
        ctx.log("info", f"line {number}")
    if params["load_seconds"]:
        ctx.sleep(params["load_seconds"])
    for step in range(steps):
        if params["fail_at"] == step:
            raise TaskFailed(f"Asked to fail at step {step}.", code="test_failure", hint="It is a test task.")
        if params["crash_at"] == step:
            raise RuntimeError(f"crash at step {step}")
        if params["deaf"]:
            time.sleep(params["step_seconds"])
            ctx.check_cancelled()  # between steps, as the engine does
        else:
            ctx.sleep(params["step_seconds"])
        if params["library_warning"]:
            logging.getLogger("diffusers.pipelines.for_tests").warning("%s (step %d)", params["library_warning"], step)
            warnings.warn(f"{params['library_warning']} (warned at step {step})", UserWarning, stacklevel=1)
        if params["write_output"]:
            with out.open("a") as f:
                f.write(f"step {step}\n")
        ctx.progress(step + 1, steps)
    ctx.check_cancelled()
    return {"steps": steps, "label": params["label"]} | (ctx.publish_result_file(out) if params["write_output"] else {})


def _sleep_title(p: SleepParams) -> str:
    return p.label or f"Test task ({p.steps} steps)"


class ProjectSleepParams(SleepParams):
    kind: Literal["project"] = "project"
    asked_seconds_ago: float = Field(0, ge=0, le=3600, description="Recorded as asked for this long before it "
                                     "started, as if it had waited in the queue so long (a client's 'long task' "
                                     "rule, met without the wait)")


def register(kinds: KindRegistry) -> None:
    for name, lane in (("test.sleep", "gpu"), ("test.sleep_cpu", "cpu")):
        kinds.add(name, _sleep, lane=lane, params=SleepParams, size=lambda p: float(p.steps), title=_sleep_title,
                  needs="none", project=False)
    kinds.add("test.project_sleep", _sleep, lane="gpu", params=ProjectSleepParams, size=lambda p: float(p.steps),
              title=_sleep_title, needs="view", project=True)
