"""The benchmark runner's verdicts: a quick run fails only on a >3× regression against the baseline of its mode,
compared on the ratio to the run's own anchor where there is one (the machine's speed cancels out), never on an
absolute time."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pytest
from benchmarks.harness import Measure, regressions, report, start_wait_s, table, worst_of

from support import start_server


def _run(*measures: Measure) -> dict:
    return report(list(measures), quick=True, errors={})


def test_a_slower_machine_is_no_regression_when_the_anchor_slowed_down_as_much() -> None:
    before = _run(Measure("api", "health p95", 2.0, "ms", "lower", anchor=1.0, anchor_name="bare"))
    slower_machine = _run(Measure("api", "health p95", 10.0, "ms", "lower", anchor=5.0, anchor_name="bare"))
    assert regressions(slower_machine, before) == []


def test_ours_getting_more_than_three_times_worse_than_its_anchor_is_a_regression() -> None:
    before = _run(Measure("api", "health p95", 2.0, "ms", "lower", anchor=1.0, anchor_name="bare"),
                  Measure("api", "health req/s", 900.0, "req/s", "higher", anchor=9000.0, anchor_name="bare"),
                  Measure("api", "scene p95", 4.0, "ms", "lower", anchor=1.0, anchor_name="bare"))
    now = _run(Measure("api", "health p95", 5.8, "ms", "lower", anchor=1.0, anchor_name="bare"),  # 2.9×: not yet
               Measure("api", "health req/s", 200.0, "req/s", "higher", anchor=9000.0, anchor_name="bare"),  # 4.5×
               Measure("api", "scene p95", 13.0, "ms", "lower", anchor=1.0, anchor_name="bare"))  # 3.25×
    assert [line.split(":")[0] for line in regressions(now, before)] == ["api/health req/s", "api/scene p95"]


def test_without_an_anchor_the_value_itself_is_compared_and_new_measures_are_not_judged() -> None:
    before = _run(Measure("uploads", "RSS growth", 10.0, "MiB", "lower"))
    now = _run(Measure("uploads", "RSS growth", 40.0, "MiB", "lower"), Measure("uploads", "new", 1.0, "s", "lower"))
    assert [line.split(":")[0] for line in regressions(now, before)] == ["uploads/RSS growth"]


def test_the_table_shows_target_anchor_ratio_and_a_plain_miss() -> None:
    text = table([Measure("api", "health req/s", 1200.0, "req/s", "higher", target="≥ 5,000 req/s", passed=False,
                          anchor=12000.0, anchor_name="bare Litestar")])
    assert "| api | health req/s | ≥ 5,000 req/s | 1,200 req/s | 12,000 req/s (bare Litestar) | 0.10× | **MISS** |" \
        in text


def test_a_baseline_of_several_runs_keeps_each_measures_worst() -> None:
    quiet = _run(Measure("api", "p95", 2.0, "ms", "lower", anchor=1.0, anchor_name="bare"),
                 Measure("api", "req/s", 900.0, "req/s", "higher", anchor=9000.0, anchor_name="bare"))
    busy = _run(Measure("api", "p95", 6.0, "ms", "lower", anchor=2.0, anchor_name="bare"),
                Measure("api", "req/s", 500.0, "req/s", "higher", anchor=2500.0, anchor_name="bare"))
    baseline = worst_of([quiet, busy])
    assert {m["name"]: m["value"] for m in baseline["measures"]} == {"p95": 6.0, "req/s": 900.0}
    # A run like the busy one is no regression against it; one 3.5× worse than the worst still is.
    assert regressions(busy, baseline) == []
    assert regressions(_run(Measure("api", "p95", 10.5, "ms", "lower", anchor=1.0, anchor_name="bare")), baseline)


def test_a_ratio_is_never_held_against_a_value() -> None:
    """The bare page dropped no frame in the baseline's run (anchor 0: no ratio, its value was kept) and a few in
    this one: the two runs are compared on their values, not this run's ratio against the baseline's value."""
    before = _run(Measure("ui", "dropped frames", 4.37, "%", "lower", anchor=0.0, anchor_name="bare page"))
    now = _run(Measure("ui", "dropped frames", 5.67, "%", "lower", anchor=0.28, anchor_name="bare page"))
    assert regressions(now, before) == []
    much_worse = _run(Measure("ui", "dropped frames", 40.0, "%", "lower", anchor=0.28, anchor_name="bare page"))
    assert [line.split(":")[0] for line in regressions(much_worse, before)] == ["ui/dropped frames"]
    assert worst_of([before, now])["measures"][0]["value"] == 5.67  # type: ignore[index]


def test_the_wait_for_a_server_to_start_grows_with_the_load_on_each_core_and_is_bounded() -> None:
    assert start_wait_s(load=0.3, cores=2) == 30.0  # an idle machine: the usual 30 s
    assert start_wait_s(load=24.0, cores=2) == 300.0  # 12 runnable per core: 12 × 30 s, at most 300 s
    assert start_wait_s(load=10.0, cores=2) == 150.0
    assert start_wait_s(load=10.0, cores=16) == 30.0


def test_a_server_not_ready_in_time_is_stopped_and_the_error_says_what_it_got_to(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as refused:
        start_server(tmp_path, start_timeout=0.3)  # no studio is up a third of a second after its start
    said = str(refused.value)
    assert said.startswith("server had not said it was running within 0 s (load average "), said
    assert "s of CPU); gave up and killed it. Its log:" in said
